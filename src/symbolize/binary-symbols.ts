// The symbols of one binary (executable, shared library, the vdso): where its
// function symbols come from and how a runtime address becomes a frame.
//
// Sources, best first: .symtab of a separate debug file (found by build-id
// under <debugDir>/.build-id/xx/yyyy.debug, or by .gnu_debuglink next to the
// binary, in its .debug/ folder or under <debugDir>/<dir>), the binary's own
// .symtab, else MiniDebugInfo (.gnu_debugdata: an xz-compressed ELF holding a
// .symtab of local functions, as Fedora ships); .dynsym is added when no
// full .symtab was found (a .symtab already holds every .dynsym function).
// Addresses are read at load time; names are read on demand from the file,
// which stays open (an open file outlives its process and its deletion), so
// a process that exits afterwards still resolves. close() releases it.
//
// It must not look at /proc or know about processes: the symbolizer opens the
// right file (through /proc/PID/root or map_files) and hands in the paths.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import type { Frame } from '../profile/model.js';
import { demangle } from './demangle.js';
import { BufferSource, ElfFile, FileSource, type ByteSource, type ProgramHeader, type SectionHeader } from './elf-reader.js';
import { SymbolTable, type SymbolSource } from './symbol-table.js';
import { readPltStubs, stubIndex, stubSections, stubTarget, type PltStubs } from './plt.js';
import { FunctionBounds } from './function-bounds.js';

export const DEFAULT_DEBUG_DIRS = ['/usr/lib/debug'];

/** Where a binary's symbols came from, for stats and tests. */
export type SymbolOrigin = 'symtab' | 'debug-build-id' | 'debug-link' | 'minidebuginfo' | 'dynsym' | 'none';

export interface LoadOptions {
  /** Path as the process mapped it: names the module and anchors .gnu_debuglink. */
  mappedPath: string;
  /** Prefix under which the process's file system is visible ('' or /proc/PID/root). */
  rootPrefix?: string;
  debugDirs?: string[];
  /** More debug files to try after the usual places; one is used only when its build-id is the binary's (the vdso's image on disk). */
  extraDebugFiles?: string[];
}

let xzDecompress: ((b: Buffer) => Buffer) | null | undefined;

/** @napi-rs/lzma, loaded on first MiniDebugInfo; null when unavailable. */
function loadXz(): ((b: Buffer) => Buffer) | null {
  if (xzDecompress === undefined) {
    try {
      const lzma = createRequire(import.meta.url)('@napi-rs/lzma') as { xz: { decompressSync(b: Buffer): Buffer } };
      xzDecompress = (b) => lzma.xz.decompressSync(b);
    } catch {
      xzDecompress = null;
    }
  }
  return xzDecompress;
}

/**
 * Unresolved frames of loaded binaries: the address has no symbol, and asking
 * again will not change that (unlike an address outside every mapping, which
 * a newer perf map may name).
 */
export const settledUnknownFrames = new WeakSet<Frame>();

/** Frames cached per binary, one per function that appeared in a stack; the oldest quarter goes when full. */
const MAX_CACHED_FRAMES = 1 << 15;
const VERSION_SUFFIX = /@@?[A-Za-z_][\w.]*$/;

interface LoadedTable {
  table: SymbolTable | undefined;
  origin: SymbolOrigin;
}

/**
 * A binary's PLT stubs (plt.ts): the address range of its stub sections,
 * known at load, and the stubs themselves, decoded on the first address
 * inside that range (null when they could not be read).
 */
interface StubState {
  lo: number;
  hi: number;
  elf: ElfFile;
  sections: SectionHeader[];
  decoded?: PltStubs | null;
  /** Every stub's target, read before the binary's file was closed (its symbols came from a debug file). */
  targets?: (string | undefined)[];
}

