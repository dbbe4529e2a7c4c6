// The writer's segment index: order, totals and per-generation counts kept
// as segments come and go, so that the bounds need no scan of the store.
import { describe, expect, it } from 'vitest';
import { SegmentIndex, type IndexedSegment } from '../../src/store/segment-index.js';
import { sortSegments } from '../../src/store/layout.js';

const seg = (fromMs: number, generation = 1, size = 100, toMs = fromMs + 10_000, file = `${fromMs}-${toMs}-g${generation}-x.seg`): IndexedSegment => ({ file, fromMs, toMs, generation, size });

/** Deterministic shuffle (a small LCG), so a failure repeats. */
function shuffled<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('SegmentIndex', () => {
  it('keeps the store order whatever order segments are added in, ties by end then name', () => {
    const all = [seg(30), seg(10), seg(20, 1, 5, 25_000), seg(20, 1, 5, 22_000), seg(20, 2, 5, 22_000, 'a.seg'), seg(0)];
    const idx = new SegmentIndex(all.slice(0, 2));
    for (const s of all.slice(2)) idx.add(s);
    expect(idx.toArray()).toEqual(sortSegments([...all]));
    const out: IndexedSegment[] = [];
    for (let s = idx.removeOldest(); s; s = idx.removeOldest()) out.push(s);
    expect(out).toEqual(sortSegments([...all]));
    expect(idx.length).toBe(0);
    expect(idx.oldest()).toBeUndefined();
  });

  it('totals bytes and segments per generation through adds and removals, past the front being cut off', () => {
    const all = Array.from({ length: 5000 }, (_, i) => seg(i * 10_000, 1 + Math.floor(i / 1500), 50 + (i % 7)));
    const idx = new SegmentIndex();
    for (const s of shuffled(all.slice(0, 3000), 7)) idx.add(s);
    let live = sortSegments(all.slice(0, 3000));
    const check = () => {
      expect(idx.length).toBe(live.length);
      expect(idx.bytes).toBe(live.reduce((n, s) => n + s.size, 0));
      for (const g of [1, 2, 3, 4, 5]) expect(idx.segmentsOf(g)).toBe(live.filter((s) => s.generation === g).length);
      expect(idx.oldest()).toEqual(live[0]);
    };
    check();
    // Remove more than half (the front is compacted), interleaved with new windows.
    for (let i = 3000; i < 5000; i++) {
      expect(idx.removeOldest()).toEqual(live[0]);
      live = live.slice(1);
      idx.add(all[i]!);
      live.push(all[i]!);
      if (i % 500 === 0) check();
    }
    for (let k = 0; k < 2500; k++) {
      idx.removeOldest();
      live = live.slice(1);
    }
    check();
    expect(idx.toArray()).toEqual(live);
    // A window out of order (a clock stepped back) goes to its place.
    const early = seg(live[0]!.fromMs - 5000, 9, 1);
    idx.add(early);
    live = [early, ...live];
    check();
  });

  it('reset replaces everything', () => {
    const idx = new SegmentIndex([seg(0, 1), seg(10_000, 2)]);
    idx.reset([seg(50_000, 3, 7)]);
    expect(idx.length).toBe(1);
    expect(idx.bytes).toBe(7);
    expect(idx.segmentsOf(1)).toBe(0);
    expect(idx.segmentsOf(3)).toBe(1);
  });
});
