// A sorted, immutable table of function symbols of one binary and the lookup
// "which function contains this address". Built once per binary from one or
// more symbol sections (.symtab, .dynsym, a debug file, MiniDebugInfo), then
// searched by binary search.
//
// Names stay as offsets into their string tables until looked up, so a binary
// with 100k symbols costs typed arrays plus its string table, not 100k
// strings. It must not read files or demangle: it only answers lookups.

import { cString, STB_GLOBAL, STB_LOCAL, STB_WEAK, type SectionHeader, type SymbolSection } from './elf-reader.js';

export interface SymbolHit {
  name: string;
  /** Start address of the function (ELF virtual address). */
  start: number;
}

interface Candidate {
  start: number;
  end: number;
  rank: number;
  src: number;
  nameOffset: number;
}

/** Lower rank wins when several symbols share an address (aliases such as __libc_malloc / malloc). */
function aliasRank(bind: number, strtab: Buffer, nameOffset: number, size: number): number {
  const bindRank = bind === STB_GLOBAL ? 0 : bind === STB_WEAK ? 1 : bind === STB_LOCAL ? 2 : 3;
  let underscores = 0;
  while (underscores < 9 && strtab[nameOffset + underscores] === 0x5f) underscores++;
  // A sized symbol beats a zero-sized label; then global > weak > local; then fewer leading underscores.
  return (size > 0 ? 0 : 1000) + bindRank * 100 + underscores * 10;
}

export class SymbolTable {
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  /** Index of the nearest earlier symbol whose range encloses this one's start, or -1. */
  private readonly parents: Int32Array;
  private readonly srcs: Uint8Array;
  private readonly nameOffsets: Uint32Array;

  private constructor(
    private readonly strtabs: Buffer[],
    cands: Candidate[],
  ) {
    const n = cands.length;
    this.starts = new Float64Array(n);
    this.ends = new Float64Array(n);
    this.parents = new Int32Array(n);
    this.srcs = new Uint8Array(n);
    this.nameOffsets = new Uint32Array(n);
    const open: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = cands[i]!;
      this.starts[i] = c.start;
      this.ends[i] = c.end;
      this.srcs[i] = c.src;
      this.nameOffsets[i] = c.nameOffset;
      while (open.length > 0 && this.ends[open[open.length - 1]!]! <= c.start) open.pop();
      this.parents[i] = open.length > 0 ? open[open.length - 1]! : -1;
      open.push(i);
    }
  }

  get size(): number {
    return this.starts.length;
  }

  /**
   * Builds the table. `sections` are the binary's section headers (used to
   * bound zero-sized symbols by their section's end); every symbol source may
   * come from a different file, but all share one address space.
   */
  static build(sources: { symbols: SymbolSection; sections: SectionHeader[] }[]): SymbolTable {
    const strtabs: Buffer[] = [];
    const byStart = new Map<number, Candidate>();
    for (const { symbols, sections } of sources) {
      const src = strtabs.length;
      if (src > 255) break;
      strtabs.push(symbols.strtab);
      for (const s of symbols.symbols) {
        // Names are not decoded here: 100k strings would cost more than the whole table.
        if (s.nameOffset >= symbols.strtab.length || symbols.strtab[s.nameOffset] === 0) continue;
        const sec = sections[s.shndx];
        const secEnd = sec && sec.addr <= s.value && s.value < sec.addr + sec.size ? sec.addr + sec.size : Infinity;
        const cand: Candidate = {
          start: s.value,
          end: s.size > 0 ? s.value + s.size : secEnd,
          rank: aliasRank(s.bind, symbols.strtab, s.nameOffset, s.size),
          src,
          nameOffset: s.nameOffset,
        };
        const prev = byStart.get(s.value);
        if (!prev || cand.rank < prev.rank || (cand.rank === prev.rank && cand.end > prev.end)) byStart.set(s.value, cand);
      }
    }
    const cands = [...byStart.values()].sort((a, b) => a.start - b.start);
    // A zero-sized symbol (assembly labels, some MiniDebugInfo entries) runs to the next symbol.
    for (let i = 0; i < cands.length; i++) {
      const c = cands[i]!;
      if (c.end === Infinity || c.end <= c.start) c.end = i + 1 < cands.length ? cands[i + 1]!.start : c.start + 1;
      else if (c.rank >= 1000 && i + 1 < cands.length) c.end = Math.min(c.end, cands[i + 1]!.start);
    }
    return new SymbolTable(strtabs, cands);
  }

  /** The innermost function whose [start, end) holds addr. */
  lookup(addr: number): SymbolHit | undefined {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    let i = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= addr) {
        i = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    while (i >= 0 && !(addr < this.ends[i]!)) i = this.parents[i]!;
    if (i < 0) return undefined;
    return { name: cString(this.strtabs[this.srcs[i]!]!, this.nameOffsets[i]!), start: starts[i]! };
  }
}
