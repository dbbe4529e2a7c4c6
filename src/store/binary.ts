// Byte-level encoding shared by the store's tables and segments: LEB128
// varints, zigzag for signed numbers, length-prefixed UTF-8 strings, and
// CRC-32. The reader is bounded: every read checks the remaining bytes and a
// count can never exceed what the buffer could hold, so a corrupt input ends in
// a DecodeError, never in a hang or a giant allocation.
// It must not know what a segment or a table is.

import zlib from 'node:zlib';

/** A malformed or truncated byte stream; callers turn it into a warning. */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

const textDecoder = new TextDecoder('utf-8', { fatal: false });
const textEncoder = new TextEncoder();

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initialSize = 4096) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.length++] = v & 0xff;
  }

  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v >>> 0, true);
    this.length += 4;
  }

  f64(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  /** Unsigned varint for non-negative safe integers (up to 2^53). */
  uvar(v: number): void {
    // Fast path: one byte, the common case for deltas and small ids.
    if (v < 0x80 && v >= 0 && this.length < this.buf.length) {
      this.buf[this.length++] = v;
      return;
    }
    this.reserve(8);
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }

  /** Signed varint (zigzag) for safe integers. */
  svar(v: number): void {
    this.uvar(v < 0 ? -2 * v - 1 : 2 * v);
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  str(s: string): void {
    const b = textEncoder.encode(s);
    this.uvar(b.length);
    this.bytes(b);
  }

  /** Overwrites 4 bytes at an earlier position (for lengths known later). */
  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

export class ByteReader {
  pos: number;
  readonly end: number;
  private view: DataView;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (n > this.end - this.pos) throw new DecodeError(`truncated: needs ${n} bytes at offset ${this.pos}, ${this.end - this.pos} left`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  uvar(): number {
    const buf = this.buf;
    let b = buf[this.pos];
    // Fast path: one byte, the common case for deltas and small ids.
    if (b !== undefined && b < 0x80 && this.pos < this.end) {
      this.pos++;
      return b;
    }
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw new DecodeError(`truncated varint at offset ${this.pos}`);
      b = buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
    }
    throw new DecodeError(`varint too long at offset ${this.pos}`);
  }

  svar(): number {
    const v = this.uvar();
    return v % 2 === 1 ? -(v + 1) / 2 : v / 2;
  }

  /** A count of items that each take at least `minBytes`: bounded by what is left. */
  count(minBytes = 1): number {
    const n = this.uvar();
    if (n * minBytes > this.remaining) throw new DecodeError(`count ${n} exceeds the ${this.remaining} bytes left at offset ${this.pos}`);
    return n;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  str(): string {
    const n = this.uvar();
    return textDecoder.decode(this.bytes(n));
  }
}

let crcTable: Int32Array | undefined;

function crc32Fallback(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let crc = -1;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

// zlib.crc32 appeared in Node 20.15; older 20.x gets the table version.
const nativeCrc32 = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;

/** CRC-32 (IEEE), as zlib computes it. */
export function crc32(data: Uint8Array): number {
  return nativeCrc32 ? nativeCrc32(data) >>> 0 : crc32Fallback(data);
}
