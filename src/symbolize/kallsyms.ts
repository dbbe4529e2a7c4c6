// Kernel symbols from /proc/kallsyms: "ffffffff81000000 T _text" and, for
// loadable modules, "ffffffffc0a01000 t foo_init [foo]". Only text symbols
// are kept, sorted, and searched by address; kernel addresses exceed 2^53 so
// they are kept as BigInt in a BigUint64Array. Parsed from bytes with typed
// arrays: no string or object per line.
//
// Without root (kptr_restrict) every address reads as zero: the table is then
// empty and says so (`restricted`), and kernel frames stay `[unknown] 0x…`.
// It must not demangle or build frames for user space.

import { closeSync, openSync, readSync } from 'node:fs';

/** Module name of frames in the kernel image, as perf prints it. */
export const KERNEL_MODULE = '[kernel.kallsyms]';

export interface KernelSymbol {
  name: string;
  /** KERNEL_MODULE, or "[modname]" for a loadable module. */
  module: string;
  start: bigint;
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX[0x61 + i] = HEX[0x41 + i] = 10 + i;

/**
 * The kernel's text symbols, held compactly: /proc/kallsyms has ~120k lines,
 * and a string, BigInt or object per line costs tens of MB while parsing (a
 * resident agent's peak memory). The file is read in chunks; addresses go to
 * two Uint32Arrays (high and low halves), names to one byte buffer decoded on
 * lookup, modules to a small index.
 */
export class KernelSymbols {
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  private readonly nameAt: Uint32Array;
  private readonly nameLen: Uint16Array;
  private readonly moduleOf: Uint16Array;
  private readonly moduleNames: string[];
  private readonly names: Buffer;
  /** Every address was zero: the reader lacks the privilege to see them. */
  readonly restricted: boolean;

  private constructor(p: KallsymsBuilder | undefined, restricted: boolean) {
    this.restricted = restricted;
    this.moduleNames = p ? p.modules : [KERNEL_MODULE];
    this.names = p ? p.names.subarray(0, p.namesLen) : Buffer.alloc(0);
    const n = p ? p.n : 0;
    const order = p ? orderByAddress(p) : new Uint32Array(0);
    // Several names for one address (_text/_stext, aliases): keep the best ranked.
    const keep: number[] = [];
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      const prev = keep.length ? keep[keep.length - 1]! : -1;
      if (prev >= 0 && p!.hi[prev] === p!.hi[i] && p!.lo[prev] === p!.lo[i]) {
        if (p!.rank[i]! < p!.rank[prev]!) keep[keep.length - 1] = i;
      } else keep.push(i);
    }
    const m = keep.length;
    this.hi = new Uint32Array(m);
    this.lo = new Uint32Array(m);
    this.nameAt = new Uint32Array(m);
    this.nameLen = new Uint16Array(m);
    this.moduleOf = new Uint16Array(m);
    keep.forEach((i, k) => {
      this.hi[k] = p!.hi[i]!;
      this.lo[k] = p!.lo[i]!;
      this.nameAt[k] = p!.nameAt[i]!;
      this.nameLen[k] = p!.nameLen[i]!;
      this.moduleOf[k] = p!.moduleOf[i]!;
    });
  }

  get size(): number {
    return this.hi.length;
  }

  static parse(text: string | Buffer): KernelSymbols {
    const b = new KallsymsBuilder();
    b.add(typeof text === 'string' ? Buffer.from(text + '\n', 'latin1') : Buffer.concat([text, Buffer.from('\n')]));
    return b.finish();
  }

  static read(path = '/proc/kallsyms'): KernelSymbols {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return new KernelSymbols(undefined, true);
    }
    try {
      const b = new KallsymsBuilder();
      const chunk = Buffer.allocUnsafe(1 << 18);
      let carry = Buffer.alloc(0);
      for (;;) {
        const got = readSync(fd, chunk, 0, chunk.length, null);
        if (got <= 0) break;
        const data = carry.length ? Buffer.concat([carry, chunk.subarray(0, got)]) : chunk.subarray(0, got);
        const last = data.lastIndexOf(0x0a);
        if (last >= 0) b.add(data.subarray(0, last + 1));
        carry = Buffer.from(data.subarray(last + 1));
      }
      if (carry.length) b.add(Buffer.concat([carry, Buffer.from('\n')]));
      return b.finish();
    } catch {
      return new KernelSymbols(undefined, true);
    } finally {
      closeSync(fd);
    }
  }

  /** The symbol at or below addr; undefined below the first symbol or with no table. */
  lookup(addr: bigint): KernelSymbol | undefined {
    const ah = Number(addr >> 32n);
    const al = Number(addr & 0xffffffffn);
    const n = this.hi.length;
    let lo = 0;
    let hi = n - 1;
    let i = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const mh = this.hi[mid]!;
      if (mh < ah || (mh === ah && this.lo[mid]! <= al)) {
        i = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (i < 0) return undefined;
    const start = (BigInt(this.hi[i]!) << 32n) | BigInt(this.lo[i]!);
    // Past the last symbol of a module or the kernel text, an address belongs to nobody we know.
    if (i === n - 1 && addr - start > 0x100000n) return undefined;
    const name = this.names.toString('latin1', this.nameAt[i]!, this.nameAt[i]! + this.nameLen[i]!);
    return { name, module: this.moduleNames[this.moduleOf[i]!]!, start };
  }

  /** Used by the builder. */
  static fromBuilder(b: KallsymsBuilder): KernelSymbols {
    return new KernelSymbols(b.n > 0 ? b : undefined, b.lines > 0 && b.n === 0 && b.zeros > 0);
  }
}

