// Builds one Profile out of many decoded segments: remaps each table
// generation's frame and stack ids into the output's (keeping only what the
// selected samples use), merges sample types by name, and either keeps every
// sample (with its time) or sums samples per (thread tuple, stack) — the
// aggregate that `top` and `flame` need over a day without a JS object per
// sample.
// It must not read files.

import type { Frame, Profile, Sample, ValueType } from '../profile/model.js';
import type { SampleTuple, SegmentMeta } from './segment-codec.js';
import type { GenerationTables } from './table-cache.js';
import { frameStoreKey } from './tables.js';

interface GenerationMap {
  frames: Int32Array;
  stacks: Int32Array;
}

export class ProfileAssembler {
  readonly frames: Frame[] = [];
  readonly stacks: number[][] = [];
  readonly sampleTypes: ValueType[] = [];
  readonly samples: Sample[] = [];
  defaultSampleType?: string;
  periodType?: ValueType;
  period?: number;
  minTimeMs = Infinity;
  maxTimeMs = -Infinity;

  private frameIds = new Map<string, number>();
  private stackIds = new Map<string, number>();
  private generations = new Map<number, GenerationMap>();
  private tuples: SampleTuple[] = [];
  private tupleIds = new Map<string, number>();
  // Aggregate mode: per output tuple, output stack → slot.
  private slotsByTuple: Map<number, number>[] = [];
  private slotTuple: number[] = [];
  private slotStack: number[] = [];
  private slotValues: number[][] = [];

  constructor(readonly aggregate: boolean) {}

  /** Output index of each segment sample type (adding new types as they appear). */
  typeMap(meta: SegmentMeta): number[] {
    if (this.sampleTypes.length === 0) {
      this.defaultSampleType = meta.defaultSampleType;
      this.periodType = meta.periodType;
      this.period = meta.period;
    }
    return meta.sampleTypes.map((t) => {
      let i = this.sampleTypes.findIndex((o) => o.type === t.type && o.unit === t.unit);
      if (i < 0) {
        i = this.sampleTypes.length;
        this.sampleTypes.push(t);
        if (this.aggregate) this.slotValues.push(new Array<number>(this.slotTuple.length).fill(0));
      }
      return i;
    });
  }

  tupleId(t: SampleTuple): number {
    const key = JSON.stringify([t.pid, t.tid, t.thread, t.process, t.labels ?? null]);
    let id = this.tupleIds.get(key);
    if (id === undefined) {
      id = this.tuples.length;
      this.tuples.push(t);
      this.tupleIds.set(key, id);
      this.slotsByTuple.push(new Map());
    }
    return id;
  }

  /** The generation's id maps, sized for its tables: `stacks[id]` is the output stack or -1 (then call stackId). */
  generationMap(generation: number, tables: GenerationTables): Int32Array {
    return this.mapFor(generation, tables).stacks;
  }

  private mapFor(generation: number, tables: GenerationTables): GenerationMap {
    let g = this.generations.get(generation);
    if (!g || g.stacks.length < tables.stacks.length || g.frames.length < tables.frames.length) {
      const next: GenerationMap = { frames: new Int32Array(tables.frames.length).fill(-1), stacks: new Int32Array(tables.stacks.length).fill(-1) };
      if (g) {
        next.frames.set(g.frames);
        next.stacks.set(g.stacks);
      }
      g = next;
      this.generations.set(generation, g);
    }
    return g;
  }

  /** Output stack id of a generation's stack id. */
  stackId(generation: number, tables: GenerationTables, stack: number): number {
    const g = this.mapFor(generation, tables);
    const known = g.stacks[stack]!;
    if (known >= 0) return known;
    const frames = tables.stacks[stack]!.map((f) => {
      let out = g.frames[f]!;
      if (out < 0) {
        const frame = tables.frames[f]!;
        const key = frameStoreKey(frame);
        out = this.frameIds.get(key) ?? -1;
        if (out < 0) {
          out = this.frames.length;
          this.frames.push(frame);
          this.frameIds.set(key, out);
        }
        g.frames[f] = out;
      }
      return out;
    });
    const key = frames.join(',');
    let id = this.stackIds.get(key);
    if (id === undefined) {
      id = this.stacks.length;
      this.stacks.push(frames);
      this.stackIds.set(key, id);
    }
    g.stacks[stack] = id;
    return id;
  }

