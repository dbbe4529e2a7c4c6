// ELF reading and per-binary symbol tables against real binaries: programs
// compiled here (PIE, non-PIE, stripped, separate debug files, MiniDebugInfo),
// /bin/ls and libc. The truth comes from binutils (nm, readelf), not from
// hard-coded addresses.

import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBinarySymbols, loadImageSymbols, type BinarySymbols } from '../../src/symbolize/binary-symbols.js';
import { demangle } from '../../src/symbolize/demangle.js';
import { ElfFile, FileSource } from '../../src/symbolize/elf-reader.js';
import { FunctionBounds } from '../../src/symbolize/function-bounds.js';
import { compile, nmAddress, nmFunctions, readelfBuildId, readelfLoads, run, tempDir, type NmSymbol } from './symbolize-fixtures.js';

const NO_DEBUG_DIRS = ['/nonexistent-profctl-debug'];

function aliasesByAddress(syms: NmSymbol[]): Map<number, Set<string>> {
  const m = new Map<number, Set<string>>();
  for (const s of syms) {
    if (!m.has(s.addr)) m.set(s.addr, new Set());
    m.get(s.addr)!.add(demangle(s.name));
  }
  return m;
}

/** Every sized function of nm resolves to itself (or an alias at its address) at its first and last byte. */
function expectAllFunctionsResolve(bin: BinarySymbols, syms: NmSymbol[]): number {
  const aliases = aliasesByAddress(syms);
  let checked = 0;
  for (const s of syms) {
    if (s.size === 0) continue;
    for (const a of [s.addr, s.addr + s.size - 1]) {
      const f = bin.frameAt(a);
      expect(f.kind, `${s.name} at 0x${a.toString(16)}`).toBe('native');
      // A nested or overlapping symbol may win inside a function; at its start only aliases may.
      if (a === s.addr) expect(aliases.get(s.addr)!.has(f.name), `${s.name}: got ${f.name}`).toBe(true);
    }
    checked++;
  }
  return checked;
}

let dir: string;
let pie: string;
let nopie: string;
let stripped: string;

beforeAll(() => {
  dir = tempDir();
  pie = compile('symbolize-burn.c', dir, 'burn-pie', ['-g', '-fPIE', '-pie']);
  nopie = compile('symbolize-burn.c', dir, 'burn-nopie', ['-g', '-fno-PIE', '-no-pie']);
  stripped = compile('symbolize-burn.c', dir, 'burn-stripped', ['-s']);
});

describe('ElfFile', () => {
  it('reads type, PT_LOAD segments and build-id as readelf does', () => {
    for (const [path, type] of [[pie, 3], [nopie, 2], ['/bin/ls', 3]] as const) {
      const elf = new ElfFile(new FileSource(path));
      try {
        expect(elf.type).toBe(type);
        expect(elf.loadSegments().map((p) => ({ offset: p.offset, vaddr: p.vaddr, filesz: p.filesz }))).toEqual(readelfLoads(path));
        expect(elf.buildId()).toBe(readelfBuildId(path));
      } finally {
        elf.close();
      }
    }
  });

  it('reads .gnu_debuglink', () => {
    const out = run('readelf', ['-p', '.gnu_debuglink', '/bin/ls']);
    const expected = /\]\s+(\S+)/.exec(out)?.[1];
    const elf = new ElfFile(new FileSource('/bin/ls'));
    expect(elf.debugLink()?.file).toBe(expected);
    elf.close();
  });

  it('rejects files that are not ELF', () => {
    const p = join(dir, 'not-elf');
    writeFileSync(p, 'just some text, long enough to have a header and more than 64 bytes of it........');
    expect(() => new ElfFile(new FileSource(p))).toThrow(/not an ELF/);
  });
});

