// Kernel symbols from /proc/kallsyms: "ffffffff81000000 T _text" and, for
// loadable modules, "ffffffffc0a01000 t foo_init [foo]". Only text symbols
// are kept, sorted, and searched by address; kernel addresses exceed 2^53 so
// they are kept as BigInt in a BigUint64Array.
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

export class KernelSymbols {
  private readonly starts: BigUint64Array;
  private readonly names: string[];
  private readonly modules: string[];
  /** Every address was zero: the reader lacks the privilege to see them. */
  readonly restricted: boolean;

  private constructor(all: (KernelSymbol & { rank: number })[], restricted: boolean) {
    all.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.rank - b.rank));
    // Several names for one address (_text/_stext, aliases): keep the best ranked.
    const entries = all.filter((e, i) => i === 0 || all[i - 1]!.start !== e.start);
    this.starts = new BigUint64Array(entries.length);
    this.names = new Array<string>(entries.length);
    this.modules = new Array<string>(entries.length);
    entries.forEach((e, i) => {
      this.starts[i] = e.start;
      this.names[i] = e.name;
      this.modules[i] = e.module;
    });
    this.restricted = restricted;
  }

  get size(): number {
    return this.starts.length;
  }

  static parse(text: string): KernelSymbols {
    const entries: (KernelSymbol & { rank: number })[] = [];
    let lines = 0;
    let zeros = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      lines++;
      const sp1 = line.indexOf(' ');
      const sp2 = line.indexOf(' ', sp1 + 1);
      if (sp1 <= 0 || sp2 < 0) continue;
      const type = line[sp1 + 1];
      if (type !== 't' && type !== 'T' && type !== 'w' && type !== 'W') continue;
      let start: bigint;
      try {
        start = BigInt('0x' + line.slice(0, sp1));
      } catch {
        continue;
      }
      if (start === 0n) {
        zeros++;
        continue;
      }
      const rest = line.slice(sp2 + 1);
      const tab = rest.search(/[\t ]/);
      const name = tab < 0 ? rest : rest.slice(0, tab);
      const mod = tab < 0 ? '' : rest.slice(tab).trim();
      let underscores = 0;
      while (underscores < 9 && name[underscores] === '_') underscores++;
      // Global before local, then fewer leading underscores (do_sys_open over __do_sys_open).
      const rank = (type === 'T' || type === 'W' ? 0 : 10) + underscores;
      entries.push({ name, module: mod.startsWith('[') ? mod : KERNEL_MODULE, start, rank });
    }
    return new KernelSymbols(entries, lines > 0 && entries.length === 0 && zeros > 0);
  }

  static read(path = '/proc/kallsyms'): KernelSymbols {
    try {
      return KernelSymbols.parse(readFileSync(path, 'latin1'));
    } catch {
      return new KernelSymbols([], true);
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
    return { name: this.names[i]!, module: this.modules[i]!, start: s[i]! };
  }
}
