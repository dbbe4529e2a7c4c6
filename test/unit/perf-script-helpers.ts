// Shared by the perf-script and folded tests: feed strings or fixture files to
// the streaming readers in chosen chunk sizes, and render folded output.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readPerfScript } from '../../src/profile/perf-script.js';
import { exportFolded, type FoldedExportOptions } from '../../src/profile/folded.js';
import type { Profile } from '../../src/profile/model.js';
import type { PerfScriptOptions } from '../../src/profile/read-file.js';

export const fixtureDir = join(import.meta.dirname, '..', 'fixtures', 'perf-script');
export const fixtureNames = readdirSync(fixtureDir).filter((f) => f.endsWith('.txt')).map((f) => f.replace(/\.txt$/, ''));
/** stackcollapse-perf's options as its test suite names them ('default' = none). */
export const collapseOptions = ['default', 'pid', 'tid', 'kernel', 'jit', 'all', 'addrs'] as const;

export async function* chunksOf(data: Buffer, sizes: number[] = [1 << 16]): AsyncIterable<Buffer> {
  let at = 0;
  let i = 0;
  while (at < data.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    yield data.subarray(at, at + n);
    at += n;
  }
}

export function fixture(name: string): Buffer {
  return readFileSync(join(fixtureDir, `${name}.txt`));
}

export function expectedFolded(name: string, opt: string): string[] {
  return readFileSync(join(fixtureDir, 'results', `${name}-collapsed-${opt}.txt`), 'utf8').split('\n').filter((l) => l !== '').sort();
}

/** Reads perf script text the way `profctl export --format folded --<opt>` does. */
export async function readForCollapse(data: Buffer, opt: string, extra: PerfScriptOptions = {}, sizes?: number[]): Promise<Profile> {
  return readPerfScript(chunksOf(data, sizes), 'test.txt', {
    addrs: opt === 'addrs',
    tidyJava: !(opt === 'pid' || opt === 'tid'),
    ...extra,
    warn: () => {},
  });
}

export function folded(profile: Profile, opts: FoldedExportOptions = {}): string[] {
  let out = '';
  exportFolded(profile, opts, (s) => (out += s));
  return out.split('\n').filter((l) => l !== '').sort();
}

export function optionFlags(opt: string): FoldedExportOptions {
  return opt === 'default' || opt === 'addrs' ? {} : { [opt]: true };
}
