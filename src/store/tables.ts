// The store's shared frame and stack tables: append-only files, one pair per
// table generation, that every segment of that generation references by id,
// so a stack seen in ten thousand segments is written once.
//
// File: a 16-byte header ("PCTB", version, kind, creation time), then chunks. A chunk is
// [u32 payload length][u32 CRC-32 of payload][payload = firstId, count,
// entries]. The writer appends one chunk per flush and fsyncs it before the
// segment that uses it is renamed into place. A torn or corrupt tail (a crash
// mid-append, or an append still in flight) fails its length or CRC check: a
// reader stops there, the writer truncates it on open.
// It must not know about segments, samples or eviction.

import fs from 'node:fs';
import type { Frame, FrameKind } from '../profile/model.js';
import { ByteReader, ByteWriter, DecodeError, crc32 } from './binary.js';
import { FILE_MODE } from './layout.js';

export type TableKind = 'frames' | 'stacks';

const MAGIC = 0x42544350; // "PCTB" little-endian
const VERSION = 1;
const HEADER_BYTES = 16;
const CHUNK_HEADER_BYTES = 8;
const KIND_CODE: Record<TableKind, number> = { frames: 1, stacks: 2 };

const FRAME_KINDS: FrameKind[] = ['native', 'kernel', 'jit', 'unknown'];
const F_INLINE = 4;
const F_FILE = 8;
const F_LINE = 16;
const F_RAW = 32;

/** A key that tells two frames apart on every field the store keeps. */
export function frameStoreKey(f: Frame): string {
  return `${f.kind}\u0000${f.module}\u0000${f.name}\u0000${f.inline ? 1 : 0}\u0000${f.file ?? '\u0001'}\u0000${f.line ?? ''}\u0000${f.rawName ?? '\u0001'}`;
}

function encodeFrame(w: ByteWriter, f: Frame): void {
  let kind = FRAME_KINDS.indexOf(f.kind);
  if (kind < 0) kind = 3;
  let flags = kind;
  if (f.inline) flags |= F_INLINE;
  if (f.file !== undefined) flags |= F_FILE;
  if (f.line !== undefined && Number.isSafeInteger(f.line) && f.line >= 0) flags |= F_LINE;
  if (f.rawName !== undefined) flags |= F_RAW;
  w.u8(flags);
  w.str(f.name);
  w.str(f.module);
  if (flags & F_FILE) w.str(f.file!);
  if (flags & F_LINE) w.uvar(f.line!);
  if (flags & F_RAW) w.str(f.rawName!);
}

function decodeFrame(r: ByteReader): Frame {
  const flags = r.u8();
  const frame: Frame = { name: r.str(), module: r.str(), kind: FRAME_KINDS[flags & 3]! };
  if (flags & F_INLINE) frame.inline = true;
  if (flags & F_FILE) frame.file = r.str();
  if (flags & F_LINE) frame.line = r.uvar();
  if (flags & F_RAW) frame.rawName = r.str();
  return frame;
}

function encodeStack(w: ByteWriter, stack: number[]): void {
  w.uvar(stack.length);
  for (const id of stack) w.uvar(id);
}

function decodeStack(r: ByteReader, frameCount: number): number[] {
  const n = r.count();
  const stack = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const id = r.uvar();
    // A stack may only name frames that were durable before it.
    if (id >= frameCount) throw new DecodeError(`stack names frame ${id} but the frame table has ${frameCount}`);
    stack[i] = id;
  }
  return stack;
}

export function tableFileHeader(kind: TableKind, createdMs: number): Uint8Array {
  const w = new ByteWriter(HEADER_BYTES);
  w.u32(MAGIC);
  w.u8(VERSION);
  w.u8(KIND_CODE[kind]);
  w.u8(0);
  w.u8(0);
  w.f64(createdMs);
  return w.finish();
}

/** One chunk as bytes: header and payload, ready for a single append. */
export function encodeChunk<T>(kind: TableKind, firstId: number, entries: T[]): Uint8Array {
  const w = new ByteWriter(1024);
  w.u32(0);
  w.u32(0);
  w.uvar(firstId);
  w.uvar(entries.length);
  for (const e of entries) {
    if (kind === 'frames') encodeFrame(w, e as Frame);
    else encodeStack(w, e as number[]);
  }
  const out = w.finish();
  w.patchU32(0, out.length - CHUNK_HEADER_BYTES);
  w.patchU32(4, crc32(out.subarray(CHUNK_HEADER_BYTES)));
  return out;
}

