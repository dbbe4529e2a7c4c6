// Encoding and decoding of one segment file (format version 1). Pure: bytes
// in, typed columns out; no file system.
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
// It must not read files or decide what to keep.

import zlib from 'node:zlib';
import type { Labels, ValueType } from '../profile/model.js';
import { ByteReader, ByteWriter, DecodeError, crc32 } from './binary.js';

export const SEGMENT_VERSION = 1;
const MAGIC = 0x47534350; // "PCSG" little-endian

export const enum SectionKind {
  meta = 1,
  rows = 2,
  samples = 3,
  spans = 4,
}

export type Codec = 'none' | 'deflate' | 'brotli';
const CODECS: Codec[] = ['none', 'deflate', 'brotli'];

export interface SampleTuple {
  pid?: number;
  tid?: number;
  thread?: string;
  process?: string;
  labels?: Labels;
}

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

// ---------------------------------------------------------------- encoding

export interface SegmentInput {
  windowStartMs: number;
  windowEndMs: number;
  generation: number;
  stackCount: number;
  meta: SegmentMeta;
  /** Samples in any order; times in ms, stack ids global. */
  samples: { timeMs: number; tuple: number; stack: number; values: number[] }[];
  /** An encoded SPANS section body (uncompressed), if any. */
  spans?: Uint8Array;
  codec: Codec;
  /** Brotli quality (0–11) or zlib level (0–9). */
  level?: number;
}

function compress(raw: Uint8Array, codec: Codec, level?: number): Uint8Array {
  if (codec === 'deflate') return zlib.deflateRawSync(raw, { level: level ?? 9 });
  if (codec === 'brotli') {
    return zlib.brotliCompressSync(raw, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: level ?? 9,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
        [zlib.constants.BROTLI_PARAM_LGWIN]: 18,
      },
    });
  }
  return raw;
}

function encodeLabels(w: ByteWriter, labels: Labels, strIndex: (s: string) => number): void {
  const keys = Object.keys(labels);
  w.uvar(keys.length);
  for (const k of keys) {
    w.uvar(strIndex(k));
    const v = labels[k]!;
    if (typeof v === 'string') {
      w.u8(0);
      w.uvar(strIndex(v));
    } else if (Number.isSafeInteger(v)) {
      w.u8(1);
      w.svar(v);
    } else {
      w.u8(2);
      w.f64(v);
    }
  }
}

function encodeMeta(meta: SegmentMeta): Uint8Array {
  const strings: string[] = [];
  const ids = new Map<string, number>();
  const strIndex = (s: string): number => {
    let id = ids.get(s);
    if (id === undefined) {
      id = strings.length;
      strings.push(s);
      ids.set(s, id);
    }
    return id;
  };
  const body = new ByteWriter(256);
  body.uvar(meta.tuples.length);
  for (const t of meta.tuples) {
    const flags = (t.pid !== undefined ? 1 : 0) | (t.tid !== undefined ? 2 : 0) | (t.thread !== undefined ? 4 : 0) | (t.process !== undefined ? 8 : 0) | (t.labels && Object.keys(t.labels).length ? 16 : 0);
    body.u8(flags);
    if (flags & 1) body.uvar(t.pid!);
    if (flags & 2) body.uvar(t.tid!);
    if (flags & 4) body.uvar(strIndex(t.thread!));
    if (flags & 8) body.uvar(strIndex(t.process!));
    if (flags & 16) encodeLabels(body, t.labels!, strIndex);
  }
  const w = new ByteWriter(512);
  w.uvar(meta.sampleTypes.length);
  for (const t of meta.sampleTypes) {
    w.str(t.type);
    w.str(t.unit);
  }
  const flags = (meta.defaultSampleType !== undefined ? 1 : 0) | (meta.periodType ? 2 : 0) | (meta.period !== undefined ? 4 : 0);
  w.u8(flags);
  if (flags & 1) w.str(meta.defaultSampleType!);
  if (flags & 2) {
    w.str(meta.periodType!.type);
    w.str(meta.periodType!.unit);
  }
  if (flags & 4) w.f64(meta.period!);
  const vm = meta.valueMode;
  w.u8(vm.kind === 'unit' ? 0 : vm.kind === 'int' ? 1 : 2);
  if (vm.kind === 'unit') for (const v of vm.unit) w.f64(v);
  w.uvar(meta.timeUnitUs);
  w.uvar(strings.length);
  for (const s of strings) w.str(s);
  w.bytes(body.finish());
  return w.finish();
}

function writeValue(w: ByteWriter, v: number, mode: ValueMode): void {
  if (mode.kind === 'int') w.svar(v);
  else w.f64(v);
}

