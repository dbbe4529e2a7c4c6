// The agent's OTLP receiver under a short load with a fuzzer running beside
// it (the minute-long version with RSS tracking is bench/otlp-receiver.mjs):
// a few thousand spans from the real OpenTelemetry JS SDK and protobuf
// exporter must all reach the store, every malformed body must get a 4xx
// (never a 5xx, never a dead agent), and the agent must still accept spans
// and stop cleanly afterwards. Needs root (the agent samples with BPF); in CI
// (root) it must run. No timing assertions.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipReason, buildHelper } from './helper-fixtures.js';
// @ts-expect-error: a plain ESM helper shared with the benchmark
import { startAgent, runSpanLoad, runFuzz, storedSpanIds } from '../../bench/otlp-load.mjs';

describe.skipIf(skipReason !== undefined)('OTLP receiver under load and fuzz (real agent)', () => {
  let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
  afterAll(() => agent?.kill());

  it('stores every delivered span, answers every malformed body with a 4xx, and keeps running', async () => {
    buildHelper();
    const store = mkdtempSync(join(tmpdir(), 'profctl-otlp-load-'));
    agent = await startAgent({ store, flush: '1s' });
    let loadDone = false;
    const fuzz = runFuzz({ url: agent.url, until: () => loadDone, pauseMs: 30 });
    const load = await runSpanLoad({ url: agent.url, spansPerSecond: 1000, seconds: 4 });
    loadDone = true;
    const fuzzed = await fuzz;
    expect(agent.alive()).toBe(true);

    // Every kind of malformed body was tried and refused with a client error.
    expect(fuzzed.replies.size).toBeGreaterThanOrEqual(11);
    for (const [name, statuses] of fuzzed.replies as Map<string, Map<number | string, number>>) {
      for (const status of statuses.keys()) {
        // An oversized body may be cut off mid-upload once the 413 is sent;
        // a bit flip inside a string or number can leave a valid message.
        if (status === 'reset') expect(name).toMatch(/over the size limit|gzip bomb/);
        else if (status === 200) expect(name).toBe('protobuf with flipped bytes');
        else expect(status, name).toBeGreaterThanOrEqual(400);
        if (status !== 'reset') expect(status, name).toBeLessThan(500);
      }
    }
    // A good request after all that still goes through.
    const after = await runSpanLoad({ url: agent.url, spansPerSecond: 200, seconds: 0.5, service: 'otlp-after' });
    expect(after.delivered.size).toBe(after.created.length);

    const exit = await agent.stop();
    expect(exit.code).toBe(0);
    expect(load.created.length).toBe(4000);
    expect(load.failedSpans).toBe(0);
    expect(load.delivered.size).toBe(load.created.length);
    const stored = new Set<string>(await storedSpanIds(store, 'otlp-load'));
    const missing = [...load.delivered].filter((id) => !stored.has(id as string));
    expect(missing.length).toBe(0);
    expect(stored.size).toBe(load.created.length); // and nothing extra (no duplicates, no fuzz debris)
    expect(new Set<string>(await storedSpanIds(store, 'otlp-after')).size).toBe(after.created.length);
  }, 120_000);
});