export class BinarySymbols {
  private readonly frames = new Map<number, Frame>();
  private readonly unknown = new Map<number, Frame>();
  private readonly stubFrames = new Map<number, Frame>();
  private stubs: StubState | undefined;
  /** Unknown frames by the start of the function (from the unwind table) that holds their addresses. */
  private readonly unknownByStart = new Map<number, Frame>();
  /** The file's unwind table, opened on the first unknown address (null: none, or unreadable). */
  private bounds: FunctionBounds | null | undefined;
  private elf: ElfFile | undefined;
  /** Live processes mapping this binary; the cache evicts only unreferenced ones. */
  refs = 0;
  private loaded: LoadedTable | undefined;

  constructor(
    readonly module: string,
    readonly buildId: string | undefined,
    private readonly loads: ProgramHeader[],
    /** Builds the table on first use; the file it reads is already open, so it outlives its process. */
    private loader: (() => LoadedTable) | undefined,
    /** Closes the open file when the table was never built. */
    private readonly discard: () => void = () => {},
  ) {}

  private get table(): SymbolTable | undefined {
    if (!this.loaded) {
      const load = this.loader;
      this.loader = undefined;
      try {
        this.loaded = load ? load() : { table: undefined, origin: 'none' };
      } catch {
        this.loaded = { table: undefined, origin: 'none' };
      }
    }
    return this.loaded.table;
  }

  /** Where the symbols came from (builds the table if it was not yet). */
  get origin(): SymbolOrigin {
    void this.table;
    return this.loaded!.origin;
  }

  /** True once the symbol table was built (it is built on the first lookup). */
  get isLoaded(): boolean {
    return this.loaded !== undefined;
  }

  get symbolCount(): number {
    return this.table?.size ?? 0;
  }

  /** ELF virtual address of a file offset; the offset itself when no PT_LOAD holds it. */
  vaddrOf(fileOffset: number): number {
    for (const p of this.loads) {
      if (fileOffset >= p.offset && fileOffset < p.offset + Math.max(p.filesz, 1)) return fileOffset - p.offset + p.vaddr;
    }
    return fileOffset;
  }

  /**
   * The frame for an ELF virtual address. Unresolved addresses become
   * `[unknown] <module>+0x<vaddr>` (the address addr2line/objdump use).
   * Frames are cached and shared: callers must not mutate them.
   */
  frameAt(vaddr: number): Frame {
    const table = this.table;
    const stubs = this.stubs;
    if (stubs && vaddr >= stubs.lo && vaddr < stubs.hi) {
      const stub = this.stubFrameAt(stubs, vaddr);
      if (stub) return stub;
    }
    const index = table ? table.indexOf(vaddr) : -1;
    if (index < 0) return this.unknownAt(vaddr);
    let f = this.frames.get(index);
    if (f) return f;
    const raw = table!.nameAt(index);
    if (raw === '') return this.unknownAt(vaddr); // the file became unreadable
    f = nativeFrame(raw.replace(VERSION_SUFFIX, ''), raw, this.module);
    if (this.frames.size >= MAX_CACHED_FRAMES) {
      let drop = MAX_CACHED_FRAMES >> 2;
      for (const k of this.frames.keys()) {
        if (drop-- <= 0) break;
        this.frames.delete(k);
      }
    }
    this.frames.set(index, f);
    return f;
  }

  /** Attaches the open ELF file: its PLT stubs and unwind table name what its symbols do not. Called once, at load. */
  withFile(elf: ElfFile): this {
    this.elf = elf;
    const sections = stubSections(elf);
    if (sections.length > 0) {
      const lo = Math.min(...sections.map((s) => s.addr));
      const hi = Math.max(...sections.map((s) => s.addr + s.size));
      this.stubs = { lo, hi, elf, sections };
    }
    return this;
  }

  /**
   * Reads every stub's target while the binary's file is still open: called
   * when the table is built from a debug file and the binary itself is about
   * to be closed.
   */
  settleStubs(table: SymbolTable | undefined): void {
    const s = this.stubs;
    if (!s || s.targets) return;
    const decoded = decodedStubs(s);
    if (!decoded) return;
    try {
      s.targets = Array.from(decoded.targets, (_, i) => stubTarget(s.elf, decoded, i, (addr) => resolverName(table, addr)));
    } catch {
      s.decoded = null;
    }
  }

