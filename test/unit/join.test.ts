import { describe, it, expect } from 'vitest';
import { ProfileBuilder, type Sample } from '../../src/profile/model.js';
import type { Span } from '../../src/spans/model.js';
import { joinSamplesToSpans, selectTraceSamples, normalizeId, Kind, spanSubtree } from '../../src/query/join.js';

const T1 = 'a'.repeat(32);
const T2 = 'b'.repeat(32);
const T3 = 'c'.repeat(32);

function span(p: Partial<Span> & { traceId: string; spanId: string; startMs: number; endMs: number }): Span {
  return { name: 'op', service: 'svc', kind: 'server', status: 'unset', ...p };
}

function profileOf(samples: Array<Omit<Sample, 'stack' | 'values'>>) {
  const b = new ProfileBuilder([{ type: 'samples', unit: 'count' }]);
  const leaf = b.stackId([b.frameId({ name: 'work', module: 'app', kind: 'native' })]);
  for (const s of samples) b.addSample({ stack: leaf, values: [1], ...s });
  return b.build();
}

describe('normalizeId', () => {
  it('accepts hex in any case and base64', () => {
    expect(normalizeId('4BF92F3577B34DA6A3CE929D0E0E4736', 16)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(normalizeId(Buffer.from('4bf92f3577b34da6a3ce929d0e0e4736', 'hex').toString('base64'), 16)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(normalizeId('00f067aa0ba902b7', 8)).toBe('00f067aa0ba902b7');
    expect(normalizeId('nope', 16)).toBeUndefined();
  });
});

describe('joinSamplesToSpans', () => {
  const spans: Span[] = [
    // thread 11 of pid 100 runs trace 1 (root 0..100, child 20..60), then trace 2 (100..200)
    span({ traceId: T1, spanId: '1'.repeat(16), startMs: 0, endMs: 100, pid: 100, tid: 11 }),
    span({ traceId: T1, spanId: '2'.repeat(16), parentSpanId: '1'.repeat(16), startMs: 20, endMs: 60, pid: 100, tid: 11 }),
    span({ traceId: T2, spanId: '3'.repeat(16), startMs: 100.5, endMs: 200, pid: 100, tid: 11 }),
    // pid 200 has spans without thread ids: a chain 0..100 ⊃ 10..50, and a concurrent one 40..90
    span({ traceId: T3, spanId: '4'.repeat(16), startMs: 0, endMs: 100, pid: 200 }),
    span({ traceId: T3, spanId: '5'.repeat(16), parentSpanId: '4'.repeat(16), startMs: 10, endMs: 50, pid: 200 }),
    span({ traceId: T2, spanId: '6'.repeat(16), startMs: 40, endMs: 90, pid: 200 }),
  ];
  const profile = profileOf([
    { pid: 100, tid: 11, timeMs: 10 }, // 0: thread → root of T1
    { pid: 100, tid: 11, timeMs: 30 }, // 1: thread → child of T1
    { pid: 100, tid: 11, timeMs: 150 }, // 2: thread → T2
    { pid: 100, tid: 12, timeMs: 30 }, // 3: other thread, no span
    { pid: 200, tid: 1, timeMs: 20 }, // 4: process → child 5 (one chain)
    { pid: 200, tid: 1, timeMs: 45 }, // 5: ambiguous (chain of T3 and span 6 of T2)
    { pid: 200, tid: 1, timeMs: 95 }, // 6: process → 4
    { pid: 300, tid: 1, timeMs: 20, labels: { trace_id: T1.toUpperCase(), span_id: '2'.repeat(16) } }, // 7: exact
    { pid: 300, tid: 1, timeMs: 20, labels: { trace_id: T3 } }, // 8: exact, no span id
    { pid: 100, tid: 11, timeMs: 100.2 }, // 9: in the 0.5 ms gap between T1 and T2 (covered by T1's end? no: end 100)
  ]);
  const join = joinSamplesToSpans(profile, spans);

  it('attributes each sample the right way', () => {
    expect(Array.from(join.kind)).toEqual([Kind.Thread, Kind.Thread, Kind.Thread, Kind.None, Kind.Process, Kind.Ambiguous, Kind.Process, Kind.Exact, Kind.Exact, Kind.None]);
    expect(Array.from(join.span.slice(0, 7))).toEqual([0, 1, 2, -1, 4, -1, 3]);
    expect(join.span[7]).toBe(1);
    expect(join.candidates.get(5)?.sort()).toEqual([3, 4, 5]);
  });

  it('selects a trace with counts per kind', () => {
    const sel = selectTraceSamples(profile, join, { traceId: T1 });
    expect(sel.counts).toEqual({ exact: 1, thread: 2, process: 0, ambiguous: 0 });
    expect(sel.profile.samples.map((s) => s.timeMs)).toEqual([10, 30, 20]);
  });

  it('leaves ambiguous samples out unless asked, and counts them', () => {
    const out = selectTraceSamples(profile, join, { traceId: T2 });
    expect(out.counts).toEqual({ exact: 0, thread: 1, process: 0, ambiguous: 0 });
    expect(out.ambiguousLeftOut).toBe(1);
    const inc = selectTraceSamples(profile, join, { traceId: T2, includeAmbiguous: true });
    expect(inc.counts.ambiguous).toBe(1);
    expect(inc.profile.samples).toHaveLength(2);
  });

  it('--span-id takes the span and its descendants', () => {
    expect([...spanSubtree(spans, T1, '1'.repeat(16))].sort()).toEqual([0, 1]);
    const root = selectTraceSamples(profile, join, { traceId: T1, spanId: '1'.repeat(16) });
    expect(root.counts).toEqual({ exact: 1, thread: 2, process: 0, ambiguous: 0 });
    const child = selectTraceSamples(profile, join, { spanId: '2'.repeat(16) });
    expect(child.counts).toEqual({ exact: 1, thread: 1, process: 0, ambiguous: 0 });
  });

  it('padding widens spans', () => {
    const padded = joinSamplesToSpans(profile, spans, { padMs: 0.3 });
    expect(padded.kind[9]).toBe(Kind.Thread);
  });

  it('an exact sample keeps its trace even without span data', () => {
    const none = joinSamplesToSpans(profile, []);
    expect(selectTraceSamples(profile, none, { traceId: T3 }).counts.exact).toBe(1);
  });

  it('padding never lets the next span on a thread take a span’s own samples', () => {
    // Back-to-back requests on one thread, and back-to-back chains in one process.
    const seq: Span[] = [
      span({ traceId: T1, spanId: '1'.repeat(16), startMs: 0, endMs: 100, pid: 100, tid: 11 }),
      span({ traceId: T2, spanId: '2'.repeat(16), startMs: 101, endMs: 200, pid: 100, tid: 11 }),
      span({ traceId: T1, spanId: '3'.repeat(16), startMs: 0, endMs: 100, pid: 200 }),
      span({ traceId: T2, spanId: '4'.repeat(16), startMs: 101, endMs: 200, pid: 200 }),
    ];
    const p = profileOf([
      { pid: 100, tid: 11, timeMs: 99.5 }, // inside T1, within the pad of T2
      { pid: 100, tid: 11, timeMs: 101.5 }, // inside T2, within the pad of T1
      { pid: 100, tid: 11, timeMs: 100.5 }, // in the gap: only padding reaches it (both do: latest start wins)
      { pid: 200, tid: 5, timeMs: 99.5 }, // process-time: inside T1's chain only
      { pid: 200, tid: 5, timeMs: 100.5 }, // process-time, in the gap: two chains reach it
    ]);
    const j = joinSamplesToSpans(p, seq, { padMs: 2 });
    expect(Array.from(j.kind)).toEqual([Kind.Thread, Kind.Thread, Kind.Thread, Kind.Process, Kind.Ambiguous]);
    expect(Array.from(j.span.slice(0, 4))).toEqual([0, 1, 1, 2]);
  });

  it('a thread is its pid and tid: the same tid in another process gets nothing', () => {
    const p = profileOf([
      { pid: 101, tid: 11, timeMs: 30 },
      { pid: 100, tid: 11, timeMs: 0 }, // span edges are inclusive
      { pid: 100, tid: 11, timeMs: 200 },
      { pid: 100, tid: 11 }, // no time: cannot be placed
    ]);
    const j = joinSamplesToSpans(p, spans);
    expect(Array.from(j.kind)).toEqual([Kind.None, Kind.Thread, Kind.Thread, Kind.None]);
    expect(Array.from(j.span.slice(1, 3))).toEqual([0, 2]);
  });
});