describe('binary symbols', () => {
  it('resolves every function of a PIE and of a non-PIE compiled with -g', () => {
    for (const path of [pie, nopie]) {
      const bin = loadBinarySymbols(path, { mappedPath: path, debugDirs: NO_DEBUG_DIRS })!;
      expect(bin.origin).toBe('symtab');
      expect(expectAllFunctionsResolve(bin, nmFunctions(path))).toBeGreaterThan(2);
      expect(bin.frameAt(nmAddress(path, 'burn_inner_static') + 3).name).toBe('burn_inner_static');
    }
  });

  it('maps file offsets to virtual addresses through PT_LOAD (non-PIE: vaddr ≠ offset)', () => {
    const bin = loadBinarySymbols(nopie, { mappedPath: nopie, debugDirs: NO_DEBUG_DIRS })!;
    const text = readelfLoads(nopie).find((l) => l.vaddr <= nmAddress(nopie, 'main') && nmAddress(nopie, 'main') < l.vaddr + l.filesz)!;
    const fileOffset = nmAddress(nopie, 'main') - text.vaddr + text.offset;
    expect(text.vaddr).not.toBe(text.offset);
    expect(bin.frameAt(bin.vaddrOf(fileOffset)).name).toBe('main');
  });

  it('keeps unresolvable addresses of a stripped binary as [unknown] module+0xvaddr', () => {
    const bin = loadBinarySymbols(stripped, { mappedPath: '/opt/app/burn-stripped', debugDirs: NO_DEBUG_DIRS })!;
    // Same source and flags: the unstripped PIE-default build has the same layout.
    const withSyms = compile('symbolize-burn.c', dir, 'burn-default', []);
    const addr = nmAddress(withSyms, 'burn_outer');
    expect(bin.frameAt(addr)).toEqual({ name: `[unknown] burn-stripped+0x${addr.toString(16)}`, module: 'burn-stripped', kind: 'unknown' });
  });

  it('finds a separate debug file by .gnu_debuglink and by build-id', () => {
    const d = tempDir();
    const prog = join(d, 'burn');
    copyFileSync(pie, prog);
    run('objcopy', ['--only-keep-debug', prog, join(d, 'burn.debug')]);
    run('objcopy', ['--strip-all', prog]);
    run('objcopy', [`--add-gnu-debuglink=${join(d, 'burn.debug')}`, prog], d);
    const addr = nmAddress(pie, 'burn_inner_static');
    const viaLink = loadBinarySymbols(prog, { mappedPath: prog, debugDirs: NO_DEBUG_DIRS })!;
    expect(viaLink.origin).toBe('debug-link');
    expect(viaLink.frameAt(addr + 1).name).toBe('burn_inner_static');

    const id = readelfBuildId(prog)!;
    const debugRoot = join(d, 'debug-root');
    mkdirSync(join(debugRoot, '.build-id', id.slice(0, 2)), { recursive: true });
    copyFileSync(join(d, 'burn.debug'), join(debugRoot, '.build-id', id.slice(0, 2), `${id.slice(2)}.debug`));
    const elsewhere = join(d, 'moved', 'burn');
    mkdirSync(join(d, 'moved'));
    copyFileSync(prog, elsewhere);
    const viaId = loadBinarySymbols(elsewhere, { mappedPath: elsewhere, debugDirs: [debugRoot] })!;
    expect(viaId.origin).toBe('debug-build-id');
    expect(viaId.buildId).toBe(id);
    expect(viaId.frameAt(addr + 1).name).toBe('burn_inner_static');
  });

  it('ignores a debug file whose build-id does not match', () => {
    const d = tempDir();
    const prog = join(d, 'burn');
    copyFileSync(pie, prog);
    run('objcopy', ['--strip-all', prog]);
    const other = compile('symbolize-widgets.cpp', d, 'other', ['-g']);
    const id = readelfBuildId(prog)!;
    mkdirSync(join(d, 'dbg', '.build-id', id.slice(0, 2)), { recursive: true });
    copyFileSync(other, join(d, 'dbg', '.build-id', id.slice(0, 2), `${id.slice(2)}.debug`));
    const bin = loadBinarySymbols(prog, { mappedPath: prog, debugDirs: [join(d, 'dbg')] })!;
    expect(bin.origin).not.toBe('debug-build-id');
  });

  it('reads MiniDebugInfo (.gnu_debugdata) of a stripped binary', () => {
    const d = tempDir();
    const prog = join(d, 'burn');
    copyFileSync(pie, prog);
    // The way distributions build it: function symbols not in .dynsym, in a symbol-only ELF, xz-compressed.
    const dynamic = new Set(nmFunctions(prog, true).map((s) => s.name));
    const keep = nmFunctions(prog).filter((s) => !dynamic.has(s.name)).map((s) => s.name);
    writeFileSync(join(d, 'keep'), keep.join('\n') + '\n');
    run('objcopy', ['--only-keep-debug', prog, join(d, 'full.debug')]);
    run('objcopy', ['-S', '--remove-section', '.gdb_index', '--remove-section', '.comment', `--keep-symbols=${join(d, 'keep')}`, join(d, 'full.debug'), join(d, 'mini')]);
    run('xz', ['-f', join(d, 'mini')]);
    run('objcopy', ['--strip-all', prog]);
    run('objcopy', ['--add-section', `.gnu_debugdata=${join(d, 'mini.xz')}`, prog]);
    const bin = loadBinarySymbols(prog, { mappedPath: prog, debugDirs: NO_DEBUG_DIRS })!;
    expect(bin.origin).toBe('minidebuginfo');
    expect(bin.frameAt(nmAddress(pie, 'burn_inner_static') + 2).name).toBe('burn_inner_static');
    expect(bin.frameAt(nmAddress(pie, 'burn_outer')).name).toBe('burn_outer');
  });

  it('resolves the exported functions of libc from .dynsym', () => {
    const libc = execFileSync('gcc', ['-print-file-name=libc.so.6'], { encoding: 'utf8' }).trim();
    const path = existsSync(libc) ? libc : '/lib/x86_64-linux-gnu/libc.so.6';
    const bin = loadBinarySymbols(path, { mappedPath: path, debugDirs: NO_DEBUG_DIRS })!;
    const syms = nmFunctions(path, true);
    expect(['dynsym', 'symtab']).toContain(bin.origin);
    expect(expectAllFunctionsResolve(bin, syms)).toBeGreaterThan(500);
    expect(bin.frameAt(nmAddress(path, 'malloc', true)).name).toMatch(/malloc/);
  });

  it('demangles C++ names and keeps the mangled one', () => {
    const prog = compile('symbolize-widgets.cpp', dir, 'widgets', ['-g']);
    const bin = loadBinarySymbols(prog, { mappedPath: prog, debugDirs: NO_DEBUG_DIRS })!;
    const spin = nmFunctions(prog).find((s) => s.name === '_ZN6shapes6Widget4spinEi')!;
    expect(bin.frameAt(spin.addr + 1)).toEqual({ name: 'shapes::Widget::spin(int)', module: 'widgets', kind: 'native', rawName: '_ZN6shapes6Widget4spinEi' });
    const mangled = nmFunctions(prog).filter((s) => s.name.startsWith('_ZN6shapes'));
    expect(mangled.length).toBeGreaterThanOrEqual(3);
    for (const s of mangled) {
      const f = bin.frameAt(s.addr);
      expect(f.rawName).toBe(s.name);
      // c++filt prints a template function's return type first; the profiler's name leaves it out.
      const cxx = run('c++filt', [s.name]).trim();
      expect(f.name === cxx || cxx.endsWith(` ${f.name}`), `${f.name} vs ${cxx}`).toBe(true);
    }
  });

  it('finds the full symbols of an image read from memory (the vdso) in a file of the same build-id only', () => {
    const d = tempDir();
    const full = compile('symbolize-burn.c', d, 'image.so', ['-shared', '-fPIC']);
    const image = join(d, 'image-stripped.so');
    copyFileSync(full, image);
    run('objcopy', ['--strip-all', image]);
    const otherBuild = compile('symbolize-burn.c', d, 'other-build.so', ['-shared', '-fPIC', '-DOTHER_BUILD=1', '-O2']);
    const noBuildId = compile('symbolize-burn.c', d, 'no-build-id.so', ['-shared', '-fPIC', '-Wl,--build-id=none']);
    expect(readelfBuildId(otherBuild)).not.toBe(readelfBuildId(full));
    const addr = nmAddress(full, 'burn_inner_static');
    const bytes = readFileSync(image);
    // The memory image alone has only its exported functions.
    expect(loadImageSymbols(bytes, '[vdso]')!.frameAt(addr).kind).toBe('unknown');
    // Files of another build, or with no build-id to compare, are passed over.
    const wrong = loadImageSymbols(bytes, '[vdso]', { debugDirs: NO_DEBUG_DIRS, extraDebugFiles: [join(d, 'absent.so'), otherBuild, noBuildId] })!;
    expect(wrong.frameAt(addr).kind).toBe('unknown');
    const right = loadImageSymbols(bytes, '[vdso]', { debugDirs: NO_DEBUG_DIRS, extraDebugFiles: [otherBuild, noBuildId, full] })!;
    expect(right.origin).toBe('debug-build-id');
    expect(right.frameAt(addr + 1)).toEqual({ name: 'burn_inner_static', module: '[vdso]', kind: 'native' });
  });
});

