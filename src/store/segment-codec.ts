// Encoding of one segment file (format in segment-format.ts): samples with
// global stack ids in, bytes out. Also re-exports the format and the decoder,
// so callers have one module to import.
// It must not read files or decide what to keep.

import zlib from 'node:zlib';
import type { Labels } from '../profile/model.js';
import { ByteWriter, crc32 } from './binary.js';
import { CODECS, MAGIC, SEGMENT_VERSION, SectionKind, type Codec, type SegmentMeta, type ValueMode } from './segment-format.js';

export * from './segment-format.js';
export * from './segment-decode.js';


export interface SegmentInput {
  windowStartMs: number;
  windowEndMs: number;
  generation: number;
  stackCount: number;
  meta: SegmentMeta;
  /** Samples in columns, in any order; times in ms, stack ids global; values per sample unless meta.valueMode is 'unit'. */
  samples: { count: number; time: ArrayLike<number>; tuple: ArrayLike<number>; stack: ArrayLike<number>; values?: number[][] };
  /** An encoded SPANS section body (uncompressed), if any. */
  spans?: Uint8Array;
  codec: Codec;
  /** Brotli quality (0–11) or zlib level (0–9). */
  level?: number;
}

function compress(raw: Uint8Array, codec: Codec, level?: number): Uint8Array {
  if (codec === 'deflate') {
    // A window no larger than the input compresses it the same, and zlib's
    // default state (256 KiB: window, hash chains) is allocated, zero-filled
    // and freed at every call; a section of a few KiB needs a few KiB of it.
    const windowBits = Math.min(15, Math.max(9, Math.ceil(Math.log2(raw.length + 1))));
    return zlib.deflateRawSync(raw, { level: level ?? 9, windowBits, memLevel: Math.max(1, Math.min(8, windowBits - 7)) });
  }
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

/**
 * Sample indexes in time order, ties in input order. A capture window is
 * nearly sorted already (samples of different CPUs meet in the ring a few
 * microseconds out of order, a dozen times in 2,000): insertion sort then
 * costs one pass plus a step per misplaced sample, where a comparator sort
 * cost 1.5 ms per flush, the agent's largest single cost. Input with more
 * disorder than that goes to the general sort.
 */
export function timeOrder(time: ArrayLike<number>, count: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  let budget = 8 * count;
  for (let i = 1; i < count; i++) {
    const t = time[i]!;
    if (!(t < time[order[i - 1]!]!)) continue;
    let j = i;
    while (j > 0 && t < time[order[j - 1]!]!) {
      order[j] = order[j - 1]!;
      j--;
    }
    order[j] = i;
    budget -= i - j;
    if (budget < 0) return order.sort((a, b) => time[a]! - time[b]! || a - b);
  }
  return order;
}

/** Encodes a whole segment file. */
export function encodeSegment(input: SegmentInput): Uint8Array {
  const { meta: m } = input;
  const nTypes = m.sampleTypes.length;
  const unit = Math.max(1, Math.floor(m.timeUnitUs));
  const { count, time, tuple, stack, values } = input.samples;
  if (m.valueMode.kind !== 'unit' && !values) throw new Error(`value mode ${m.valueMode.kind} needs every sample's values`);
  const byTime = timeOrder(time, count);
  const timeBaseMs = count ? Math.floor((time[byTime[0]!]! * 1000) / unit) * unit / 1000 : input.windowStartMs;

  // Rows: distinct (tuple, stack), sorted so stack ids delta-code well.
  const rowOf = new Map<number, number>();
  const rowKeys: { tuple: number; stack: number; count: number; sums: number[] }[] = [];
  const sampleRow = new Uint32Array(count);
  const stackSpan = input.stackCount + 1;
  for (let k = 0; k < count; k++) {
    const i = byTime[k]!;
    const key = tuple[i]! * stackSpan + stack[i]!;
    let r = rowOf.get(key);
    if (r === undefined) {
      r = rowKeys.length;
      rowKeys.push({ tuple: tuple[i]!, stack: stack[i]!, count: 0, sums: new Array<number>(nTypes).fill(0) });
      rowOf.set(key, r);
    }
    const row = rowKeys[r]!;
    row.count++;
    if (values) for (let t = 0; t < nTypes; t++) row.sums[t]! += values[i]![t] ?? 0;
    sampleRow[k] = r;
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

  const sw = new ByteWriter(count * 3 + 16);
  sw.uvar(count);
  sw.f64(timeBaseMs);
  let prevUnits = 0;
  for (let k = 0; k < count; k++) {
    const units = Math.max(prevUnits, Math.round(((time[byTime[k]!]! - timeBaseMs) * 1000) / unit));
    sw.uvar(units - prevUnits);
    prevUnits = units;
  }
  for (let k = 0; k < count; k++) sw.uvar(newIndex[sampleRow[k]!]!);
  if (values && vm.kind !== 'unit') for (let t = 0; t < nTypes; t++) for (let k = 0; k < count; k++) writeValue(sw, values[byTime[k]!]![t] ?? 0, vm);

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
