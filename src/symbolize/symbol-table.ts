// A sorted, immutable table of function symbols of one binary and the lookup
// "which function contains this address". Built once per binary from one or
// more symbol sections (.symtab, .dynsym, a debug file, MiniDebugInfo), then
// searched by binary search.
//
// Cheap to build and to keep, because a big binary (node: 80k functions, a
// 7 MB string table) is loaded while samples wait: symbols arrive as typed
// arrays, only a packed array of addresses is sorted, and names are not kept
// at all — they are read from the open file when an address is looked up
// (the caller caches one frame per function). The string table is never read
// whole: aliases are ranked by reading the first bytes of their names. It
// must not demangle or build frames.

import type { ByteSource, SectionHeader, SymbolArrays } from './elf-reader.js';

export interface SymbolHit {
  name: string;
  /** Start address of the function (ELF virtual address). */
  start: number;
  /** The symbol's index in this table: one per function, a cache key. */
  index: number;
}

/** One symbol section, the binary's section headers, and the open file that holds its names. */
export interface SymbolSource {
  symbols: SymbolArrays;
  sections: SectionHeader[];
  file: ByteSource;
}

/** Leading underscores of a name, read from the file: only aliases need it, so the string table is never read whole. Empty names rank last. */
function leadingUnderscores(file: ByteSource, strtab: { offset: number; size: number }, nameOffset: number): number {
  const n = Math.min(9, strtab.size - nameOffset);
  if (n <= 0) return 0;
  const b = file.read(strtab.offset + nameOffset, n);
  if (b[0] === 0) return 99; // an empty name (a tail-merged string) loses to any named alias
  let underscores = 0;
  while (underscores < n && b[underscores] === 0x5f) underscores++;
  return underscores;
}

const INDEX_BITS = 2 ** 21;

/**
 * Candidate indices ordered by start address, and a scratch array of n
 * doubles (the packed keys, free once sorted). Packs (start, index) into one
 * double when both fit.
 */
function orderByStart(starts: Float64Array, n: number): { order: Uint32Array; scratch: Float64Array } {
  const order = new Uint32Array(n);
  let packable = n < INDEX_BITS;
  for (let i = 0; packable && i < n; i++) if (starts[i]! >= 2 ** 32) packable = false;
  if (packable) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = starts[i]! * INDEX_BITS + i;
    keys.sort();
    for (let i = 0; i < n; i++) order[i] = keys[i]! % INDEX_BITS;
    return { order, scratch: keys };
  }
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => starts[a]! - starts[b]! || a - b);
  return { order, scratch: new Float64Array(n) };
}

/**
 * Reorders the columns so that column[k] becomes column[order[k]], through
 * one scratch array (the sort's keys, reused): one loop per column keeps
 * each loop's element type fixed, so V8 optimizes it instead of boxing every
 * value it moves.
 */
function permuteColumns(order: Uint32Array, scratch: Float64Array, starts: Float64Array, ends: Float64Array, ranks: Uint16Array, offs: Uint32Array, srcs: Uint8Array): void {
  const n = order.length;
  const tmp = scratch.subarray(0, n);
  for (let k = 0; k < n; k++) tmp[k] = starts[order[k]!]!;
  starts.set(tmp);
  for (let k = 0; k < n; k++) tmp[k] = ends[order[k]!]!;
  ends.set(tmp);
  for (let k = 0; k < n; k++) tmp[k] = offs[order[k]!]!;
  offs.set(tmp);
  for (let k = 0; k < n; k++) tmp[k] = ranks[order[k]!]!;
  ranks.set(tmp);
  for (let k = 0; k < n; k++) tmp[k] = srcs[order[k]!]!;
  srcs.set(tmp);
}

class NameReader {
  constructor(
    private readonly file: ByteSource,
    private readonly base: number,
    private readonly size: number,
  ) {}

  read(offset: number): string {
    if (offset >= this.size) return '';
    let len = 128;
    for (;;) {
      const n = Math.min(len, this.size - offset);
      const bytes = this.file.read(this.base + offset, n);
      const end = bytes.indexOf(0);
      if (end >= 0) return bytes.toString('utf8', 0, end);
      if (n < len) return bytes.toString('utf8');
      len *= 8;
    }
  }
}

export class SymbolTable {
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  /** Index of the nearest earlier symbol whose range encloses this one's start, or -1. */
  private readonly parents: Int32Array;
  private readonly srcs: Uint8Array;
  private readonly nameOffsets: Uint32Array;

  private constructor(
    private readonly names: NameReader[],
    private readonly files: ByteSource[],
    starts: Float64Array,
    ends: Float64Array,
    srcs: Uint8Array,
    nameOffsets: Uint32Array,
  ) {
    const n = starts.length;
    this.starts = starts;
    this.ends = ends;
    this.srcs = srcs;
    this.nameOffsets = nameOffsets;
    this.parents = new Int32Array(n);
    const open: number[] = [];
    for (let i = 0; i < n; i++) {
      while (open.length > 0 && ends[open[open.length - 1]!]! <= starts[i]!) open.pop();
      this.parents[i] = open.length > 0 ? open[open.length - 1]! : -1;
      open.push(i);
    }
  }