export interface TableScan<T> {
  entries: T[];
  /** Byte offset just past the last valid chunk: where the next read or append starts. */
  validBytes: number;
  /** Bytes after validBytes that did not form a valid chunk (torn, corrupt or in flight). */
  invalidTailBytes: number;
  /** When the table generation was started (from the file header; 0 when not read). */
  createdMs: number;
}

/**
 * Parses the chunks of a table file's bytes starting at `offset` (0 = include
 * the file header). `firstId` is the id the first new entry must carry;
 * `frameCount` bounds the frame ids a stack may use.
 */
export function scanTableBytes<T extends Frame | number[]>(
  buf: Uint8Array,
  kind: TableKind,
  offset: number,
  firstId: number,
  frameCount = () => 0,
): TableScan<T> {
  const entries: T[] = [];
  let pos = offset;
  let createdMs = 0;
  if (pos === 0) {
    const r = new ByteReader(buf);
    if (buf.length < HEADER_BYTES) return { entries, validBytes: 0, invalidTailBytes: buf.length, createdMs };
    const magic = r.u32();
    const version = r.u8();
    const code = r.u8();
    if (magic !== MAGIC || code !== KIND_CODE[kind]) throw new DecodeError(`not a profctl ${kind} table`);
    if (version !== VERSION) throw new DecodeError(`${kind} table version ${version} is not supported (this profctl reads version ${VERSION})`);
    r.u8();
    r.u8();
    createdMs = r.f64();
    pos = HEADER_BYTES;
  }
  let nextId = firstId;
  while (pos + CHUNK_HEADER_BYTES <= buf.length) {
    const view = new DataView(buf.buffer, buf.byteOffset + pos, CHUNK_HEADER_BYTES);
    const len = view.getUint32(0, true);
    const sum = view.getUint32(4, true);
    const start = pos + CHUNK_HEADER_BYTES;
    if (len > buf.length - start) break;
    const payload = buf.subarray(start, start + len);
    if (crc32(payload) !== sum) break;
    const chunk: T[] = [];
    try {
      const r = new ByteReader(payload);
      if (r.uvar() !== nextId) break;
      const n = r.count();
      for (let i = 0; i < n; i++) {
        chunk.push((kind === 'frames' ? decodeFrame(r) : decodeStack(r, frameCount())) as T);
      }
      if (r.remaining !== 0) break;
    } catch (err) {
      if (err instanceof DecodeError) break;
      throw err;
    }
    for (const e of chunk) entries.push(e);
    nextId += chunk.length;
    pos = start + len;
  }
  return { entries, validBytes: pos, invalidTailBytes: buf.length - pos, createdMs };
}

/** Reads a table file from `offset` on (only the bytes not seen before). */
export function readTableFile<T extends Frame | number[]>(
  file: string,
  kind: TableKind,
  offset: number,
  firstId: number,
  frameCount?: () => number,
): TableScan<T> {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buf = new Uint8Array(Math.max(0, size - offset));
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    const scan = scanTableBytes<T>(buf.subarray(0, got), kind, offset, firstId, frameCount);
    return { ...scan, validBytes: offset + scan.validBytes };
  } finally {
    fs.closeSync(fd);
  }
}

/** Appends bytes durably at `atBytes`; on failure the file is cut back so no torn chunk stays behind. */
export function appendDurably(file: string, atBytes: number, bytes: Uint8Array, durable: boolean): void {
  // No O_CREAT: a table removed under the writer must fail (ENOENT), not come back as a file of zeros up to atBytes.
  const fd = fs.openSync(file, fs.constants.O_WRONLY);
  try {
    try {
      let done = 0;
      while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, atBytes + done);
      if (durable) fs.fsyncSync(fd);
    } catch (err) {
      try {
        fs.ftruncateSync(fd, atBytes);
      } catch {
        // The torn tail is caught by its CRC on the next open.
      }
      throw err;
    }
  } finally {
    fs.closeSync(fd);
  }
}