  /** `name@plt` for an address inside a PLT stub; undefined when the stub names nothing. */
  private stubFrameAt(s: StubState, vaddr: number): Frame | undefined {
    const decoded = decodedStubs(s);
    if (!decoded) return undefined;
    const i = stubIndex(decoded, vaddr);
    if (i < 0) return undefined;
    let f = this.stubFrames.get(i);
    if (f) return f;
    let target: string | undefined;
    try {
      target = s.targets ? s.targets[i] : stubTarget(s.elf, decoded, i, (addr) => resolverName(this.loaded?.table, addr));
    } catch {
      return undefined; // the file was closed
    }
    if (!target) return undefined;
    f = nativeFrame(target, target, this.module, '@plt');
    this.stubFrames.set(i, f);
    return f;
  }

  /**
   * Unresolved addresses get one shared frame each, like resolved ones: a
   * stripped binary's addresses recur in every sample, and a new frame per
   * sample made every window hold thousands of copies.
   */
  private unknownAt(vaddr: number): Frame {
    let f = this.unknown.get(vaddr);
    if (!f) {
      // Every address of one unnamed function gets that function's frame, named at its start.
      const start = this.functionStart(vaddr);
      f = start === undefined ? undefined : this.unknownByStart.get(start);
      if (!f) {
        const at = start ?? vaddr;
        f = { name: `[unknown] ${this.module}+0x${at.toString(16)}`, module: this.module, kind: 'unknown' };
        settledUnknownFrames.add(f);
        if (start !== undefined) {
          if (this.unknownByStart.size >= MAX_CACHED_FRAMES) this.unknownByStart.clear();
          this.unknownByStart.set(start, f);
        }
      }
      if (this.unknown.size >= MAX_CACHED_FRAMES) this.unknown.clear();
      this.unknown.set(vaddr, f);
    }
    return f;
  }

  /** The start of the function that holds vaddr, from the file's unwind table; undefined when it does not say. */
  private functionStart(vaddr: number): number | undefined {
    try {
      if (this.bounds === undefined) this.bounds = (this.elf && FunctionBounds.open(this.elf)) ?? null;
      return this.bounds?.startOf(vaddr);
    } catch {
      this.bounds = null; // the file was closed or is shorter than its headers say
      return undefined;
    }
  }

  /** Releases the open file names are read from; frames already made stay valid. */
  close(): void {
    if (this.loaded) this.loaded.table?.close();
    else {
      this.loader = undefined;
      this.loaded = { table: undefined, origin: 'none' };
      this.discard();
    }
  }

  /** True when an address resolves to a symbol (not an [unknown] frame). */
  resolves(vaddr: number): boolean {
    return this.frameAt(vaddr).kind !== 'unknown';
  }
}

/** The binary's stubs, decoded on first use; null when they cannot be read. */
function decodedStubs(s: StubState): PltStubs | null {
  if (s.decoded === undefined) {
    try {
      s.decoded = readPltStubs(s.elf, s.sections);
    } catch {
      s.decoded = null;
    }
  }
  return s.decoded;
}

/** A frame for a symbol's name: demangled, with the raw name kept when it differs. */
function nativeFrame(unversioned: string, raw: string, module: string, suffix = ''): Frame {
  const name = demangle(unversioned) + suffix;
  const rawName = raw + suffix;
  return name === rawName ? { name, module, kind: 'native' } : { name, module, kind: 'native', rawName };
}

/** The name of the function that starts exactly at addr (an IFUNC resolver a PLT slot is filled from). */
function resolverName(table: SymbolTable | undefined, addr: number): string | undefined {
  const i = table ? table.indexOf(addr) : -1;
  if (i < 0 || table!.startAt(i) !== addr) return undefined;
  return table!.nameAt(i).replace(VERSION_SUFFIX, '') || undefined;
}