  get size(): number {
    return this.starts.length;
  }

  /**
   * Builds the table; it keeps the sources' files open to read names (close()
   * releases them). `sections` bound zero-sized symbols by their section's
   * end; every source may come from a different file, but all share one
   * address space.
   */
  static build(sources: SymbolSource[]): SymbolTable {
    const used = sources.slice(0, 256);
    let total = 0;
    for (const s of used) total += s.symbols.count;
    // One source (the usual case) is used as it is; several are concatenated.
    let starts: Float64Array;
    let ends: Float64Array;
    let ranks: Uint16Array;
    let offs: Uint32Array;
    const srcs = new Uint8Array(total);
    if (used.length === 1) {
      const sym = used[0]!.symbols;
      starts = sym.starts.subarray(0, total);
      ends = sym.ends.subarray(0, total);
      ranks = sym.ranks.subarray(0, total);
      offs = sym.nameOffsets.subarray(0, total);
    } else {
      starts = new Float64Array(total);
      ends = new Float64Array(total);
      ranks = new Uint16Array(total);
      offs = new Uint32Array(total);
      let at = 0;
      used.forEach(({ symbols: sym }, src) => {
        const c = sym.count;
        starts.set(sym.starts.subarray(0, c), at);
        ends.set(sym.ends.subarray(0, c), at);
        ranks.set(sym.ranks.subarray(0, c), at);
        offs.set(sym.nameOffsets.subarray(0, c), at);
        srcs.fill(src, at, at + c);
        at += c;
      });
    }
    // Into address order in place (the columns are the table's own arrays:
    // no second copy of a big binary's symbols while it loads).
    const { order, scratch } = orderByStart(starts, total);
    permuteColumns(order, scratch, starts, ends, ranks, offs, srcs);
    const underscores = (i: number) => {
      const s = used[srcs[i]!]!;
      return leadingUnderscores(s.file, s.symbols.strtab, offs[i]!);
    };
    // Negative when i beats j; names are read only when size and binding tie.
    const compareAliases = (i: number, j: number) => ranks[i]! - ranks[j]! || underscores(i) - underscores(j) || ends[j]! - ends[i]!;
    // One symbol per start address: the best ranked, then the longest (compacted in place).
    let m = 0;
    for (let k = 0; k < total; k++) {
      const into = m > 0 && starts[m - 1] === starts[k] ? (compareAliases(k, m - 1) < 0 ? m - 1 : -1) : m++;
      if (into < 0 || into === k) continue;
      starts[into] = starts[k]!;
      ends[into] = ends[k]!;
      ranks[into] = ranks[k]!;
      offs[into] = offs[k]!;
      srcs[into] = srcs[k]!;
    }
    // A zero-sized symbol (assembly labels, some MiniDebugInfo entries) runs to the next symbol.
    for (let k = 0; k < m; k++) {
      const end = ends[k]!;
      const next = k + 1 < m ? starts[k + 1]! : undefined;
      if (end === Infinity || end <= starts[k]!) ends[k] = next ?? starts[k]! + 1;
      else if (ranks[k]! >= 1000 && next !== undefined) ends[k] = Math.min(end, next);
    }
    // Aliases are few: keep the spare tail unless it is a sizeable share.
    const fit = <T extends Float64Array | Uint32Array | Uint8Array>(a: T): T => (m > total * 0.9 ? (a.subarray(0, m) as T) : (a.slice(0, m) as T));
    const names = used.map((s) => new NameReader(s.file, s.symbols.strtab.offset, s.symbols.strtab.size));
    return new SymbolTable(names, used.map((s) => s.file), fit(starts), fit(ends), fit(srcs), fit(offs));
  }

  /** Index of the innermost function whose [start, end) holds addr, or -1. */
  indexOf(addr: number): number {
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
    return i;
  }

  /** The name of symbol `index`, read from its file ('' when the file cannot be read any more). */
  nameAt(index: number): string {
    try {
      return this.names[this.srcs[index]!]!.read(this.nameOffsets[index]!);
    } catch {
      return '';
    }
  }

  startAt(index: number): number {
    return this.starts[index]!;
  }

  /** The innermost function whose [start, end) holds addr. */
  lookup(addr: number): SymbolHit | undefined {
    const i = this.indexOf(addr);
    if (i < 0) return undefined;
    return { name: this.nameAt(i), start: this.starts[i]!, index: i };
  }

  /** Closes the files names are read from (each once, even if shared by sources). */
  close(): void {
    for (const f of new Set(this.files)) f.close();
  }
}
