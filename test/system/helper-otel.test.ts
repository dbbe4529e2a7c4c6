// The OpenTelemetry thread context read in the kernel: a multi-threaded C
// program (test/native/otel-requests.c) publishes otel_thread_ctx_v1 for the
// request each thread runs and logs, as ground truth, which thread ran which
// trace when. Samples must carry the right trace/span ids: precision over
// samples that carry an id, recall over samples taken inside requests.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startHelper } from '../../src/capture/helper-process.js';
import type { RawSample } from '../../src/capture/capture-types.js';
import { buildHelper, buildTarget, skipReason } from './helper-fixtures.js';
import { batchSamples } from '../../src/capture/helper-protocol.js';

interface Request { tid: number; traceId: string; spanId: string; startMs: number; endMs: number }

function readGroundTruth(path: string): { tlsOffset: number; requests: Request[] } {
  let tlsOffset = NaN;
  const requests: Request[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f[0] === 'tls') tlsOffset = Number(f[1]);
    if (f[0] === 'req') {
      requests.push({ tid: Number(f[1]), traceId: f[2], spanId: f[3], startMs: Number(BigInt(f[4]) / 1000n) / 1000, endMs: Number(BigInt(f[5]) / 1000n) / 1000 });
    }
  }
  return { tlsOffset, requests };
}

describe.skipIf(skipReason !== undefined)('OpenTelemetry thread context', () => {
  let program: string;
  beforeAll(() => {
    buildHelper();
    program = buildTarget('otel-requests', ['-O1', '-fno-omit-frame-pointer', '-pthread']);
  });

  it('tags samples with the trace and span of the request the thread was running', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'profctl-otel-')), 'requests.log');
    const child = spawn(program, ['3', '4', log], { stdio: 'ignore' });
    const exited = new Promise((r) => child.on('close', r));
    const tlsSeen = new Map<number, number>();
    const capture = await startHelper({ hz: 199, follow: [child.pid!], onTls: (pid, offset) => tlsSeen.set(pid, offset) });
    const samples: RawSample[] = [];
    const stopper = exited.then(() => capture.stop());
    for await (const batch of capture.samples()) samples.push(...batchSamples(batch));
    await stopper;

    const truth = readGroundTruth(log);
    expect(tlsSeen.get(child.pid!)).toBe(truth.tlsOffset); // user space found the offset the program itself sees
    const byTid = new Map<number, Request[]>();
    for (const r of truth.requests) byTid.set(r.tid, [...(byTid.get(r.tid) ?? []), r]);
    // A sample within 1 ms of a request's edge may honestly fall either side
    // (the log's timestamps are taken just before/after publishing).
    const edge = 1;
    let tagged = 0, correct = 0, inside = 0, insideTagged = 0;
    for (const s of samples.filter((x) => x.pid === child.pid && byTid.has(x.tid))) {
      const reqs = byTid.get(s.tid)!;
      const within = reqs.find((r) => s.timeMs >= r.startMs + edge && s.timeMs <= r.endMs - edge);
      const nearEdge = reqs.some((r) => Math.abs(s.timeMs - r.startMs) < edge || Math.abs(s.timeMs - r.endMs) < edge);
      if (nearEdge && !within) continue;
      if (s.traceId) {
        tagged++;
        const owner = reqs.find((r) => r.traceId === s.traceId);
        if (owner && owner.spanId === s.spanId && s.timeMs >= owner.startMs - edge && s.timeMs <= owner.endMs + edge) correct++;
      }
      if (within) {
        inside++;
        if (s.traceId === within.traceId) insideTagged++;
      }
    }
    const precision = correct / tagged;
    const recall = insideTagged / inside;
    console.log(`otel thread context: ${samples.length} samples, ${tagged} tagged, precision ${(precision * 100).toFixed(2)}%, recall ${(recall * 100).toFixed(2)}% (${insideTagged}/${inside})`);
    expect(inside).toBeGreaterThan(100);
    expect(precision).toBeGreaterThanOrEqual(0.99);
    expect(recall).toBeGreaterThanOrEqual(0.95);
    for (const s of samples) if (s.traceId) expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});