/** Encodes a whole segment file. */
export function encodeSegment(input: SegmentInput): Uint8Array {
  const { meta: m } = input;
  const nTypes = m.sampleTypes.length;
  const unit = Math.max(1, Math.floor(m.timeUnitUs));
  const samples = input.samples.slice().sort((a, b) => a.timeMs - b.timeMs);
  const timeBaseMs = samples.length ? Math.floor((samples[0]!.timeMs * 1000) / unit) * unit / 1000 : input.windowStartMs;

  // Rows: distinct (tuple, stack), sorted so stack ids delta-code well.
  const rowOf = new Map<number, number>();
  const rowKeys: { tuple: number; stack: number; count: number; sums: number[] }[] = [];
  const sampleRow = new Uint32Array(samples.length);
  const stackSpan = input.stackCount + 1;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const key = s.tuple * stackSpan + s.stack;
    let r = rowOf.get(key);
    if (r === undefined) {
      r = rowKeys.length;
      rowKeys.push({ tuple: s.tuple, stack: s.stack, count: 0, sums: new Array<number>(nTypes).fill(0) });
      rowOf.set(key, r);
    }
    const row = rowKeys[r]!;
    row.count++;
    for (let t = 0; t < nTypes; t++) row.sums[t]! += s.values[t] ?? 0;
    sampleRow[i] = r;
  }
  const order = rowKeys.map((_, i) => i).sort((a, b) => rowKeys[a]!.tuple - rowKeys[b]!.tuple || rowKeys[a]!.stack - rowKeys[b]!.stack);
  const newIndex = new Uint32Array(order.length);
  order.forEach((old, i) => (newIndex[old] = i));

  const meta: SegmentMeta = { ...m, timeUnitUs: unit };
  const vm = m.valueMode;

  const rows = new ByteWriter(rowKeys.length * 4 + 16);
  rows.uvar(rowKeys.length);
  // Tuple column run-length coded: rows are sorted by tuple, so a few runs.
  const runs: [number, number][] = [];
  for (const i of order) {
    const t = rowKeys[i]!.tuple;
    const last = runs[runs.length - 1];
    if (last && last[0] === t) last[1]++;
    else runs.push([t, 1]);
  }
  rows.uvar(runs.length);
  for (const [t, n] of runs) {
    rows.uvar(t);
    rows.uvar(n);
  }
  let prevTuple = -1;
  let prevStack = 0;
  for (const i of order) {
    const r = rowKeys[i]!;
    rows.uvar(r.tuple === prevTuple ? r.stack - prevStack : r.stack);
    prevTuple = r.tuple;
    prevStack = r.stack;
  }
  for (const i of order) rows.uvar(rowKeys[i]!.count);
  if (vm.kind !== 'unit') for (let t = 0; t < nTypes; t++) for (const i of order) writeValue(rows, rowKeys[i]!.sums[t]!, vm);

  const sw = new ByteWriter(samples.length * 3 + 16);
  sw.uvar(samples.length);
  sw.f64(timeBaseMs);
  let prevUnits = 0;
  for (const s of samples) {
    const units = Math.max(prevUnits, Math.round(((s.timeMs - timeBaseMs) * 1000) / unit));
    sw.uvar(units - prevUnits);
    prevUnits = units;
  }
  for (let i = 0; i < samples.length; i++) sw.uvar(newIndex[sampleRow[i]!]!);
  if (vm.kind !== 'unit') for (let t = 0; t < nTypes; t++) for (const s of samples) writeValue(sw, s.values[t] ?? 0, vm);

  const bodies: [SectionKind, Uint8Array][] = [
    [SectionKind.meta, encodeMeta(meta)],
    [SectionKind.rows, rows.finish()],
    [SectionKind.samples, sw.finish()],
  ];
  if (input.spans) bodies.push([SectionKind.spans, input.spans]);
  const stored = bodies.map(([kind, raw]) => {
    // META and ROWS are read for every segment a query touches; a zlib call costs
    // more there than the few hundred bytes it would save (bench/RESULTS.md).
    // A META swollen by per-sample labels (trace and span ids) is compressed after all.
    const readEveryTime = (kind === SectionKind.meta && raw.length <= 2048) || kind === SectionKind.rows;
    const packed = raw.length < 64 || readEveryTime ? raw : compress(raw, input.codec, input.level);
    const codec: Codec = packed === raw ? 'none' : input.codec;
    return { kind, raw, packed, codec };
  });

  // Two passes: offsets depend on the header's length, which depends on offsets.
  let headerBytes = new Uint8Array(0);
  for (let pass = 0; pass < 6; pass++) {
    const h = new ByteWriter(128);
    h.f64(input.windowStartMs);
    h.f64(input.windowEndMs);
    h.uvar(input.generation);
    h.uvar(input.stackCount);
    h.uvar(stored.length);
    let offset = 8 + headerBytes.length + 4;
    for (const s of stored) {
      h.u8(s.kind);
      h.u8(CODECS.indexOf(s.codec));
      h.uvar(offset);
      h.uvar(s.packed.length);
      h.uvar(s.raw.length);
      h.u32(crc32(s.packed));
      offset += s.packed.length;
    }
    const next = h.finish().slice();
    if (next.length === headerBytes.length) {
      headerBytes = next;
      break;
    }
    headerBytes = next;
  }
  const out = new ByteWriter(8 + headerBytes.length + 4 + stored.reduce((n, s) => n + s.packed.length, 0));
  out.u32(MAGIC);
  out.u8(SEGMENT_VERSION);
  out.u8(0);
  out.u8(headerBytes.length & 0xff);
  out.u8(headerBytes.length >> 8);
  out.bytes(headerBytes);
  out.u32(crc32(out.finish()));
  for (const s of stored) out.bytes(s.packed);
  return out.finish();
}

