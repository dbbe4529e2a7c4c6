// Builds the sampling helper (src/native/*.c → build/profctl-helper) with the
// machine's C compiler. Run by `npm install` and `npm run build:native`.
// It must never fail the install: without a compiler profctl still works
// with `--engine perf` and on saved profiles, so a failed build prints what
// to do and exits 0 (`--strict` makes it exit 1, for CI and tests).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'src', 'native');
const output = join(root, 'build', 'profctl-helper');
const strict = process.argv.includes('--strict');

function giveUp(why, fix) {
  console.error(`profctl: the sampling helper was not built: ${why}`);
  console.error(`profctl: ${fix}`);
  console.error('profctl: until then, `profctl record --engine perf` uses perf(1) instead.');
  process.exit(strict ? 1 : 0);
}

if (process.platform !== 'linux') giveUp(`it needs Linux (this is ${process.platform})`, 'run profctl on Linux to capture profiles.');
if (!existsSync(sourceDir)) giveUp('src/native/ is missing from this package', 'reinstall profctl.');

const candidates = [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean);
const compiler = candidates.find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
if (!compiler) {
  giveUp('no C compiler found (tried $CC, cc, gcc, clang)', 'install one (Debian/Ubuntu: `sudo apt-get install gcc linux-libc-dev`), then run `npm run build:native`.');
}

const sources = readdirSync(sourceDir).filter((f) => f.endsWith('.c')).map((f) => join(sourceDir, f));
mkdirSync(dirname(output), { recursive: true });
// The linker removes its output and writes it anew: a helper started meanwhile (an agent, another
// test file) would find it missing or half-written. It links beside it, and the result replaces it at once.
const linked = `${output}.tmp-${process.pid}`;
// --strict (CI, tests) also fails on a warning: a missing prototype or a short initializer must not reach users.
const args = ['-O2', '-g', '-Wall', '-Wextra', ...(strict ? ['-Werror'] : []), '-std=gnu11', '-o', linked, ...sources];
const result = spawnSync(compiler, args, { encoding: 'utf8' });
if (result.status === 0) renameSync(linked, output);
else rmSync(linked, { force: true });
if (result.status !== 0) {
  const firstError = (result.stderr || '').split('\n').find((l) => /error/.test(l)) ?? (result.stderr || '').trim();
  const headers = /linux\/(bpf|perf_event|btf)\.h/.test(result.stderr || '');
  giveUp(
    `${compiler} failed: ${firstError.trim()}`,
    headers
      ? 'install the kernel headers (Debian/Ubuntu: `sudo apt-get install linux-libc-dev`), then run `npm run build:native`.'
      : 'fix the compiler error above, then run `npm run build:native`.',
  );
}
console.error(`profctl: built the sampling helper: ${output}`);
