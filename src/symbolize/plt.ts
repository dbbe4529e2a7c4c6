// Names for the stubs of a binary's procedure linkage table (`.plt`,
// `.plt.sec`, `.plt.got`): a call from a program into a shared library goes
// through one, and a sample that lands in it would otherwise read
// `[unknown] prog+0x1030`. No symbol covers the stubs, so their names are
// worked out the way objdump does: each stub jumps through one GOT slot, and
// the dynamic relocation that fills that slot names the function (`strlen`
// → `strlen@plt`). A slot filled by an IFUNC resolver (R_X86_64_IRELATIVE,
// libc's calls to its own memcpy and friends) names no symbol; its addend is
// the resolver's address, which the caller names from the binary's symbol
// table (`strnlen@plt`), else it reads `*ABS*+0x9f550@plt`.
//
// x86-64 only: the stubs are decoded from their bytes (an optional endbr64,
// an optional bnd prefix, then `jmp *disp32(%rip)`), which covers lazy and
// immediate binding, IBT's second table and `-fno-plt`'s `.plt.got`. Other
// machines keep the `[unknown]` frames. Read lazily: a binary's stubs are
// decoded on the first sample that lands in one.

import { cString, EM_X86_64, SHF_ALLOC, SHF_EXECINSTR, SHT_DYNSYM, SHT_PROGBITS, SHT_RELA, type ElfFile, type SectionHeader } from './elf-reader.js';

const R_X86_64_64 = 1;
const R_X86_64_GLOB_DAT = 6;
const R_X86_64_JUMP_SLOT = 7;
const R_X86_64_IRELATIVE = 37;
const RELA_SIZE = 24;
const SYM_SIZE = 24;
const STUB_SECTIONS = new Set(['.plt', '.plt.sec', '.plt.got']);
/** Relocations are scanned through a buffer this big: a large library's .rela.dyn is megabytes. */
const RELA_CHUNK = 1 << 16;

/** The stub sections of a binary that can have named stubs: empty on other machines. */
export function stubSections(elf: ElfFile): SectionHeader[] {
  if (elf.machine !== EM_X86_64 || !elf.is64) return [];
  return elf.sections.filter((s) => STUB_SECTIONS.has(s.name) && s.type === SHT_PROGBITS && (s.flags & SHF_EXECINSTR) !== 0 && s.size > 0);
}

/** Decoded stubs, ordered by address, each with what its GOT slot is filled with. */
export interface PltStubs {
  starts: Float64Array;
  ends: Float64Array;
  /** A .dynsym index (>= 0), an IFUNC resolver's address as -(address + 1), or NaN for a slot no relocation fills. */
  targets: Float64Array;
}

/** The GOT slot an entry's leading `jmp *disp32(%rip)` reads, or -1 when the entry is not such a stub (PLT0, a lazy IBT entry). */
export function stubSlot(code: Buffer, at: number, size: number, address: number): number {
  let p = at;
  const end = at + size;
  if (p + 4 <= end && code[p] === 0xf3 && code[p + 1] === 0x0f && code[p + 2] === 0x1e && code[p + 3] === 0xfa) p += 4; // endbr64
  if (p < end && code[p] === 0xf2) p++; // bnd
  if (p + 6 > end || code[p] !== 0xff || code[p + 1] !== 0x25) return -1;
  return address + (p - at) + 6 + code.readInt32LE(p + 2);
}

/** Decodes the stubs of `sections` and matches their GOT slots to the dynamic relocations. */
export function readPltStubs(elf: ElfFile, sections: SectionHeader[]): PltStubs {
  const starts: number[] = [];
  const ends: number[] = [];
  const slots: number[] = [];
  for (const s of [...sections].sort((a, b) => a.addr - b.addr)) {
    const code = elf.sectionData(s);
    if (!code) continue;
    // Older linkers leave entsize 0: .plt.got's entries were then 8 bytes, the others' 16.
    const step = s.entsize === 8 || s.entsize === 16 ? s.entsize : s.name === '.plt.got' ? 8 : 16;
    for (let at = 0; at + step <= code.length; at += step) {
      const slot = stubSlot(code, at, step, s.addr + at);
      if (slot < 0) continue;
      starts.push(s.addr + at);
      ends.push(s.addr + at + step);
      slots.push(slot);
    }
  }
  const targets = new Float64Array(starts.length).fill(NaN);
  const bySlot = new Map<number, number[]>();
  slots.forEach((slot, i) => {
    const list = bySlot.get(slot);
    if (list) list.push(i);
    else bySlot.set(slot, [i]);
  });
  let open = bySlot.size;
  const chunk = Buffer.allocUnsafe(RELA_CHUNK - (RELA_CHUNK % RELA_SIZE));
  for (const rel of elf.sections) {
    if (open === 0) break;
    if (rel.type !== SHT_RELA || (rel.flags & SHF_ALLOC) === 0 || rel.offset + rel.size > elf.source.size) continue;
    const total = Math.floor(rel.size / RELA_SIZE);
    for (let first = 0; first < total && open > 0; ) {
      const count = Math.min(total - first, chunk.length / RELA_SIZE);
      const buf = elf.source.readInto(rel.offset + first * RELA_SIZE, chunk.subarray(0, count * RELA_SIZE));
      for (let k = 0; k < count; k++) {
        const at = k * RELA_SIZE;
        const slot = buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * 0x100000000;
        const stubs = bySlot.get(slot);
        if (!stubs) continue;
        const type = buf.readUInt32LE(at + 8);
        const sym = buf.readUInt32LE(at + 12);
        let target = NaN;
        if ((type === R_X86_64_JUMP_SLOT || type === R_X86_64_GLOB_DAT || type === R_X86_64_64) && sym !== 0) target = sym;
        else if (type === R_X86_64_IRELATIVE) target = -(Number(buf.readBigInt64LE(at + 16)) + 1);
        else continue;
        for (const i of stubs) targets[i] = target;
        bySlot.delete(slot);
        open--;
      }
      first += count;
    }
  }
  return { starts: Float64Array.from(starts), ends: Float64Array.from(ends), targets };
}

/** Index of the stub holding addr, or -1. */
export function stubIndex(stubs: PltStubs, addr: number): number {
  let lo = 0;
  let hi = stubs.starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (stubs.starts[mid]! > addr) hi = mid - 1;
    else if (addr >= stubs.ends[mid]!) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/**
 * The name of a stub's function without `@plt`: the .dynsym name, or for an
 * IFUNC slot what `nameResolver` calls the resolver's address. undefined
 * when nothing names it.
 */
export function stubTarget(elf: ElfFile, stubs: PltStubs, index: number, nameResolver: (addr: number) => string | undefined): string | undefined {
  const t = stubs.targets[index]!;
  if (Number.isNaN(t)) return undefined;
  if (t < 0) {
    const addr = -t - 1;
    return nameResolver(addr) ?? `*ABS*+0x${addr.toString(16)}`;
  }
  const dynsym = elf.sections.find((s) => s.type === SHT_DYNSYM);
  const strtab = dynsym && elf.sections[dynsym.link];
  if (!dynsym || !strtab || (t + 1) * SYM_SIZE > dynsym.size) return undefined;
  const nameOffset = elf.source.read(dynsym.offset + t * SYM_SIZE, 4).readUInt32LE(0);
  if (nameOffset === 0 || nameOffset >= strtab.size) return undefined;
  const name = cString(elf.source.read(strtab.offset + nameOffset, Math.min(4096, strtab.size - nameOffset)), 0);
  return name || undefined;
}
