// Protobuf wire-format primitives, the one implementation profctl has: a
// bounds-checked cursor over bytes and a growable writer. It knows no schema;
// the pprof reader and writer and the OTLP trace decoder walk fields with it.
// Every read checks its bounds and throws WireError, so a truncated or
// garbled message fails fast instead of reading past the end or looping;
// callers turn WireError into an error that names the input.

export class WireError extends Error {
  override name = 'WireError';
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  Len = 2,
  Fixed32 = 5,
}

const TWO_32 = 4294967296;

export class WireReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    public end = buf.length,
  ) {
    this.pos = start;
  }

  /** A varint as a JS number; int64 values above 2^53 lose precision, negatives come back negative. */
  varint(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= this.end) throw new WireError('unexpected end of data');
    let b = buf[pos++]!;
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    // Low 28 bits first: most varints in a profile (ids, counts) end here.
    let lo = b & 0x7f;
    let shift = 7;
    while (shift < 28) {
      if (pos >= this.end) throw new WireError('unexpected end of data in a varint');
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return lo >>> 0;
      }
      shift += 7;
    }
    // Bits 28..63: split into a 32-bit low word and a 32-bit high word so
    // that negative int64 values (ten-byte varints) decode exactly.
    if (pos >= this.end) throw new WireError('unexpected end of data in a varint');
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    let hi = (b & 0x7f) >> 4;
    let shift2 = 3;
    while (b >= 0x80) {
      if (shift2 > 31) throw new WireError('varint longer than 10 bytes');
      if (pos >= this.end) throw new WireError('unexpected end of data in a varint');
      b = buf[pos++]!;
      hi |= (b & 0x7f) << shift2;
      shift2 += 7;
    }
    this.pos = pos;
    lo >>>= 0;
    if (hi & 0x80000000) {
      // Negative: two's complement over 64 bits.
      const nlo = ~lo >>> 0;
      const nhi = ~hi >>> 0;
      return -(nhi * TWO_32 + nlo + 1);
    }
    return (hi >>> 0) * TWO_32 + lo;
  }

  /** A field tag: field number * 8 + wire type. */
  tag(): number {
    return this.varint();
  }

  /** Length of a length-delimited field, checked against the end of the enclosing message. */
  length(): number {
    const n = this.varint();
    if (n < 0 || this.pos + n > this.end) throw new WireError('length-delimited field runs past the end of its message');
    return n;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.advance(8);
        return;
      case WireType.Len: {
        // Read the length first: `this.pos += this.length()` would add to the position before the length.
        const n = this.length();
        this.pos += n;
        return;
      }
      case WireType.Fixed32:
        this.advance(4);
        return;
      default:
        throw new WireError(`unsupported wire type ${wireType}`);
    }
  }

  /** A fixed64 field, exact (times in nanoseconds need all 64 bits). */
  fixed64(): bigint {
    this.need(8);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getBigUint64(0, true);
    this.pos += 8;
    return v;
  }

  double(): number {
    this.need(8);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  /** A reader over a length-delimited field's bytes (a sub-message); skips past them. */
  sub(): WireReader {
    const n = this.length();
    const r = new WireReader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  bytes(): Uint8Array {
    const n = this.length();
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new WireError('unexpected end of data');
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new WireError('unexpected end of data');
    this.pos += n;
  }

  /**
   * Reads a repeated varint field into out: packed (wire type 2) or one
   * element (wire type 0), as protobuf allows both encodings.
   */
  repeatedVarint(wireType: number, out: number[]): void {
    if (wireType === WireType.Varint) {
      out.push(this.varint());
      return;
    }
    if (wireType !== WireType.Len) throw new WireError(`wire type ${wireType} for a repeated integer`);
    const n = this.length();
    const stop = this.pos + n;
    const saved = this.end;
    this.end = stop;
    while (this.pos < stop) out.push(this.varint());
    this.end = saved;
  }
}

/** Appends protobuf-encoded fields to a growing buffer. */
export class WireWriter {
  private buf: Uint8Array;
  pos = 0;

  constructor(initialSize = 1 << 16) {
    this.buf = new Uint8Array(initialSize);
  }

  /** Empties the writer to reuse its buffer. */
  reset(): void {
    this.pos = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  varint(v: number): void {
    this.ensure(10);
    if (v >= 0 && v < 0x80000000) {
      while (v >= 0x80) {
        this.buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      this.buf[this.pos++] = v;
      return;
    }
    // Large or negative: a 64-bit two's complement in two 32-bit words.
    const n = Math.trunc(v);
    let hi = Math.floor(n / TWO_32);
    let lo = (n - hi * TWO_32) >>> 0;
    hi = hi >>> 0;
    while (hi > 0 || lo >= 0x80) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
      hi = hi >>> 7;
    }
    this.buf[this.pos++] = lo;
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** An int field, omitted when zero as proto3 does. */
  uintField(field: number, v: number): void {
    if (v === 0) return;
    this.tag(field, WireType.Varint);
    this.varint(v);
  }

  bytesField(field: number, bytes: Uint8Array): void {
    this.tag(field, WireType.Len);
    this.varint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  stringField(field: number, s: string): void {
    this.bytesField(field, Buffer.from(s, 'utf8'));
  }

  packedField(field: number, values: ArrayLike<number>): void {
    if (values.length === 0) return;
    const inner = new WireWriter(values.length * 2 + 16);
    for (let i = 0; i < values.length; i++) inner.varint(values[i]!);
    this.bytesField(field, inner.finish());
  }

  /** Writes a nested message built by fill(). */
  message(field: number, fill: (w: WireWriter) => void): void {
    const inner = new WireWriter(256);
    fill(inner);
    this.bytesField(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
