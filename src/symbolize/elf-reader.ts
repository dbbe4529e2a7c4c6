// A small ELF reader: just what symbolization needs — the file header, program
// headers (PT_LOAD, PT_NOTE), section headers, function symbols of .symtab and
// .dynsym, the GNU build-id note, .gnu_debuglink and the raw bytes of
// .gnu_debugdata (MiniDebugInfo). Little-endian ELF32 and ELF64.
//
// It reads through a ByteSource so the same code parses a file on disk (read
// piecewise: a 100 MB binary is never loaded whole), an image held in memory
// (the vdso, a decompressed MiniDebugInfo). It must not resolve addresses or
// cache anything: that is symbol-table.ts and binary-symbols.ts.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Positional reads over a file or a buffer. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Buffer;
  /** Fills target (its whole length) from offset: for reading a big section through one reused buffer. */
  readInto(offset: number, target: Buffer): Buffer;
  close(): void;
}

export class BufferSource implements ByteSource {
  constructor(private readonly buf: Buffer) {}
  get size(): number {
    return this.buf.length;
  }
  read(offset: number, length: number): Buffer {
    if (offset < 0 || offset + length > this.buf.length) throw new ElfError(`read past end (${offset}+${length})`);
    return this.buf.subarray(offset, offset + length);
  }
  readInto(offset: number, target: Buffer): Buffer {
    return this.read(offset, target.length);
  }
  close(): void {}
}

export class FileSource implements ByteSource {
  private fd: number;
  readonly size: number;
  constructor(path: string) {
    this.fd = openSync(path, 'r');
    try {
      this.size = fstatSync(this.fd).size;
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
  }
  read(offset: number, length: number): Buffer {
    if (offset < 0 || offset + length > this.size) throw new ElfError(`read past end (${offset}+${length})`);
    return this.readInto(offset, Buffer.allocUnsafe(length));
  }
  readInto(offset: number, buf: Buffer): Buffer {
    const length = buf.length;
    if (offset < 0 || offset + length > this.size) throw new ElfError(`read past end (${offset}+${length})`);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, offset + done);
      if (n === 0) throw new ElfError('file shrank while reading');
      done += n;
    }
    return buf;
  }
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

export class ElfError extends Error {}

export interface ProgramHeader {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

export interface SectionHeader {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

/**
 * FUNC and IFUNC symbols of one section as parallel typed arrays (no object
 * per symbol), already in the form a symbol table keeps, and where their
 * string table lives: names are read on demand. Symbols at address 0 or with
 * no name are left out.
 */
export interface SymbolArrays {
  count: number;
  /** Start address (ELF virtual address). */
  starts: Float64Array;
  /** start + size; a zero-sized symbol ends where its section ends (Infinity when it lies outside it). */
  ends: Float64Array;
  /** Alias rank, lower wins: a sized symbol before a zero-sized label, then global, weak, local. */
  ranks: Uint16Array;
  nameOffsets: Uint32Array;
  strtab: SectionHeader;
}

/** Lower rank wins when several symbols share an address (aliases such as __libc_malloc / malloc). */
export function symbolRank(bind: number, sized: boolean): number {
  const bindRank = bind === STB_GLOBAL ? 0 : bind === STB_WEAK ? 1 : bind === STB_LOCAL ? 2 : 3;
  return (sized ? 0 : 1000) + bindRank * 100;
}

export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const PT_GNU_EH_FRAME = 0x6474e550;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_RELA = 4;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_DYNSYM = 11;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const EM_X86_64 = 62;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const NT_GNU_BUILD_ID = 3;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;

/** ELF files are read as little-endian (x86-64, arm64): so is every host profctl samples on. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function u64(buf: Buffer, at: number): number {
  // Addresses above 2^53 do not occur in user-space ELF files; two 32-bit reads keep the rest exact
  // and are much cheaper than a BigInt per field.
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * 0x100000000;
}

export class ElfFile {
  readonly is64: boolean;
  /** ET_EXEC = 2, ET_DYN = 3 (PIE and shared libraries). */
  readonly type: number;
  /** e_machine: EM_X86_64 = 62, EM_AARCH64 = 183. */
  readonly machine: number;
  readonly programHeaders: ProgramHeader[] = [];
  readonly sections: SectionHeader[] = [];

