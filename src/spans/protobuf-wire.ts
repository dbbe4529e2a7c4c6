// A minimal reader of the protobuf wire format: varints, fixed 32/64-bit
// values and length-delimited fields, with bounds checks that turn truncated
// or garbled input into a WireError instead of an out-of-range read. It knows
// no schema; the OTLP decoder walks fields with it.

export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  Bytes = 2,
  Fixed32 = 5,
}

export class WireReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a varint as a JS number (exact up to 2^53; larger values lose low bits). */
  varint(): number {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
    throw new WireError('varint longer than 10 bytes');
  }

  /** Reads a 64-bit varint exactly, as a bigint. */
  varintBig(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, result);
      shift += 7n;
    }
    throw new WireError('varint longer than 10 bytes');
  }

  tag(): { field: number; type: number } {
    const t = this.varint();
    const field = Math.floor(t / 8);
    if (field === 0) throw new WireError('field number 0');
    return { field, type: t & 7 };
  }

  fixed64(): bigint {
    if (this.pos + 8 > this.end) throw new WireError('truncated fixed64');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getBigUint64(0, true);
    this.pos += 8;
    return v;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new WireError('truncated double');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) throw new WireError('truncated fixed32');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getUint32(0, true);
    this.pos += 4;
    return v;
  }

  /** A length-delimited field: returns a reader over its bytes and skips past them. */
  sub(): WireReader {
    const len = this.varint();
    if (len > this.end - this.pos) throw new WireError('length-delimited field runs past the end');
    const r = new WireReader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }

  bytes(): Uint8Array {
    const r = this.sub();
    return this.buf.subarray(r.pos, r.end);
  }

  string(): string {
    return textDecoder.decode(this.bytes());
  }

  skip(type: number): void {
    switch (type) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        if (this.pos + 8 > this.end) throw new WireError('truncated fixed64');
        this.pos += 8;
        return;
      case WireType.Bytes:
        this.sub();
        return;
      case WireType.Fixed32:
        if (this.pos + 4 > this.end) throw new WireError('truncated fixed32');
        this.pos += 4;
        return;
      default:
        throw new WireError(`unsupported wire type ${type}`);
    }
  }
}

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** Writes protobuf fields; enough for small replies and test fixtures. */
export class WireWriter {
  private parts: number[] = [];

  private varintRaw(v: number): void {
    while (v >= 0x80) {
      this.parts.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.parts.push(v);
  }

  varint(field: number, v: number): this {
    this.varintRaw(field * 8 + WireType.Varint);
    this.varintRaw(v);
    return this;
  }

  fixed64(field: number, v: bigint): this {
    this.varintRaw(field * 8 + WireType.Fixed64);
    for (let i = 0n; i < 8n; i++) this.parts.push(Number((v >> (i * 8n)) & 0xffn));
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.varintRaw(field * 8 + WireType.Bytes);
    this.varintRaw(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, m: WireWriter): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