/**
 * Opens an ELF file for loadElfSymbols. undefined: the path could not be
 * opened (gone, no permission), so another path to the same file may serve;
 * null: it was opened but is not a readable ELF file.
 */
export function openElfFile(path: string): ElfFile | null | undefined {
  let source: FileSource;
  try {
    source = new FileSource(path);
  } catch {
    return undefined;
  }
  return openElf(source) ?? null;
}

/** A binary's build-id, or undefined when it has none or its notes cannot be read. */
export function buildIdOf(elf: ElfFile): string | undefined {
  try {
    return elf.buildId();
  } catch {
    return undefined;
  }
}

function openElf(source: ByteSource): ElfFile | undefined {
  try {
    return new ElfFile(source);
  } catch {
    source.close();
    return undefined;
  }
}

/** Candidate paths of a separate debug file, most specific first. */
export function debugFileCandidates(opts: LoadOptions, buildId: string | undefined, link: string | undefined): { path: string; via: SymbolOrigin; sameBuildId?: true }[] {
  const roots = opts.rootPrefix ? [opts.rootPrefix, ''] : [''];
  const dirs = opts.debugDirs ?? DEFAULT_DEBUG_DIRS;
  const out: { path: string; via: SymbolOrigin; sameBuildId?: true }[] = [];
  for (const root of roots) {
    for (const d of dirs) {
      if (buildId && buildId.length > 2) {
        out.push({ path: `${root}${d}/.build-id/${buildId.slice(0, 2)}/${buildId.slice(2)}.debug`, via: 'debug-build-id' });
      }
    }
  }
  if (link) {
    const dir = dirname(opts.mappedPath);
    for (const root of roots) {
      out.push({ path: `${root}${join(dir, link)}`, via: 'debug-link' });
      out.push({ path: `${root}${join(dir, '.debug', link)}`, via: 'debug-link' });
      for (const d of dirs) out.push({ path: `${root}${join(d, dir, link)}`, via: 'debug-link' });
    }
  }
  if (buildId) for (const path of opts.extraDebugFiles ?? []) out.push({ path, via: 'debug-build-id', sameBuildId: true });
  return out;
}

/** Finds a debug file whose build-id (when both have one) matches; returns it open. */
function findDebugFile(opts: LoadOptions, elf: ElfFile, buildId: string | undefined): { elf: ElfFile; via: SymbolOrigin } | undefined {
  const link = elf.debugLink()?.file;
  for (const c of debugFileCandidates(opts, buildId, link)) {
    if (!existsSync(c.path)) continue;
    const dbg = openElfFile(c.path);
    if (!dbg) continue;
    const dbgId = dbg.buildId();
    // The binary itself can sit where a debuglink candidate points; skip it.
    const sameFile = dbg.section('.symtab') === undefined;
    if ((buildId && dbgId && dbgId !== buildId) || (c.sameBuildId && dbgId !== buildId) || sameFile) {
      dbg.close();
      continue;
    }
    return { elf: dbg, via: c.via };
  }
  return undefined;
}

function miniDebugInfoSymbols(elf: ElfFile): SymbolSource | undefined {
  const packed = elf.miniDebugInfo();
  const xz = packed && loadXz();
  if (!packed || !xz) return undefined;
  try {
    const inner = new ElfFile(new BufferSource(xz(packed)));
    const symbols = inner.functionSymbolArrays('symtab');
    return symbols && { symbols, sections: inner.sections, file: inner.source };
  } catch {
    return undefined;
  }
}

/**
 * The symbols of an open ELF image. Cheap: reads the build-id and program
 * headers now; the symbol table is built on the first lookup, from the file
 * kept open until then (and, for names, afterwards).
 */