  constructor(readonly source: ByteSource) {
    if (source.size < 52) throw new ElfError('too small to be ELF');
    const ident = source.read(0, 16);
    if (ident.readUInt32BE(0) !== 0x7f454c46) throw new ElfError('not an ELF file');
    if (ident[5] !== 1) throw new ElfError('big-endian ELF is not supported');
    this.is64 = ident[4] === 2;
    const hdr = source.read(0, this.is64 ? 64 : 52);
    this.type = hdr.readUInt16LE(16);
    this.machine = hdr.readUInt16LE(18);
    const phoff = this.is64 ? u64(hdr, 32) : hdr.readUInt32LE(28);
    const shoff = this.is64 ? u64(hdr, 40) : hdr.readUInt32LE(32);
    const o = this.is64 ? 54 : 42;
    const phentsize = hdr.readUInt16LE(o);
    const phnum = hdr.readUInt16LE(o + 2);
    const shentsize = hdr.readUInt16LE(o + 4);
    let shnum = hdr.readUInt16LE(o + 6);
    let shstrndx = hdr.readUInt16LE(o + 8);
    if (phoff > 0 && phnum > 0 && phoff + phnum * phentsize <= source.size) {
      const ph = source.read(phoff, phnum * phentsize);
      for (let i = 0; i < phnum; i++) this.programHeaders.push(this.parseProgramHeader(ph, i * phentsize));
    }
    if (shoff > 0 && shentsize > 0 && shoff + shentsize <= source.size) {
      // Extended numbering: with more than 0xff00 sections the real counts live in section 0.
      if (shnum === 0 || shstrndx === SHN_XINDEX) {
        const first = this.parseSectionHeader(source.read(shoff, shentsize), 0);
        if (shnum === 0) shnum = first.size;
        if (shstrndx === SHN_XINDEX) shstrndx = first.link;
      }
      if (shoff + shnum * shentsize <= source.size) {
        const sh = source.read(shoff, shnum * shentsize);
        for (let i = 0; i < shnum; i++) this.sections.push(this.parseSectionHeader(sh, i * shentsize));
        const names = this.sections[shstrndx];
        if (names && names.type !== SHT_NOBITS && names.offset + names.size <= source.size) {
          const strtab = source.read(names.offset, names.size);
          for (const s of this.sections) s.name = cString(strtab, Number(s.name));
        }
      }
    }
  }

  private parseProgramHeader(b: Buffer, at: number): ProgramHeader {
    if (this.is64) {
      return {
        type: b.readUInt32LE(at),
        flags: b.readUInt32LE(at + 4),
        offset: u64(b, at + 8),
        vaddr: u64(b, at + 16),
        filesz: u64(b, at + 32),
        memsz: u64(b, at + 40),
      };
    }
    return {
      type: b.readUInt32LE(at),
      offset: b.readUInt32LE(at + 4),
      vaddr: b.readUInt32LE(at + 8),
      filesz: b.readUInt32LE(at + 16),
      memsz: b.readUInt32LE(at + 20),
      flags: b.readUInt32LE(at + 24),
    };
  }

  private parseSectionHeader(b: Buffer, at: number): SectionHeader {
    // The name is an offset until the section-name table is read.
    if (this.is64) {
      return {
        name: String(b.readUInt32LE(at)),
        type: b.readUInt32LE(at + 4),
        flags: u64(b, at + 8),
        addr: u64(b, at + 16),
        offset: u64(b, at + 24),
        size: u64(b, at + 32),
        link: b.readUInt32LE(at + 40),
        entsize: u64(b, at + 56),
      };
    }
    return {
      name: String(b.readUInt32LE(at)),
      type: b.readUInt32LE(at + 4),
      flags: b.readUInt32LE(at + 8),
      addr: b.readUInt32LE(at + 12),
      offset: b.readUInt32LE(at + 16),
      size: b.readUInt32LE(at + 20),
      link: b.readUInt32LE(at + 24),
      entsize: b.readUInt32LE(at + 36),
    };
  }

