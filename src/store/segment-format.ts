// The segment file format (version 1). Pure: no file system.
//
//   "PCSG" u32 | version u8 | flags u8 | header length u16
//   header: windowStartMs f64, windowEndMs f64, table generation, stack count
//           the segment may use, sections [kind, codec, offset, stored length,
//           raw length, CRC-32 of the stored bytes]
//   CRC-32 of everything above | section bodies
//
// Sections, each compressed on its own so a query inflates only what it needs:
//   META     sample types, period, a string table, the "tuples" (pid, tid,
//            thread, process, labels) the samples use, and how values are kept.
//            Stored uncompressed, and identical between segments with the same
//            threads, so a reader decodes it once per distinct byte string.
//   ROWS     the segment's aggregate: distinct (tuple, stack) with a count and,
//            unless every sample has the same values, per-type sums. Sorted by
//            tuple then stack id; tuples run-length coded, stack ids
//            delta-coded within a tuple. Uncompressed, for read speed.
//   SAMPLES  one entry per sample in time order: time delta (in the segment's
//            time unit, 1 ms by default) and the row it belongs to; per-sample
//            values only when they differ between samples
//   SPANS    received spans (see span-codec.ts)
// Stack ids refer to the store's shared tables (tables.ts).
// This file holds the format's constants and types; segment-codec.ts encodes,
// segment-decode.ts decodes. It must not read files or decide what to keep.

import type { SampleContext, ValueType } from '../profile/model.js';

export const SEGMENT_VERSION = 1;
export const MAGIC = 0x47534350; // "PCSG" little-endian

export const enum SectionKind {
  meta = 1,
  rows = 2,
  samples = 3,
  spans = 4,
}

export type Codec = 'none' | 'deflate' | 'brotli';
export const CODECS: Codec[] = ['none', 'deflate', 'brotli'];

/** A segment's per-thread sample fields: the model's sample context. */
export type SampleTuple = SampleContext;

/** How sample values are stored: all equal to `unit`, or per sample (integers or floats). */
export type ValueMode = { kind: 'unit'; unit: number[] } | { kind: 'int' } | { kind: 'float' };

export interface SegmentMeta {
  sampleTypes: ValueType[];
  defaultSampleType?: string;
  periodType?: ValueType;
  period?: number;
  tuples: SampleTuple[];
  valueMode: ValueMode;
  /** Time unit of the SAMPLES section in microseconds (1000 = 1 ms). */
  timeUnitUs: number;
}

export interface SegmentRows {
  tuple: Uint32Array;
  stack: Uint32Array;
  count: Float64Array;
  /** Per sample type, the sum over the row's samples (absent in unit mode). */
  sums?: Float64Array[];
}

export interface SegmentSamples {
  timeMs: Float64Array;
  row: Uint32Array;
  /** Per sample type, each sample's value (absent in unit mode). */
  values?: Float64Array[];
}

export interface SectionRef {
  kind: number;
  codec: Codec;
  offset: number;
  storedLength: number;
  rawLength: number;
  crc: number;
}

export interface SegmentHeader {
  version: number;
  windowStartMs: number;
  windowEndMs: number;
  generation: number;
  stackCount: number;
  sections: SectionRef[];
}
