// Decoding of one segment file (format in segment-format.ts). Every read is
// bounded and checked: damage ends in a DecodeError, never another exception,
// a hang or a giant allocation.
// It must not read files or decide what to keep.

import zlib from 'node:zlib';
import type { Labels, ValueType } from '../profile/model.js';
import { ByteReader, DecodeError, crc32 } from './binary.js';
import { CODECS, MAGIC, SEGMENT_VERSION, SectionKind, type SampleTuple, type SectionRef, type SegmentHeader, type SegmentMeta, type SegmentRows, type SegmentSamples, type ValueMode } from './segment-format.js';

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

/** One column of n values per sample type; none when every value is 1 ('unit' mode). */
function readValueColumns(r: ByteReader, meta: SegmentMeta, n: number): Float64Array[] | undefined {
  if (meta.valueMode.kind === 'unit') return undefined;
  const columns: Float64Array[] = [];
  for (let t = 0; t < meta.sampleTypes.length; t++) {
    const col = new Float64Array(n);
    for (let i = 0; i < n; i++) col[i] = readValue(r, meta.valueMode);
    columns.push(col);
  }
  return columns;
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
  const sums = readValueColumns(r, meta, n);
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
  const values = readValueColumns(r, meta, n);
  if (r.remaining !== 0) bad('samples section length');
  return { timeMs, row, values };
}