  section(name: string): SectionHeader | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** Bytes of a section that has them in this file (not NOBITS). */
  sectionData(s: SectionHeader): Buffer | undefined {
    if (s.type === SHT_NOBITS || s.offset + s.size > this.source.size) return undefined;
    return this.source.read(s.offset, s.size);
  }

  loadSegments(): ProgramHeader[] {
    return this.programHeaders.filter((p) => p.type === PT_LOAD);
  }

  /** The GNU build-id as lowercase hex, from the note section or, failing that, PT_NOTE segments. */
  buildId(): string | undefined {
    const blobs: Buffer[] = [];
    for (const s of this.sections) if (s.type === SHT_NOTE) blobs.push(this.sectionData(s) ?? Buffer.alloc(0));
    if (blobs.length === 0) {
      for (const p of this.programHeaders) {
        if (p.type === PT_NOTE && p.offset + p.filesz <= this.source.size) blobs.push(this.source.read(p.offset, p.filesz));
      }
    }
    for (const b of blobs) {
      const id = findBuildIdNote(b);
      if (id) return id;
    }
    return undefined;
  }

  /** The file name and CRC in .gnu_debuglink, if any. */
  debugLink(): { file: string; crc: number } | undefined {
    const s = this.section('.gnu_debuglink');
    const data = s && this.sectionData(s);
    if (!data) return undefined;
    const end = data.indexOf(0);
    if (end <= 0) return undefined;
    const crcAt = (end + 4) & ~3;
    return { file: data.toString('utf8', 0, end), crc: crcAt + 4 <= data.length ? data.readUInt32LE(crcAt) : 0 };
  }

  /** The xz stream of MiniDebugInfo, if present. */
  miniDebugInfo(): Buffer | undefined {
    const s = this.section('.gnu_debugdata');
    return s && this.sectionData(s);
  }

  /** FUNC and IFUNC symbols of a SYMTAB or DYNSYM section, as typed arrays; the string table is not read. */
  functionSymbolArrays(kind: 'symtab' | 'dynsym'): SymbolArrays | undefined {
    const type = kind === 'symtab' ? SHT_SYMTAB : SHT_DYNSYM;
    const sec = this.sections.find((s) => s.type === type);
    if (!sec) return undefined;
    const strtab = this.sections[sec.link];
    if (!strtab || strtab.type === SHT_NOBITS || strtab.offset + strtab.size > this.source.size) return undefined;
    if (sec.type === SHT_NOBITS || sec.offset + sec.size > this.source.size) return undefined;
    const entsize = sec.entsize || (this.is64 ? 24 : 16);
    if (entsize % 4 !== 0 || entsize < (this.is64 ? 24 : 16)) return undefined;
    const total = Math.floor(sec.size / entsize);
    // Read twice (count, then fill) through one reused 256 KiB buffer: a big
    // binary's table (node: ~4 MB of entries, a third of them functions) is
    // never held whole, and the arrays are exactly as long as the functions
    // they hold. Fields are read as 32-bit words of one Uint32Array view and
    // kept small integers where they can be: this runs once per binary,
    // partly before V8 optimizes it, and a boxed number per field was
    // megabytes of garbage for node's table (young-generation growth: the
    // agent's peak memory).
    const perChunk = Math.max(1, Math.floor((1 << 18) / entsize));
    const chunk = Buffer.allocUnsafeSlow(Math.min(total, perChunk) * entsize);
    const words = new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.length >>> 2);
    const stride = entsize >>> 2;
    // Word offsets of the fields in an entry (Elf64_Sym / Elf32_Sym).
    const INFO = this.is64 ? 1 : 3; // st_info | st_other << 8 | st_shndx << 16
    const VALUE = this.is64 ? 2 : 1;
    const SIZE = this.is64 ? 4 : 2;
    const strSize = strtab.size;
    const load = (first: number): number => {
      const count = Math.min(perChunk, total - first);
      const data = this.source.readInto(sec.offset + first * entsize, chunk.subarray(0, count * entsize));
      if (data !== chunk && data.length) data.copy(chunk, 0, 0, count * entsize); // a source that hands back its own bytes
      if (!HOST_LITTLE_ENDIAN) chunk.subarray(0, count * entsize).swap32();
      return count;
    };
    const wanted = (w: number, at: number): boolean => {
      const info = words[w + INFO]!;
      const t = info & 0xf;
      if (t !== STT_FUNC && t !== STT_GNU_IFUNC) return false;
      const sh = info >>> 16;
      if (sh === SHN_UNDEF || (sh >= SHN_LORESERVE && sh !== SHN_XINDEX)) return false;
      const name = words[w]!;
      if (name === 0 || name >= strSize) return false; // the empty name, or past the table: corrupt
      return at !== 0;
    };
    // 64-bit fields are exact below 2^53, which user-space addresses and sizes are; the high word is almost always 0.
    const valueAt = (w: number): number => {
      const hi = this.is64 ? words[w + VALUE + 1]! : 0;
      return hi === 0 ? words[w + VALUE]! : words[w + VALUE]! + hi * 0x100000000;
    };
    const sizeAt = (w: number): number => {
      const hi = this.is64 ? words[w + SIZE + 1]! : 0;
      return hi === 0 ? words[w + SIZE]! : words[w + SIZE]! + hi * 0x100000000;
    };
    let max = 0;
    for (let first = 0; first < total; first += perChunk) {
      const count = load(first);
      for (let i = 0, w = 0; i < count; i++, w += stride) if (wanted(w, valueAt(w))) max++;
    }
    const starts = new Float64Array(max);
    const ends = new Float64Array(max);
    const ranks = new Uint16Array(max);
    const nameOffsets = new Uint32Array(max);
    const sections = this.sections;
    let n = 0;
    for (let first = 0; first < total && n < max; first += perChunk) {
      const count = load(first);
      for (let i = 0, w = 0; i < count && n < max; i++, w += stride) {
        const value = valueAt(w);
        if (!wanted(w, value)) continue;
        const size = sizeAt(w);
        starts[n] = value;
        if (size > 0) ends[n] = value + size;
        else {
          const s = sections[words[w + INFO]! >>> 16];
          ends[n] = s && s.addr <= value && value < s.addr + s.size ? s.addr + s.size : Infinity;
        }
        ranks[n] = symbolRank((words[w + INFO]! >>> 4) & 0xf, size > 0);
        nameOffsets[n] = words[w]!;
        n++;
      }
    }
    return { count: n, starts, ends, ranks, nameOffsets, strtab };
  }

