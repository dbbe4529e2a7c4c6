// Finding one trace's spans in the store (the span source behind
// `flame --trace-id` and `trace ID`): the store has no index by trace id, so
// the lookup reads back from the newest segment until it is past the
// trace's start. Every span of the trace must come
// back — spans received in different flushes, a child far from its
// siblings, a trace with no root.
import fs from 'node:fs';
import { describe, it, expect, vi } from 'vitest';
import { openStoreWriter } from '../../src/store/index.js';
import { openSpanSource } from '../../src/commands/data-sources.js';
import { selectTraceProfile } from '../../src/commands/trace-selection.js';
import type { Span } from '../../src/spans/model.js';
import { makeProfile, tempStoreDir } from './store-fixtures.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 25, 0, 0, 0);
const WINDOW = 10_000;

function span(traceId: string, spanId: string, startMs: number, endMs: number, parentSpanId?: string): Span {
  return { traceId, spanId, ...(parentSpanId ? { parentSpanId } : {}), name: `op-${spanId.slice(0, 4)}`, service: 'svc', kind: 'internal', startMs, endMs, status: 'ok', pid: 7, tid: 7 };
}

const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');

/** Six hours of 10 s segments; each segment stores the spans that ended in its window (as the agent does). */
function buildStore(traces: Span[][]): string {
  const dir = tempStoreDir();
  const w = openStoreWriter(dir, { durable: false, maxSizeBytes: 1 << 30, retentionMs: 365 * 24 * HOUR });
  const all = traces.flat();
  for (let t = T0; t < T0 + 6 * HOUR; t += WINDOW) {
    const spans = all.filter((s) => s.endMs >= t && s.endMs < t + WINDOW);
    w.appendSegment({ startMs: t, endMs: t + WINDOW, profile: makeProfile(t, 3, t), ...(spans.length ? { spans } : {}) });
  }
  w.close();
  return dir;
}

describe('looking up a trace in the store', () => {
  // A recent trace, an old one whose spans arrived in three flushes, one with
  // no root whose children are 40 s apart, and background traffic.
  const recent = [span('a'.repeat(32), 'a'.repeat(16), T0 + 6 * HOUR - 30_000, T0 + 6 * HOUR - 25_000)];
  const oldRoot = span('b'.repeat(32), '1'.repeat(16), T0 + HOUR, T0 + HOUR + 25_000);
  const old = [oldRoot, span('b'.repeat(32), '2'.repeat(16), T0 + HOUR + 100, T0 + HOUR + 200, oldRoot.spanId), span('b'.repeat(32), '3'.repeat(16), T0 + HOUR + 12_000, T0 + HOUR + 14_000, oldRoot.spanId)];
  // (its spans straddle the first search window's edge: one minute back from the newest segment)
  const edge = T0 + 6 * HOUR - 60_000;
  const rootless = [span('c'.repeat(32), '4'.repeat(16), edge - 30_000, edge - 29_000, 'f'.repeat(16)), span('c'.repeat(32), '5'.repeat(16), edge + 10_000, edge + 11_000, 'f'.repeat(16))];
  // A child sent by a host whose clock is 45 s behind the root's: it ended, by its own clock, before the root began.
  const skewRoot = span('e'.repeat(32), '6'.repeat(16), T0 + 5 * HOUR, T0 + 5 * HOUR + 2000);
  const skewed = [skewRoot, span('e'.repeat(32), '7'.repeat(16), T0 + 5 * HOUR - 45_000, T0 + 5 * HOUR - 44_000, skewRoot.spanId)];
  const background = Array.from({ length: 200 }, (_, i) => span(hex(i + 1, 32), hex(i + 1, 16), T0 + i * 100_000, T0 + i * 100_000 + 500));
  const dir = buildStore([recent, old, rootless, skewed, background]);
  const ids = (spans: Span[]) => spans.map((s) => s.spanId).sort();

  it('finds a recent trace', async () => {
    const source = await openSpanSource({ store: dir });
    expect(ids(await source.trace('a'.repeat(32)))).toEqual(ids(recent));
  });

  it('reads back from the newest segment only as far as the trace began, and a minute more', async () => {
    const source = await openSpanSource({ store: dir });
    const read = vi.spyOn(fs, 'readFileSync');
    try {
      expect(ids(await source.trace('a'.repeat(32)))).toEqual(ids(recent));
      const segments = read.mock.calls.filter((c) => String(c[0]).endsWith('.seg')).length;
      // The trace began 30 s before the newest window ended: 3 windows, 6 more for the minute, not 2,160.
      expect(segments).toBeGreaterThanOrEqual(9);
      expect(segments).toBeLessThanOrEqual(11);
    } finally {
      read.mockRestore();
    }
  });

  it('finds a child whose host clock is behind the root’s', async () => {
    const source = await openSpanSource({ store: dir });
    expect(ids(await source.trace('e'.repeat(32)))).toEqual(ids(skewed));
  });

  it('finds every span of an old trace whose spans arrived in different flushes', async () => {
    const source = await openSpanSource({ store: dir });
    expect(ids(await source.trace('b'.repeat(32)))).toEqual(ids(old));
  });

  it('finds the spans of a trace with no root, even far apart', async () => {
    const source = await openSpanSource({ store: dir });
    expect(ids(await source.trace('c'.repeat(32)))).toEqual(ids(rootless));
  });

  it('finds the oldest span in the store and says nothing of an unknown trace', async () => {
    const source = await openSpanSource({ store: dir });
    expect(ids(await source.trace(hex(1, 32)))).toEqual([hex(1, 16)]);
    expect(await source.trace('d'.repeat(32))).toEqual([]);
  });

  it('--trace-id finds a trace older than the --since default (1h), which names no trace window', async () => {
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      const options = { store: dir, since: '1h' };
      await expect(selectTraceProfile(options, { traceId: 'b'.repeat(32) }, async () => { throw new Error('no --input'); })).resolves.toBeDefined();
    } finally {
      process.stderr.write = stderr;
    }
  });
});
