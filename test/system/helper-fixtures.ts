// Shared setup of the helper system tests: the root check (these tests load
// real BPF programs; in CI, which runs as root, they must run, never skip),
// building the helper and the C targets in test/native/, and resolving raw
// addresses against `nm` output (symbolization proper is another stage's job).

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');

const isRoot = process.getuid?.() === 0;
/** Why the system tests cannot run here, or undefined when they can. */
export const skipReason: string | undefined = isRoot ? undefined : 'needs root to load BPF programs';
if (skipReason && process.env.CI) throw new Error(`helper system tests must run in CI, but: ${skipReason}`);
if (skipReason) console.warn(`skipping helper system tests: ${skipReason}`);

let buildDir: string | undefined;

/** Builds the helper (strictly: a compiler error fails the test) once per file. */
export function buildHelper(): void {
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build-native.mjs'), '--strict'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the helper failed:\n${r.stderr}`);
}

/** Compiles test/native/NAME.c into a temp dir; returns the binary's path. */
export function buildTarget(name: string, flags: string[]): string {
  buildDir ??= mkdtempSync(join(tmpdir(), 'profctl-native-'));
  const out = join(buildDir, name);
  execFileSync('cc', [...flags, '-o', out, join(repoRoot, 'test', 'native', `${name}.c`)], { stdio: 'pipe' });
  return out;
}

export interface FunctionSymbol { name: string; start: bigint; end: bigint }

/** Function symbols of a non-PIE binary, from `nm -S` (addresses are final). */
export function functionSymbols(binary: string): FunctionSymbol[] {
  const out = execFileSync('nm', ['-S', '--defined-only', binary], { encoding: 'utf8' });
  const symbols: FunctionSymbol[] = [];
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) [tT] (\S+)$/.exec(line.trim());
    if (m) symbols.push({ name: m[3], start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[1]}`) + BigInt(`0x${m[2]}`) });
  }
  return symbols;
}

/** Names a leaf-first user stack; callers are return addresses, so look up addr-1. */
export function nameStack(stack: bigint[], symbols: FunctionSymbol[]): string[] {
  return stack.map((addr, i) => {
    const pc = i === 0 ? addr : addr - 1n;
    return symbols.find((s) => pc >= s.start && pc < s.end)?.name ?? '?';
  });
}