  /** The file offset of `length` bytes at an ELF virtual address, when one PT_LOAD segment holds them in the file. */
  vaddrToFileOffset(vaddr: number, length: number): number | undefined {
    for (const p of this.programHeaders) {
      if (p.type === PT_LOAD && vaddr >= p.vaddr && vaddr + length <= p.vaddr + p.filesz) return vaddr - p.vaddr + p.offset;
    }
    return undefined;
  }

  /** Maps a file offset inside a PT_LOAD segment to the ELF virtual address symbols use. */
  fileOffsetToVaddr(fileOffset: number): number | undefined {
    for (const p of this.programHeaders) {
      if (p.type === PT_LOAD && fileOffset >= p.offset && fileOffset < p.offset + Math.max(p.filesz, 1)) {
        return fileOffset - p.offset + p.vaddr;
      }
    }
    return undefined;
  }

  close(): void {
    this.source.close();
  }
}

export function cString(buf: Buffer, at: number): string {
  if (at < 0 || at >= buf.length) return '';
  let end = buf.indexOf(0, at);
  if (end < 0) end = buf.length;
  return buf.toString('utf8', at, end);
}

function findBuildIdNote(b: Buffer): string | undefined {
  let at = 0;
  while (at + 12 <= b.length) {
    const namesz = b.readUInt32LE(at);
    const descsz = b.readUInt32LE(at + 4);
    const type = b.readUInt32LE(at + 8);
    const nameAt = at + 12;
    const descAt = nameAt + ((namesz + 3) & ~3);
    if (descAt + descsz > b.length) return undefined;
    if (type === NT_GNU_BUILD_ID && namesz === 4 && b.toString('latin1', nameAt, nameAt + 3) === 'GNU' && descsz > 0) {
      return b.toString('hex', descAt, descAt + descsz);
    }
    at = descAt + ((descsz + 3) & ~3);
  }
  return undefined;
}