  /** The aggregate slot of (tuple, stack), made on first use. */
  private slotOf(tuple: number, stack: number): number {
    const slots = this.slotsByTuple[tuple]!;
    let slot = slots.get(stack);
    if (slot === undefined) {
      slot = this.slotTuple.length;
      slots.set(stack, slot);
      this.slotTuple.push(tuple);
      this.slotStack.push(stack);
      for (const col of this.slotValues) col.push(0);
    }
    return slot;
  }

  /** Adds `count` samples of (tuple, stack) whose values sum to `sums` (in segment type order). */
  addAggregate(tuple: number, stack: number, sums: number[], types: number[]): void {
    const slot = this.slotOf(tuple, stack);
    for (let t = 0; t < types.length; t++) this.slotValues[types[t]!]![slot]! += sums[t]!;
  }

  /** Adds `count` samples of (tuple, stack) that each have the values `unit` (in segment type order). */
  addAggregateUnit(tuple: number, stack: number, count: number, unit: number[], types: number[]): void {
    const slot = this.slotOf(tuple, stack);
    for (let t = 0; t < types.length; t++) this.slotValues[types[t]!]![slot]! += unit[t]! * count;
  }

  /** Adds one sample with its time. */
  addSample(tuple: number, stack: number, timeMs: number, values: number[], types: number[]): void {
    const t = this.tuples[tuple]!;
    const out = new Array<number>(this.sampleTypes.length).fill(0);
    for (let i = 0; i < types.length; i++) out[types[i]!] = values[i]!;
    const s: Sample = { stack, values: out, timeMs };
    if (t.labels) s.labels = t.labels;
    if (t.pid !== undefined) s.pid = t.pid;
    if (t.tid !== undefined) s.tid = t.tid;
    if (t.thread !== undefined) s.thread = t.thread;
    if (t.process !== undefined) s.process = t.process;
    this.samples.push(s);
  }

  noteTime(fromMs: number, toMs: number): void {
    if (fromMs < this.minTimeMs) this.minTimeMs = fromMs;
    if (toMs > this.maxTimeMs) this.maxTimeMs = toMs;
  }

  build(comment: string[]): Profile {
    let samples = this.samples;
    if (this.aggregate) {
      samples = this.slotTuple.map((tuple, slot) => {
        const t = this.tuples[tuple]!;
        const s: Sample = { stack: this.slotStack[slot]!, values: this.slotValues.map((col) => col[slot]!) };
        if (t.labels) s.labels = t.labels;
        if (t.pid !== undefined) s.pid = t.pid;
        if (t.tid !== undefined) s.tid = t.tid;
        if (t.thread !== undefined) s.thread = t.thread;
        if (t.process !== undefined) s.process = t.process;
        return s;
      });
    } else {
      const n = this.sampleTypes.length;
      for (const s of samples) while (s.values.length < n) s.values.push(0);
      let sorted = true;
      for (let i = 1; i < samples.length && sorted; i++) if (samples[i]!.timeMs! < samples[i - 1]!.timeMs!) sorted = false;
      if (!sorted) samples.sort((a, b) => a.timeMs! - b.timeMs!);
    }
    const profile: Profile = {
      sampleTypes: this.sampleTypes.length ? this.sampleTypes : [{ type: 'samples', unit: 'count' }],
      frames: this.frames,
      stacks: this.stacks,
      samples,
    };
    if (this.defaultSampleType !== undefined) profile.defaultSampleType = this.defaultSampleType;
    if (this.periodType) profile.periodType = this.periodType;
    if (this.period !== undefined) profile.period = this.period;
    if (Number.isFinite(this.minTimeMs)) {
      profile.timeMs = this.minTimeMs;
      profile.durationMs = this.maxTimeMs - this.minTimeMs;
    }
    if (comment.length) profile.comments = comment;
    return profile;
  }
}
