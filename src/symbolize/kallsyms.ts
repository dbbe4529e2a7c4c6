// Kernel symbols from /proc/kallsyms: "ffffffff81000000 T _text" and, for
// loadable modules, "ffffffffc0a01000 t foo_init [foo]". Only text symbols
// are kept, sorted, and searched by address; kernel addresses exceed 2^53, so
// each is kept as two 32-bit halves. Parsed from bytes into typed arrays: no
// string or object per line.
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

/** Entries per block: a block is one ArrayBuffer of 17 bytes per entry (about 272 KiB). */
const BLOCK_BITS = 14;
const BLOCK = 1 << BLOCK_BITS;
const BLOCK_MASK = BLOCK - 1;
/** Names are copied into 256 KiB buffers; a name never straddles two. */
const NAME_BLOCK_BITS = 18;
const NAME_BLOCK = 1 << NAME_BLOCK_BITS;

/** Fixed-size columns of parsed lines, views over one buffer. */
class EntryBlock {
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
  /** (name block << NAME_BLOCK_BITS) | offset in it. */
  readonly nameAt: Uint32Array;
  readonly nameLen: Uint16Array;
  readonly moduleOf: Uint16Array;
  readonly rank: Uint8Array;
  constructor() {
    const buf = new ArrayBuffer(BLOCK * 17);
    this.hi = new Uint32Array(buf, 0, BLOCK);
    this.lo = new Uint32Array(buf, BLOCK * 4, BLOCK);
    this.nameAt = new Uint32Array(buf, BLOCK * 8, BLOCK);
    this.nameLen = new Uint16Array(buf, BLOCK * 12, BLOCK);
    this.moduleOf = new Uint16Array(buf, BLOCK * 14, BLOCK);
    this.rank = new Uint8Array(buf, BLOCK * 16, BLOCK);
  }
}

/**
 * The kernel's text symbols, held compactly: /proc/kallsyms has ~120k lines,
 * and a string, BigInt or object per line costs tens of MB while parsing (a
 * resident agent's peak memory). Lines are parsed from a reused read buffer
 * into fixed-size blocks of typed arrays and names into fixed-size byte
 * buffers, which are kept as they are: growing one array by doubling left
 * ~9 MB of discarded copies that V8 frees only at its next full collection,
 * long after start-up. A sorted index of entries (one Uint32Array) is the
 * only thing built at the end. Names are decoded on lookup.
 */
export class KernelSymbols {
  private readonly blocks: EntryBlock[];
  private readonly nameBlocks: Buffer[];
  private readonly moduleNames: string[];
  /** Entry numbers in address order, one per address (the best-ranked alias). */
  private readonly order: Uint32Array;
  /** Every address was zero: the reader lacks the privilege to see them. */
  readonly restricted: boolean;

  private constructor(p: KallsymsBuilder | undefined, restricted: boolean) {
    this.restricted = restricted;
    this.blocks = p ? p.blocks : [];
    this.nameBlocks = p ? p.nameBlocks : [];
    this.moduleNames = p ? p.modules : [KERNEL_MODULE];
    this.order = p ? bestPerAddress(p, orderByAddress(p)) : new Uint32Array(0);
  }

  get size(): number {
    return this.order.length;
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
      // One buffer for the whole read: a partial last line moves to its front.
      const chunk = Buffer.allocUnsafeSlow(1 << 18);
      let have = 0;
      for (;;) {
        const got = readSync(fd, chunk, have, chunk.length - have, null);
        if (got <= 0) break;
        const end = have + got;
        const last = chunk.lastIndexOf(0x0a, end - 1);
        if (last < 0) {
          // A line longer than the buffer is not a kallsyms line: drop it.
          have = end === chunk.length ? 0 : end;
          continue;
        }
        b.add(chunk.subarray(0, last + 1));
        chunk.copy(chunk, 0, last + 1, end);
        have = end - (last + 1);
      }
      if (have) b.add(Buffer.concat([chunk.subarray(0, have), Buffer.from('\n')]));
      return b.finish();
    } catch {
      return new KernelSymbols(undefined, true);
    } finally {
      closeSync(fd);
    }
  }

  /** The symbol at or below addr; undefined below the first symbol or with no table. */
  lookup(addr: bigint): KernelSymbol | undefined {
    const at = this.indexOf(addr);
    return at < 0 ? undefined : this.symbolAt(at);
  }

  /** Position (0..size-1, one per function: a cache key) of the symbol at or below addr, or -1. */
  indexOf(addr: bigint): number {
    const ah = Number(addr >> 32n);
    const al = Number(addr & 0xffffffffn);
    const order = this.order;
    const blocks = this.blocks;
    const n = order.length;
    let lo = 0;
    let hi = n - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const e = order[mid]!;
      const b = blocks[e >>> BLOCK_BITS]!;
      const mh = b.hi[e & BLOCK_MASK]!;
      if (mh < ah || (mh === ah && b.lo[e & BLOCK_MASK]! <= al)) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // Past the last symbol of a module or the kernel text, an address belongs to nobody we know.
    if (found === n - 1 && found >= 0 && addr - this.startAt(found) > 0x100000n) return -1;
    return found;
  }

  private startAt(at: number): bigint {
    const e = this.order[at]!;
    const b = this.blocks[e >>> BLOCK_BITS]!;
    return (BigInt(b.hi[e & BLOCK_MASK]!) << 32n) | BigInt(b.lo[e & BLOCK_MASK]!);
  }

  /** The symbol at a position from indexOf; its name is decoded now. */
  symbolAt(at: number): KernelSymbol {
    const e = this.order[at]!;
    const b = this.blocks[e >>> BLOCK_BITS]!;
    const k = e & BLOCK_MASK;
    const nameAt = b.nameAt[k]!;
    const from = nameAt & (NAME_BLOCK - 1);
    const name = this.nameBlocks[nameAt >>> NAME_BLOCK_BITS]!.toString('latin1', from, from + b.nameLen[k]!);
    return { name, module: this.moduleNames[b.moduleOf[k]!]!, start: this.startAt(at) };
  }

  /** Used by the builder. */
  static fromBuilder(b: KallsymsBuilder): KernelSymbols {
    return new KernelSymbols(b.n > 0 ? b : undefined, b.lines > 0 && b.n === 0 && b.zeros > 0);
  }
}