describe('Rust binaries', () => {
  const rustc = (() => {
    try {
      return execFileSync('rustc', ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  })();
  if (!rustc) console.log('skipping Rust symbol tests: rustc is not installed (demangling is still tested on names)');

  it.skipIf(!rustc)('demangles legacy and v0 Rust symbols of a compiled program', () => {
    for (const mangling of ['default', 'v0']) {
      const out = join(dir, `rust-${mangling}`);
      const flags = mangling === 'v0' ? ['-C', 'symbol-mangling-version=v0'] : [];
      run('rustc', ['-O', ...flags, '-o', out, join(new URL('../native/', import.meta.url).pathname, 'symbolize-rust.rs')]);
      const sym = nmFunctions(out).find((s) => s.name.includes('crunch_numbers'))!;
      expect(sym.name).toMatch(mangling === 'v0' ? /^_R/ : /^_ZN.*17h[0-9a-f]{16}E$/);
      const f = loadBinarySymbols(out, { mappedPath: out, debugDirs: NO_DEBUG_DIRS })!.frameAt(sym.addr + 1);
      expect(f).toEqual({ name: 'symbolize_rust::engine::crunch_numbers', module: `rust-${mangling}`, kind: 'native', rawName: sym.name });
    }
  });
});

describe('functions with no symbol', () => {
  /** The functions readelf finds in the unwind table: [start, end). */
  function fdeRanges(path: string): [number, number][] {
    // readelf exits 1 on libc after printing every frame (a complaint it does not print): its output is what counts.
    const out = spawnSync('readelf', ['--debug-dump=frames', path], { encoding: 'utf8', maxBuffer: 256 << 20 }).stdout;
    return [...out.matchAll(/ FDE cie=\S+ pc=([0-9a-f]+)\.\.([0-9a-f]+)/g)].map((m) => [parseInt(m[1]!, 16), parseInt(m[2]!, 16)]);
  }

  it("groups a stripped binary's addresses by the function its unwind table puts them in", () => {
    const d = tempDir();
    const prog = compile('symbolize-widgets.cpp', d, 'widgets-stripped', ['-s']);
    const ranges = fdeRanges(prog);
    expect(ranges.length).toBeGreaterThan(5);
    const bin = loadBinarySymbols(prog, { mappedPath: prog, debugDirs: NO_DEBUG_DIRS })!;
    let grouped = 0;
    for (const [start, end] of ranges) {
      const probes = [start + 1, (start + end) >>> 1, end - 1];
      // Functions .dynsym names, and the PLT (one FDE for all its stubs), have names.
      if ([start, ...probes].some((a) => bin.frameAt(a).kind !== 'unknown')) continue;
      const first = bin.frameAt(start);
      expect(first.name).toBe(`[unknown] widgets-stripped+0x${start.toString(16)}`);
      // One frame, the same object, for every address of the function.
      for (const a of probes) expect(bin.frameAt(a)).toBe(first);
      grouped++;
    }
    expect(grouped).toBeGreaterThan(5);
    // Past the last function the unwind table covers, an address stays as it is.
    const last = Math.max(...ranges.map(([, end]) => end));
    const beyond = bin.frameAt(last + 0x10000);
    expect(beyond.name).toBe(`[unknown] widgets-stripped+0x${(last + 0x10000).toString(16)}`);
  });

  it("finds each function's start in a table of thousands (libc), at either end of every function", () => {
    const found = execFileSync('gcc', ['-print-file-name=libc.so.6'], { encoding: 'utf8' }).trim();
    const libc = existsSync(found) ? found : '/lib/x86_64-linux-gnu/libc.so.6';
    const ranges = fdeRanges(libc).sort((a, b) => a[0] - b[0]);
    expect(ranges.length).toBeGreaterThan(1000);
    const elf = new ElfFile(new FileSource(libc));
    const bounds = FunctionBounds.open(elf)!;
    for (const [start, end] of ranges) {
      if (end <= start) continue;
      expect(bounds.startOf(start)).toBe(start);
      expect(bounds.startOf(end - 1)).toBe(start);
    }
    expect(bounds.startOf(ranges[0]![0] - 1)).toBeUndefined();
    elf.close();
  });

  it('keeps each address when the binary has no unwind table index', () => {
    const d = tempDir();
    const prog = compile('symbolize-widgets.cpp', d, 'widgets-no-hdr', ['-s', '-Wl,--no-eh-frame-hdr']);
    expect(run('readelf', ['-lW', prog])).not.toMatch(/GNU_EH_FRAME/);
    const [start] = fdeRanges(prog).find(([s]) => loadBinarySymbols(prog, { mappedPath: prog, debugDirs: NO_DEBUG_DIRS })!.frameAt(s).kind === 'unknown')!;
    const bin = loadBinarySymbols(prog, { mappedPath: prog, debugDirs: NO_DEBUG_DIRS })!;
    expect(bin.frameAt(start + 1).name).toBe(`[unknown] widgets-no-hdr+0x${(start + 1).toString(16)}`);
  });
});
