// Builds the native test programs of the symbolize tests and reads the truth
// about them from binutils (nm, readelf), so tests compare profctl's ELF
// reading against an independent tool instead of hard-coded addresses.

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NATIVE_DIR = new URL('../native/', import.meta.url).pathname;

export function tempDir(prefix = 'profctl-sym-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
}

/** Compiles test/native/<source> into dir/<out> with extra flags; returns the output path. */
export function compile(source: string, dir: string, out: string, flags: string[] = []): string {
  const path = join(dir, out);
  const compiler = source.endsWith('.cpp') ? 'g++' : 'gcc';
  run(compiler, ['-O1', '-fno-omit-frame-pointer', ...flags, '-o', path, join(NATIVE_DIR, source)]);
  return path;
}

export interface NmSymbol {
  name: string;
  addr: number;
  size: number;
  type: string;
}

/** Function symbols as nm sees them (`dynamic` for .dynsym), without version suffixes. */
export function nmFunctions(path: string, dynamic = false): NmSymbol[] {
  const out = run('nm', ['-S', '--defined-only', ...(dynamic ? ['-D'] : []), path]);
  const syms: NmSymbol[] = [];
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]+) (?:([0-9a-f]+) )?([tTwWiI]) (\S+)$/.exec(line);
    if (!m) continue;
    syms.push({ addr: parseInt(m[1]!, 16), size: m[2] ? parseInt(m[2], 16) : 0, type: m[3]!, name: m[4]!.replace(/@@?[\w.]+$/, '') });
  }
  return syms;
}

export function nmAddress(path: string, name: string, dynamic = false): number {
  const s = nmFunctions(path, dynamic).find((x) => x.name === name);
  if (!s) throw new Error(`${name} not in ${path}`);
  return s.addr;
}

export function readelfBuildId(path: string): string | undefined {
  return /Build ID: ([0-9a-f]+)/.exec(run('readelf', ['-n', path]))?.[1];
}

/** PT_LOAD segments as readelf prints them. */
export function readelfLoads(path: string): { offset: number; vaddr: number; filesz: number }[] {
  const out = run('readelf', ['-lW', path]);
  const loads: { offset: number; vaddr: number; filesz: number }[] = [];
  for (const m of out.matchAll(/^\s*LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)/gm)) {
    loads.push({ offset: parseInt(m[1]!, 16), vaddr: parseInt(m[2]!, 16), filesz: parseInt(m[3]!, 16) });
  }
  return loads;
}

export function demangleWithCxxfilt(name: string): string {
  return run('c++filt', [name]).trim();
}