/** Entry numbers in address order (then rank). Kernel addresses share their high half: pack and sort natively. */
function orderByAddress(p: KallsymsBuilder): Uint32Array {
  const n = p.n;
  const order = new Uint32Array(n);
  const hi = (e: number) => p.blocks[e >>> BLOCK_BITS]!.hi[e & BLOCK_MASK]!;
  const lo = (e: number) => p.blocks[e >>> BLOCK_BITS]!.lo[e & BLOCK_MASK]!;
  const rank = (e: number) => p.blocks[e >>> BLOCK_BITS]!.rank[e & BLOCK_MASK]!;
  let oneHigh = n < 2 ** 21;
  for (let e = 1; e < n && oneHigh; e++) if (hi(e) !== hi(0)) oneHigh = false;
  if (oneHigh) {
    const keys = new Float64Array(n);
    for (let e = 0; e < n; e++) keys[e] = lo(e) * 2 ** 21 + e;
    keys.sort();
    for (let k = 0; k < n; k++) order[k] = keys[k]! % 2 ** 21;
    return order;
  }
  for (let e = 0; e < n; e++) order[e] = e;
  return order.sort((a, b) => hi(a) - hi(b) || lo(a) - lo(b) || rank(a) - rank(b));
}

/** Several names for one address (_text/_stext, aliases): keeps the best ranked, in place. */
function bestPerAddress(p: KallsymsBuilder, order: Uint32Array): Uint32Array {
  const at = (e: number) => p.blocks[e >>> BLOCK_BITS]!;
  let m = 0;
  for (let k = 0; k < order.length; k++) {
    const e = order[k]!;
    const b = at(e);
    if (m > 0) {
      const prev = order[m - 1]!;
      const pb = at(prev);
      if (pb.hi[prev & BLOCK_MASK] === b.hi[e & BLOCK_MASK] && pb.lo[prev & BLOCK_MASK] === b.lo[e & BLOCK_MASK]) {
        if (b.rank[e & BLOCK_MASK]! < pb.rank[prev & BLOCK_MASK]!) order[m - 1] = e;
        continue;
      }
    }
    order[m++] = e;
  }
  // Aliases are few: keep the spare tail unless it is a sizeable share.
  return m > order.length * 0.9 ? order.subarray(0, m) : order.slice(0, m);
}

/** Accumulates "ADDR TYPE NAME[\t[MODULE]]" lines, text symbols (t T w W) only, chunk by chunk. */
class KallsymsBuilder {
  n = 0;
  lines = 0;
  zeros = 0;
  readonly blocks: EntryBlock[] = [];
  readonly nameBlocks: Buffer[] = [];
  private nameUsed = NAME_BLOCK;
  modules = [KERNEL_MODULE];
  private readonly moduleIndex = new Map<string, number>([[KERNEL_MODULE, 0]]);

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
      // Shifts keep both halves small integers (int32): this loop runs once per
      // line before V8 optimizes it, and a double per step allocated megabytes.
      for (; p < end && text[p] !== 0x20; p++, digits++) {
        const d = HEX[text[p]!]!;
        if (d < 0) break;
        h = (h << 4) | (l >>> 28);
        l = (l << 4) | d;
      }
      if (digits === 0 || digits > 16 || text[p] !== 0x20 || p + 2 >= end) continue;
      const type = text[p + 1]!;
      if (type !== 0x74 && type !== 0x54 && type !== 0x77 && type !== 0x57) continue; // t T w W
      if (text[p + 2] !== 0x20) continue;
      h >>>= 0;
      l >>>= 0;
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
      const len = Math.min(nameEnd - nameStart, 0xffff, NAME_BLOCK);
      if (this.nameUsed + len > NAME_BLOCK) {
        this.nameBlocks.push(Buffer.allocUnsafeSlow(NAME_BLOCK));
        this.nameUsed = 0;
      }
      const nameBlock = this.nameBlocks.length - 1;
      // Byte by byte: Buffer#copy makes a view object per call (a name is ~25 bytes).
      const names = this.nameBlocks[nameBlock]!;
      for (let i = 0; i < len; i++) names[this.nameUsed + i] = text[nameStart + i]!;
      const e = this.n++;
      if ((e & BLOCK_MASK) === 0) this.blocks.push(new EntryBlock());
      const b = this.blocks[e >>> BLOCK_BITS]!;
      const k = e & BLOCK_MASK;
      b.hi[k] = h;
      b.lo[k] = l;
      // Global before local, then fewer leading underscores (do_sys_open over __do_sys_open).
      b.rank[k] = (type === 0x54 || type === 0x57 ? 0 : 10) + underscores;
      b.nameAt[k] = ((nameBlock << NAME_BLOCK_BITS) | this.nameUsed) >>> 0;
      b.nameLen[k] = len;
      b.moduleOf[k] = mod;
      this.nameUsed += len;
    }
  }

  finish(): KernelSymbols {
    return KernelSymbols.fromBuilder(this);
  }
}
