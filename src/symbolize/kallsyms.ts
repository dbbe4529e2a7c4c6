// Kernel symbols from /proc/kallsyms: "ffffffff81000000 T _text" and, for
// loadable modules, "ffffffffc0a01000 t foo_init [foo]". Only text symbols
// are kept, sorted, and searched by address; kernel addresses exceed 2^53 so
// they are kept as BigInt in a BigUint64Array. Parsed from bytes with typed
// arrays: no string or object per line.
//
// Without root (kptr_restrict) every address reads as zero: the table is then
// empty and says so (`restricted`), and kernel frames stay `[unknown] 0x…`.
// It must not demangle or build frames for user space.

import { readFileSync } from 'node:fs';

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
 * and an object or string per line costs tens of MB of heap while parsing (a
 * resident agent's peak memory). Addresses go to a BigUint64Array, names to
 * one byte buffer decoded on lookup, modules to a small index.
 */
export class KernelSymbols {
  private readonly starts: BigUint64Array;
  private readonly nameAt: Uint32Array;
  private readonly nameLen: Uint16Array;
  private readonly moduleOf: Uint16Array;
  private readonly moduleNames: string[];
  private readonly names: Buffer;
  /** Every address was zero: the reader lacks the privilege to see them. */
  readonly restricted: boolean;

  private constructor(parsed: ParsedKallsyms | undefined, restricted: boolean) {
    this.restricted = restricted;
    if (!parsed) {
      this.starts = new BigUint64Array(0);
      this.nameAt = new Uint32Array(0);
      this.nameLen = new Uint16Array(0);
      this.moduleOf = new Uint16Array(0);
      this.moduleNames = [KERNEL_MODULE];
      this.names = Buffer.alloc(0);
      return;
    }
    const { n, hi, lo, rank, nameAt, nameLen, moduleOf, text } = parsed;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const cmp = (a: number, b: number) => hi[a]! - hi[b]! || lo[a]! - lo[b]! || rank[a]! - rank[b]!;
    // The kernel lists its own symbols in address order: sort only when needed.
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) if (cmp(i - 1, i) > 0) sorted = false;
    if (!sorted) order.sort(cmp);
    // Several names for one address (_text/_stext, aliases): keep the best ranked (first after the sort).
    const keep: number[] = [];
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      const prev = keep.length ? keep[keep.length - 1]! : -1;
      if (prev < 0 || hi[prev] !== hi[i] || lo[prev] !== lo[i]) keep.push(i);
    }
    const m = keep.length;
    this.starts = new BigUint64Array(m);
    this.nameAt = new Uint32Array(m);
    this.nameLen = new Uint16Array(m);
    this.moduleOf = new Uint16Array(m);
    let bytes = 0;
    for (const i of keep) bytes += nameLen[i]!;
    this.names = Buffer.allocUnsafe(bytes);
    let at = 0;
    keep.forEach((i, k) => {
      this.starts[k] = (BigInt(hi[i]!) << 32n) | BigInt(lo[i]!);
      text.copy(this.names, at, nameAt[i]!, nameAt[i]! + nameLen[i]!);
      this.nameAt[k] = at;
      this.nameLen[k] = nameLen[i]!;
      this.moduleOf[k] = moduleOf[i]!;
      at += nameLen[i]!;
    });
    this.moduleNames = parsed.modules;
  }

  get size(): number {
    return this.starts.length;
  }

  static parse(text: string | Buffer): KernelSymbols {
    const buf = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
    const parsed = parseKallsyms(buf);
    return new KernelSymbols(parsed.n > 0 ? parsed : undefined, parsed.lines > 0 && parsed.n === 0 && parsed.zeros > 0);
  }

  static read(path = '/proc/kallsyms'): KernelSymbols {
    try {
      return KernelSymbols.parse(readFileSync(path));
    } catch {
      return new KernelSymbols(undefined, true);
    }
  }

  /** The symbol at or below addr; undefined below the first symbol or with no table. */
  lookup(addr: bigint): KernelSymbol | undefined {
    const s = this.starts;
    let lo = 0;
    let hi = s.length - 1;
    let i = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! <= addr) {
        i = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (i < 0) return undefined;
    // Past the last symbol of a module or the kernel text, an address belongs to nobody we know.
    if (i === s.length - 1 && addr - s[i]! > 0x100000n) return undefined;
    const name = this.names.toString('latin1', this.nameAt[i]!, this.nameAt[i]! + this.nameLen[i]!);
    return { name, module: this.moduleNames[this.moduleOf[i]!]!, start: s[i]! };
  }
}

