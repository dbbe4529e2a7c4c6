// The one in-memory profile model. Every reader produces it, every query pass
// takes and returns it, every renderer and writer consumes it. It imports no
// pipeline stage: it is the shared vocabulary, not a place for behaviour.
//
// Frames and stacks are interned: a stack is a list of frame indices, leaf
// first (as pprof stores locations), and samples point at stacks by index, so
// a profile with millions of samples but few distinct stacks stays small.

export interface ValueType {
  type: string;
  unit: string;
}

/** How a frame's code runs; drives flame graph colours and `--by module`. */
export type FrameKind = 'native' | 'kernel' | 'jit' | 'unknown';

export interface Frame {
  /** Function name as people read it (demangled). */
  name: string;
  /** Binary, library or runtime the code lives in; '' when unknown. */
  module: string;
  kind: FrameKind;
  /** An inlined call (pprof lines after the first of a location). */
  inline?: boolean;
  file?: string;
  line?: number;
  /** The name as the binary spells it, when it differs (mangled C++/Rust). */
  rawName?: string;
}

export type LabelValue = string | number;
export type Labels = Record<string, LabelValue>;

export interface Sample {
  /** Index into Profile.stacks. */
  stack: number;
  /** One value per Profile.sampleTypes entry. */
  values: number[];
  /** pprof-style labels: trace_id, span_id, span_name, profile_id, ... */
  labels?: Labels;
  /** Wall-clock time of the sample in milliseconds since the epoch (fractional: µs kept). */
  timeMs?: number;
  pid?: number;
  tid?: number;
  /** Thread name (comm of the thread). */
  thread?: string;
  /** Process name (comm of the thread group leader) or configured service. */
  process?: string;
}

export interface Profile {
  sampleTypes: ValueType[];
  /** The sample type commands use when the user names none (pprof: the last). */
  defaultSampleType?: string;
  periodType?: ValueType;
  period?: number;
  frames: Frame[];
  /** Stacks as frame indices, leaf first. */
  stacks: number[][];
  samples: Sample[];
  /** Start of the profile, ms since the epoch. */
  timeMs?: number;
  durationMs?: number;
  comments?: string[];
  /** Units of numeric labels, by label key (pprof num_unit: 'bytes', 'nanoseconds', ...). */
  labelUnits?: Record<string, string>;
}

/** What a sample shares with its thread's other samples: who ran it, and in which trace. */
export type SampleContext = Pick<Sample, 'pid' | 'tid' | 'thread' | 'process' | 'labels'>;

/**
 * A profile whose samples are columns, as a capture window holds them:
 * sample i has stack `stack[i]`, time `time[i]` (ms since the epoch) and context
 * `contexts[context[i]]`. The resident agent writes these to the store
 * without an object per sample.
 */
export interface ColumnarProfile extends Omit<Profile, 'samples'> {
  count: number;
  stack: Int32Array;
  time: Float64Array;
  context: Int32Array;
  contexts: SampleContext[];
  /** Every sample's values (one period of CPU, say)… */
  values: number[];
  /** …unless samples differ: then sample i has sampleValues[i]. */
  sampleValues?: number[][];
}

/** The columns as a Profile with one Sample object each. */
export function profileFromColumns(c: ColumnarProfile): Profile {
  const { count, stack, time, context, contexts, values, sampleValues, ...rest } = c;
  const samples: Sample[] = new Array(count);
  for (let i = 0; i < count; i++) {
    samples[i] = { ...contexts[context[i]!]!, stack: stack[i]!, values: sampleValues ? sampleValues[i]! : values, timeMs: time[i]! };
  }
  return { ...rest, samples };
}

/** Index of the sample type a command reads: a name from --sample-type, or the default. */
export function sampleTypeIndex(profile: Profile, name?: string): number {
  const wanted = name ?? profile.defaultSampleType;
  if (wanted !== undefined) {
    const i = profile.sampleTypes.findIndex((t) => t.type === wanted);
    if (i >= 0) return i;
    if (name !== undefined) return -1;
  }
  return profile.sampleTypes.length - 1;
}

function frameKey(f: Frame): string {
  return `${f.kind}\u0000${f.module}\u0000${f.name}\u0000${f.inline ? 1 : 0}\u0000${f.file ?? ''}`;
}

/**
 * Ids for distinct keys, in first-seen order, and the value kept for each
 * (values[id]): the interning behind ProfileBuilder, the pprof string table
 * and the capture window's names.
 */
export class Interner<K, V> {
  readonly values: V[] = [];
  private readonly ids = new Map<K, number>();

  /** The key's id; value is kept when the key is new. */
  id(key: K, value: V): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.ids.set(key, id);
    }
    return id;
  }
}

/**
 * Builds a Profile while interning frames and stacks. Readers use it so that
 * identical frames and stacks are stored once whatever the input's size.
 */
export class ProfileBuilder {
  private readonly frameTable = new Interner<string, Frame>();
  private readonly stackTable = new Interner<string, number[]>();
  readonly frames: Frame[] = this.frameTable.values;
  readonly stacks: number[][] = this.stackTable.values;
  readonly samples: Sample[] = [];

  constructor(
    readonly sampleTypes: ValueType[],
    readonly extra: Partial<Omit<Profile, 'frames' | 'stacks' | 'samples' | 'sampleTypes'>> = {},
  ) {}

  frameId(frame: Frame): number {
    return this.frameTable.id(frameKey(frame), frame);
  }

  /** Interns a stack given as frame ids, leaf first. */
  stackId(frameIds: number[]): number {
    return this.stackTable.id(frameIds.join(','), frameIds);
  }

  addSample(sample: Sample): void {
    this.samples.push(sample);
  }

  build(): Profile {
    return {
      ...this.extra,
      sampleTypes: this.sampleTypes,
      frames: this.frames,
      stacks: this.stacks,
      samples: this.samples,
    };
  }
}

/** Sum of one value column over all samples. */
export function totalValue(profile: Profile, typeIndex: number): number {
  let total = 0;
  for (const s of profile.samples) total += s.values[typeIndex] ?? 0;
  return total;
}