export function loadElfSymbols(elf: ElfFile, opts: LoadOptions, moduleName = basename(opts.mappedPath)): BinarySymbols {
  const buildId = buildIdOf(elf);
  const bin: BinarySymbols = new BinarySymbols(
    moduleName,
    buildId,
    elf.loadSegments(),
    () => buildTable(elf, opts, buildId, (table) => bin.settleStubs(table)),
    () => elf.close(),
  ).withFile(elf);
  return bin;
}

/** `beforeClose` runs when the binary's own file is not needed for names and is about to be closed. */
function buildTable(elf: ElfFile, opts: LoadOptions, buildId: string | undefined, beforeClose: (table: SymbolTable | undefined) => void): LoadedTable {
  const sources: SymbolSource[] = [];
  let dbg: { elf: ElfFile; via: SymbolOrigin } | undefined;
  try {
    let origin: SymbolOrigin = 'none';
    dbg = elf.section('.symtab') ? undefined : findDebugFile(opts, elf, buildId);
    if (dbg) {
      const s = dbg.elf.functionSymbolArrays('symtab');
      if (s) {
        sources.push({ symbols: s, sections: dbg.elf.sections, file: dbg.elf.source });
        origin = dbg.via;
      }
    }
    if (sources.length === 0) {
      const own = elf.functionSymbolArrays('symtab');
      if (own) {
        sources.push({ symbols: own, sections: elf.sections, file: elf.source });
        origin = 'symtab';
      }
    }
    if (sources.length === 0) {
      const mini = miniDebugInfoSymbols(elf);
      if (mini) {
        sources.push(mini);
        origin = 'minidebuginfo';
      }
    }
    // A full .symtab already holds the exported functions; MiniDebugInfo holds only local ones.
    if (origin === 'none' || origin === 'minidebuginfo') {
      const dyn = elf.functionSymbolArrays('dynsym');
      if (dyn) {
        sources.push({ symbols: dyn, sections: elf.sections, file: elf.source });
        if (origin === 'none') origin = 'dynsym';
      }
    }
    const table = sources.length > 0 ? SymbolTable.build(sources) : undefined;
    if (!sources.some((s) => s.file === elf.source)) beforeClose(table);
    return { table, origin };
  } catch (err) {
    for (const s of sources) s.file.close();
    sources.length = 0;
    throw err;
  } finally {
    // Files no source reads names from are closed now.
    const kept = new Set(sources.map((s) => s.file));
    if (!kept.has(elf.source)) elf.close();
    if (dbg && !kept.has(dbg.elf.source)) dbg.elf.close();
  }
}

/** Loads a binary's symbols from a path (`openPath` may differ from the mapped path: /proc/PID/root/..., map_files). */
export function loadBinarySymbols(openPath: string, opts: LoadOptions): BinarySymbols | undefined {
  const elf = openElfFile(openPath);
  return elf ? loadElfSymbols(elf, opts) : undefined;
}

/**
 * Loads an ELF image held in memory (the vdso), with its full symbols from a
 * debug file of the same build-id where one is installed.
 */
export function loadImageSymbols(image: Buffer, moduleName: string, debug: Pick<LoadOptions, 'debugDirs' | 'extraDebugFiles'> = { debugDirs: [] }): BinarySymbols | undefined {
  const elf = openElf(new BufferSource(image));
  return elf && loadElfSymbols(elf, { mappedPath: moduleName, ...debug }, moduleName);
}

/**
 * Where distributions install the running kernel's vdso with its symbols
 * (Ubuntu and Fedora ship it with the kernel; debug packages under
 * /usr/lib/debug). The memory image has only the exported functions; the
 * helpers they call (clock reads, the paravirtual clocks) need these.
 */
export function vdsoDebugFiles(release: string): string[] {
  const names = ['vdso64.so', 'vdso.so'];
  return ['/lib/modules', '/usr/lib/debug/lib/modules'].flatMap((dir) => names.map((n) => `${dir}/${release}/vdso/${n}`));
}
