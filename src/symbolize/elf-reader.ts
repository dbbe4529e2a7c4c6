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
 * per symbol), and where their string table lives: names are read on demand.
 */
export interface SymbolArrays {
  count: number;
  values: Float64Array;
  sizes: Float64Array;
  nameOffsets: Uint32Array;
  binds: Uint8Array;
  shndx: Uint32Array;
  strtab: SectionHeader;
}

export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const SHT_SYMTAB = 2;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_DYNSYM = 11;
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
    const total = Math.floor(sec.size / entsize);
    // Read twice (count, then fill) through one reused 256 KiB buffer: a big
    // binary's table (node: ~4 MB of entries, a third of them functions) is
    // never held whole, and the arrays are exactly as long as the functions
    // they hold.
    const perChunk = Math.max(1, Math.floor((1 << 18) / entsize));
    const chunk = Buffer.allocUnsafeSlow(Math.min(total, perChunk) * entsize);
    const each = (visit: (data: Buffer, at: number, sh: number, info: number) => void) => {
      for (let first = 0; first < total; first += perChunk) {
        const count = Math.min(perChunk, total - first);
        const data = this.source.readInto(sec.offset + first * entsize, chunk.subarray(0, count * entsize));
        for (let at = 0; at + entsize <= data.length; at += entsize) {
          const info = this.is64 ? data[at + 4]! : data[at + 12]!;
          const t = info & 0xf;
          if (t !== STT_FUNC && t !== STT_GNU_IFUNC) continue;
          const sh = this.is64 ? data.readUInt16LE(at + 6) : data.readUInt16LE(at + 14);
          if (sh === SHN_UNDEF || (sh >= SHN_LORESERVE && sh !== SHN_XINDEX)) continue;
          visit(data, at, sh, info);
        }
      }
    };
    let max = 0;
    each(() => max++);
    const values = new Float64Array(max);
    const sizes = new Float64Array(max);
    const nameOffsets = new Uint32Array(max);
    const binds = new Uint8Array(max);
    const shndx = new Uint32Array(max);
    let n = 0;
    // Entries are 4-byte aligned in the chunk: read them through one Uint32Array
    // view rather than Buffer#readUInt32LE, whose arithmetic allocated a number
    // per field while this loop ran unoptimized (megabytes for node's table).
    // (A source may hand back its own bytes rather than the chunk: view whatever came.)
    let viewed: Buffer | undefined;
    let words: Uint32Array | undefined;
    const word = (data: Buffer, at: number) => {
      if (data !== viewed) {
        viewed = data;
        words = HOST_LITTLE_ENDIAN && data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, data.length >>> 2) : undefined;
      }
      return words ? words[at >>> 2]! : data.readUInt32LE(at);
    };
    // Like u64: exact below 2^53, which user-space ELF addresses and sizes are.
    const word64 = (data: Buffer, at: number) => word(data, at) + word(data, at + 4) * 0x100000000;
    each((data, at, sh, info) => {
      const value = this.is64 ? word64(data, at + 8) : word(data, at + 4);
      if (value === 0 || n === max) return;
      values[n] = value;
      sizes[n] = this.is64 ? word64(data, at + 16) : word(data, at + 8);
      nameOffsets[n] = word(data, at);
      binds[n] = info >> 4;
      shndx[n] = sh;
      n++;
    });
    return { count: n, values, sizes, nameOffsets, binds, shndx, strtab };
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