// ---------------------------------------------------------------- decoding

export function decodeSegmentHeader(buf: Uint8Array): SegmentHeader {
  const r = new ByteReader(buf);
  if (buf.length < 12) throw new DecodeError(`too short for a segment (${buf.length} bytes)`);
  if (r.u32() !== MAGIC) throw new DecodeError('not a profctl segment (bad magic)');
  const version = r.u8();
  if (version !== SEGMENT_VERSION) throw new DecodeError(`segment format version ${version} is not supported (this profctl reads version ${SEGMENT_VERSION})`);
  r.u8();
  const headerLength = r.u8() | (r.u8() << 8);
  if (headerLength + 12 > buf.length) throw new DecodeError('truncated header');
  const want = new DataView(buf.buffer, buf.byteOffset + 8 + headerLength, 4).getUint32(0, true);
  if (crc32(buf.subarray(0, 8 + headerLength)) !== want) throw new DecodeError('header checksum mismatch');
  const h = new ByteReader(buf, 8, 8 + headerLength);
  const windowStartMs = h.f64();
  const windowEndMs = h.f64();
  const generation = h.uvar();
  const stackCount = h.uvar();
  const n = h.count(8);
  const sections: SectionRef[] = [];
  for (let i = 0; i < n; i++) {
    const kind = h.u8();
    const codec = CODECS[h.u8()];
    if (!codec) throw new DecodeError('unknown section compression');
    const ref = { kind, codec, offset: h.uvar(), storedLength: h.uvar(), rawLength: h.uvar(), crc: h.u32() };
    if (ref.offset + ref.storedLength > buf.length) throw new DecodeError(`section ${kind} runs past the end of the file (truncated?)`);
    sections.push(ref);
  }
  return { version, windowStartMs, windowEndMs, generation, stackCount, sections };
}

/** A section's uncompressed bytes (checksum verified), or undefined if the segment has none. */
export function readSection(buf: Uint8Array, header: SegmentHeader, kind: SectionKind): Uint8Array | undefined {
  const ref = header.sections.find((s) => s.kind === kind);
  if (!ref) return undefined;
  const packed = buf.subarray(ref.offset, ref.offset + ref.storedLength);
  if (crc32(packed) !== ref.crc) throw new DecodeError(`section ${kind} checksum mismatch`);
  if (ref.codec === 'none') return packed;
  let raw: Uint8Array;
  try {
    // maxOutputLength keeps a lying length from allocating the world.
    const opts = { maxOutputLength: Math.max(ref.rawLength, 1) };
    raw = ref.codec === 'deflate' ? zlib.inflateRawSync(packed, opts) : zlib.brotliDecompressSync(packed, opts);
  } catch (err) {
    throw new DecodeError(`section ${kind} does not decompress: ${(err as Error).message}`);
  }
  if (raw.length !== ref.rawLength) throw new DecodeError(`section ${kind} has ${raw.length} bytes, header says ${ref.rawLength}`);
  return raw;
}

function decodeLabels(r: ByteReader, strings: string[]): Labels {
  const labels: Labels = {};
  const n = r.count(2);
  for (let i = 0; i < n; i++) {
    const key = strAt(strings, r.uvar());
    const tag = r.u8();
    labels[key] = tag === 0 ? strAt(strings, r.uvar()) : tag === 1 ? r.svar() : tag === 2 ? r.f64() : bad(`label tag ${tag}`);
  }
  return labels;
}

function bad(what: string): never {
  throw new DecodeError(`invalid ${what}`);
}

function strAt(strings: string[], i: number): string {
  const s = strings[i];
  if (s === undefined) throw new DecodeError(`string index ${i} out of range`);
  return s;
}

