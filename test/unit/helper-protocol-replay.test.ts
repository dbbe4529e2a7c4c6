// Replays a stream the real helper wrote (test/fixtures/helper/), so the
// decoder is checked against the C side's actual bytes, not only our reading
// of protocol.md.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { HelperStreamDecoder } from '../../src/capture/helper-protocol.js';

it('decodes a recorded helper stream completely and consistently', () => {
  const bytes = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'helper', 'otel-requests-49hz.v1.bin'));
  const decoder = new HelperStreamDecoder();
  const records = decoder.push(bytes);
  expect(decoder.trailingBytes).toBe(0);
  expect(decoder.skipped).toBe(0);
  expect(records[0]).toMatchObject({ type: 'header', version: 1 });
  expect(records[1]).toMatchObject({ type: 'ready', hz: 49, tlsEnabled: true });
  const samples = records.flatMap((r) => (r.type === 'sample' ? [r.sample] : []));
  const lastStats = records.filter((r) => r.type === 'stats').pop();
  // The helper's cumulative count is exactly what the stream carried.
  expect(lastStats).toMatchObject({ samples: samples.length, lost: 0 });
  expect(samples.length).toBeGreaterThan(0);
  expect(new Set(samples.map((s) => s.comm))).toEqual(new Set(['otel-requests']));
  expect(records.some((r) => r.type === 'tls' && r.offset === -8)).toBe(true);
  const tagged = samples.filter((s) => s.traceId);
  expect(tagged.length).toBeGreaterThan(0);
  for (const s of tagged) {
    expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
  }
  for (const s of samples) expect(s.timeMs).toBeGreaterThan(1.6e12); // wall clock, not monotonic
  for (const s of samples) for (const a of s.kernelStack) expect(a >= 0xffff800000000000n).toBe(true);
});