/** Indices in address order (then rank). Kernel addresses share their high half: pack and sort natively. */
function orderByAddress(p: KallsymsBuilder): Uint32Array {
  const n = p.n;
  const order = new Uint32Array(n);
  let oneHigh = n < 2 ** 21;
  for (let i = 1; i < n && oneHigh; i++) if (p.hi[i] !== p.hi[0]) oneHigh = false;
  if (oneHigh) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = p.lo[i]! * 2 ** 21 + i;
    keys.sort();
    for (let i = 0; i < n; i++) order[i] = keys[i]! % 2 ** 21;
    return order;
  }
  for (let i = 0; i < n; i++) order[i] = i;
  return order.sort((a, b) => p.hi[a]! - p.hi[b]! || p.lo[a]! - p.lo[b]! || p.rank[a]! - p.rank[b]!);
}

/** Accumulates "ADDR TYPE NAME[\t[MODULE]]" lines, text symbols (t T w W) only, chunk by chunk. */
class KallsymsBuilder {
  n = 0;
  lines = 0;
  zeros = 0;
  hi = new Uint32Array(1 << 14);
  lo = new Uint32Array(1 << 14);
  rank = new Uint8Array(1 << 14);
  nameAt = new Uint32Array(1 << 14);
  nameLen = new Uint16Array(1 << 14);
  moduleOf = new Uint16Array(1 << 14);
  names = Buffer.allocUnsafe(1 << 20);
  namesLen = 0;
  modules = [KERNEL_MODULE];
  private readonly moduleIndex = new Map<string, number>([[KERNEL_MODULE, 0]]);

  private grow(): void {
    const cap = this.hi.length * 2;
    const g = <T extends Uint32Array | Uint16Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.hi = g(this.hi, (c) => new Uint32Array(c));
    this.lo = g(this.lo, (c) => new Uint32Array(c));
    this.rank = g(this.rank, (c) => new Uint8Array(c));
    this.nameAt = g(this.nameAt, (c) => new Uint32Array(c));
    this.nameLen = g(this.nameLen, (c) => new Uint16Array(c));
    this.moduleOf = g(this.moduleOf, (c) => new Uint16Array(c));
  }

  /** Parses whole lines (text ends with a newline). */
  add(text: Buffer): void {
    let pos = 0;
    while (pos < text.length) {
      let end = text.indexOf(0x0a, pos);
      if (end < 0) end = text.length;
      const lineStart = pos;
      pos = end + 1;
      if (end === lineStart) continue;
      this.lines++;
      let h = 0;
      let l = 0;
      let p = lineStart;
      let digits = 0;
      for (; p < end && text[p] !== 0x20; p++, digits++) {
        const d = HEX[text[p]!]!;
        if (d < 0) break;
        h = (h * 16 + Math.floor(l / 0x10000000)) >>> 0;
        l = ((l % 0x10000000) * 16 + d) >>> 0;
      }
      if (digits === 0 || digits > 16 || text[p] !== 0x20 || p + 2 >= end) continue;
      const type = text[p + 1]!;
      if (type !== 0x74 && type !== 0x54 && type !== 0x77 && type !== 0x57) continue; // t T w W
      if (text[p + 2] !== 0x20) continue;
      if (h === 0 && l === 0) {
        this.zeros++;
        continue;
      }
      const nameStart = p + 3;
      let nameEnd = nameStart;
      while (nameEnd < end && text[nameEnd] !== 0x09 && text[nameEnd] !== 0x20) nameEnd++;
      let mod = 0;
      if (nameEnd < end) {
        const modText = text.toString('latin1', nameEnd, end).trim();
        if (modText.startsWith('[')) {
          let idx = this.moduleIndex.get(modText);
          if (idx === undefined) {
            idx = this.modules.length;
            this.modules.push(modText);
            this.moduleIndex.set(modText, idx);
          }
          mod = idx;
        }
      }
      let underscores = 0;
      while (underscores < 9 && text[nameStart + underscores] === 0x5f) underscores++;
      if (this.n === this.hi.length) this.grow();
      const len = Math.min(nameEnd - nameStart, 0xffff);
      if (this.namesLen + len > this.names.length) {
        const bigger = Buffer.allocUnsafe(this.names.length * 2 + len);
        this.names.copy(bigger, 0, 0, this.namesLen);
        this.names = bigger;
      }
      text.copy(this.names, this.namesLen, nameStart, nameStart + len);
      const i = this.n++;
      this.hi[i] = h;
      this.lo[i] = l;
      // Global before local, then fewer leading underscores (do_sys_open over __do_sys_open).
      this.rank[i] = (type === 0x54 || type === 0x57 ? 0 : 10) + underscores;
      this.nameAt[i] = this.namesLen;
      this.nameLen[i] = len;
      this.moduleOf[i] = mod;
      this.namesLen += len;
    }
  }

  finish(): KernelSymbols {
    return KernelSymbols.fromBuilder(this);
  }
}