export function decodeMeta(bytes: Uint8Array): SegmentMeta {
  const r = new ByteReader(bytes);
  const nTypes = r.count(2);
  const sampleTypes: ValueType[] = [];
  for (let i = 0; i < nTypes; i++) sampleTypes.push({ type: r.str(), unit: r.str() });
  const flags = r.u8();
  const meta: Partial<SegmentMeta> = { sampleTypes };
  if (flags & 1) meta.defaultSampleType = r.str();
  if (flags & 2) meta.periodType = { type: r.str(), unit: r.str() };
  if (flags & 4) meta.period = r.f64();
  const mode = r.u8();
  if (mode === 0) {
    const unit: number[] = [];
    for (let i = 0; i < nTypes; i++) unit.push(r.f64());
    meta.valueMode = { kind: 'unit', unit };
  } else if (mode === 1) meta.valueMode = { kind: 'int' };
  else if (mode === 2) meta.valueMode = { kind: 'float' };
  else bad(`value mode ${mode}`);
  meta.timeUnitUs = r.uvar();
  if (meta.timeUnitUs < 1) bad('time unit');
  const nStrings = r.count();
  const strings: string[] = [];
  for (let i = 0; i < nStrings; i++) strings.push(r.str());
  const nTuples = r.count();
  const tuples: SampleTuple[] = [];
  for (let i = 0; i < nTuples; i++) {
    const f = r.u8();
    const t: SampleTuple = {};
    if (f & 1) t.pid = r.uvar();
    if (f & 2) t.tid = r.uvar();
    if (f & 4) t.thread = strAt(strings, r.uvar());
    if (f & 8) t.process = strAt(strings, r.uvar());
    if (f & 16) t.labels = decodeLabels(r, strings);
    tuples.push(t);
  }
  meta.tuples = tuples;
  return meta as SegmentMeta;
}

function readValue(r: ByteReader, mode: ValueMode): number {
  return mode.kind === 'int' ? r.svar() : r.f64();
}

export function decodeRows(bytes: Uint8Array, meta: SegmentMeta, stackCount: number): SegmentRows {
  const r = new ByteReader(bytes);
  const n = r.count(2);
  const tuple = new Uint32Array(n);
  const stack = new Uint32Array(n);
  const count = new Float64Array(n);
  const nTuples = meta.tuples.length;
  const nRuns = r.count(2);
  let filled = 0;
  for (let k = 0; k < nRuns; k++) {
    const t = r.uvar();
    const len = r.uvar();
    if (t >= nTuples) bad(`tuple ${t}`);
    if (len > n - filled) bad('tuple run length');
    tuple.fill(t, filled, filled + len);
    filled += len;
  }
  if (filled !== n) bad('tuple runs');
  let prevTuple = -1;
  let prevStack = 0;
  for (let i = 0; i < n; i++) {
    const d = r.uvar();
    const s = tuple[i] === prevTuple ? prevStack + d : d;
    if (s >= stackCount) bad(`stack id ${s} (segment may use ${stackCount})`);
    stack[i] = s;
    prevTuple = tuple[i]!;
    prevStack = s;
  }
  for (let i = 0; i < n; i++) count[i] = r.uvar();
  let sums: Float64Array[] | undefined;
  if (meta.valueMode.kind !== 'unit') {
    sums = [];
    for (let t = 0; t < meta.sampleTypes.length; t++) {
      const col = new Float64Array(n);
      for (let i = 0; i < n; i++) col[i] = readValue(r, meta.valueMode);
      sums.push(col);
    }
  }
  if (r.remaining !== 0) bad('rows section length');
  return { tuple, stack, count, sums };
}

export function decodeSamples(bytes: Uint8Array, meta: SegmentMeta, rowCount: number): SegmentSamples {
  const r = new ByteReader(bytes);
  const n = r.count(2);
  const timeBaseMs = r.f64();
  const timeMs = new Float64Array(n);
  const row = new Uint32Array(n);
  const scale = meta.timeUnitUs / 1000;
  let units = 0;
  for (let i = 0; i < n; i++) {
    units += r.uvar();
    timeMs[i] = timeBaseMs + units * scale;
  }
  for (let i = 0; i < n; i++) {
    const x = r.uvar();
    if (x >= rowCount) bad(`row ${x}`);
    row[i] = x;
  }
  let values: Float64Array[] | undefined;
  if (meta.valueMode.kind !== 'unit') {
    values = [];
    for (let t = 0; t < meta.sampleTypes.length; t++) {
      const col = new Float64Array(n);
      for (let i = 0; i < n; i++) col[i] = readValue(r, meta.valueMode);
      values.push(col);
    }
  }
  if (r.remaining !== 0) bad('samples section length');
  return { timeMs, row, values };
}