interface ParsedKallsyms {
  n: number;
  lines: number;
  zeros: number;
  hi: Uint32Array;
  lo: Uint32Array;
  rank: Uint8Array;
  nameAt: Uint32Array;
  nameLen: Uint16Array;
  moduleOf: Uint16Array;
  modules: string[];
  text: Buffer;
}

/** One pass over the bytes: "ADDR TYPE NAME[\t[MODULE]]" lines, text symbols (t T w W) only. */
function parseKallsyms(text: Buffer): ParsedKallsyms {
  let cap = 1024;
  for (let i = 0; i < text.length; i++) if (text[i] === 0x0a) cap++;
  const hi = new Uint32Array(cap);
  const lo = new Uint32Array(cap);
  const rank = new Uint8Array(cap);
  const nameAt = new Uint32Array(cap);
  const nameLen = new Uint16Array(cap);
  const moduleOf = new Uint16Array(cap);
  const modules = [KERNEL_MODULE];
  const moduleIndex = new Map<string, number>([[KERNEL_MODULE, 0]]);
  let n = 0;
  let lines = 0;
  let zeros = 0;
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf(0x0a, pos);
    if (end < 0) end = text.length;
    const lineStart = pos;
    pos = end + 1;
    if (end === lineStart) continue;
    lines++;
    // Address: up to 16 hex digits, split in two 32-bit halves.
    let h = 0;
    let l = 0;
    let p = lineStart;
    let digits = 0;
    for (; p < end && text[p] !== 0x20; p++, digits++) {
      const d = HEX[text[p]!]!;
      if (d < 0) break;
      h = ((h * 16) + Math.floor(l / 0x10000000)) >>> 0;
      l = ((l % 0x10000000) * 16 + d) >>> 0;
    }
    if (digits === 0 || digits > 16 || text[p] !== 0x20 || p + 2 >= end) continue;
    const type = text[p + 1]!;
    if (type !== 0x74 && type !== 0x54 && type !== 0x77 && type !== 0x57) continue; // t T w W
    if (text[p + 2] !== 0x20) continue;
    if (h === 0 && l === 0) {
      zeros++;
      continue;
    }
    const nameStart = p + 3;
    let nameEnd = nameStart;
    while (nameEnd < end && text[nameEnd] !== 0x09 && text[nameEnd] !== 0x20) nameEnd++;
    let mod = 0;
    if (nameEnd < end) {
      const modText = text.toString('latin1', nameEnd, end).trim();
      if (modText.startsWith('[')) {
        let idx = moduleIndex.get(modText);
        if (idx === undefined) {
          idx = modules.length;
          modules.push(modText);
          moduleIndex.set(modText, idx);
        }
        mod = idx;
      }
    }
    let underscores = 0;
    while (underscores < 9 && text[nameStart + underscores] === 0x5f) underscores++;
    hi[n] = h;
    lo[n] = l;
    // Global before local, then fewer leading underscores (do_sys_open over __do_sys_open).
    rank[n] = (type === 0x54 || type === 0x57 ? 0 : 10) + underscores;
    nameAt[n] = nameStart;
    nameLen[n] = Math.min(nameEnd - nameStart, 0xffff);
    moduleOf[n] = mod;
    n++;
  }
  return { n, lines, zeros, hi, lo, rank, nameAt, nameLen, moduleOf, modules, text };
}
