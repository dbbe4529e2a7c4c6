// The writer's index of the store's segments, oldest first, with running
// totals. Enforcing the bounds at every flush must cost the segments it
// deletes, not the ones it keeps: a week of 10 s windows is 60,480 segments,
// and summing, sorting and grouping them all at every flush grew the agent's
// flush from a fraction of a millisecond on a new store to about 60 ms on a
// full one (bench/RESULTS.md).
// Pure bookkeeping: it must not touch files.

import { compareSegments, sortSegments, type SegmentName } from './layout.js';

export interface IndexedSegment extends SegmentName {
  size: number;
}

export class SegmentIndex {
  /** Live entries are list[head..]; the removed front is cut off now and then. */
  private list: IndexedSegment[] = [];
  private head = 0;
  private perGeneration = new Map<number, number>();
  /** Bytes of the live segments. */
  bytes = 0;

  constructor(segments: IndexedSegment[] = []) {
    this.reset(segments);
  }

  /** Replaces the index with these segments (any order). */
  reset(segments: IndexedSegment[]): void {
    this.list = sortSegments([...segments]);
    this.head = 0;
    this.bytes = 0;
    this.perGeneration.clear();
    for (const s of this.list) this.count(s, 1);
  }

  get length(): number {
    return this.list.length - this.head;
  }

  oldest(): IndexedSegment | undefined {
    return this.list[this.head];
  }

  /** Adds a segment in order: a new window is usually the newest, so this is a push. */
  add(segment: IndexedSegment): void {
    let i = this.list.length;
    while (i > this.head && compareSegments(segment, this.list[i - 1]!) < 0) i--;
    if (i === this.list.length) this.list.push(segment);
    else this.list.splice(i, 0, segment);
    this.count(segment, 1);
  }

  removeOldest(): IndexedSegment | undefined {
    const s = this.list[this.head];
    if (!s) return undefined;
    this.list[this.head++] = undefined as unknown as IndexedSegment;
    this.count(s, -1);
    // Cut the dead front off once it is most of the array: amortized O(1) per removal.
    if (this.head >= 1024 && this.head * 2 >= this.list.length) {
      this.list = this.list.slice(this.head);
      this.head = 0;
    }
    return s;
  }

  /** How many live segments use this table generation. */
  segmentsOf(generation: number): number {
    return this.perGeneration.get(generation) ?? 0;
  }

  /** The live segments, oldest first (a copy). */
  toArray(): IndexedSegment[] {
    return this.list.slice(this.head);
  }

  private count(s: IndexedSegment, sign: 1 | -1): void {
    this.bytes += sign * s.size;
    const n = (this.perGeneration.get(s.generation) ?? 0) + sign;
    if (n > 0) this.perGeneration.set(s.generation, n);
    else this.perGeneration.delete(s.generation);
  }
}
