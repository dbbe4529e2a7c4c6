// Benchmark of `profctl diff` against `go tool pprof -top -diff_base` on the
// same pair of synthetic CPU profiles (generated here with a fixed seed:
// thousands of functions, deep stacks, hundreds of thousands of samples), in
// the same run. Prints a markdown section for bench/RESULTS.md. Medians of
// several runs; the machine is shared, so treat single numbers as noisy.
import { spawnSync, execSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom as seeded } from '../test/support/seeded-random.mjs';
import { median } from './stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { ProfileBuilder } = await import(join(root, 'dist/profile/model.js'));
const { encodePprof } = await import(join(root, 'dist/profile/pprof.js'));

const FUNCTIONS = 5000;
const STACKS = 100_000;
const SAMPLES = 500_000;
const RUNS = 5;
const PERIOD = 10_000_000;


/** Stacks of 8–40 frames over FUNCTIONS names; Zipf-like weights; `hot` gets extra weight in the current run. */
function makeProfile(random, stacks, hot) {
  const b = new ProfileBuilder([{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }], { periodType: { type: 'cpu', unit: 'nanoseconds' }, period: PERIOD });
  const frames = Array.from({ length: FUNCTIONS }, (_, i) => b.frameId({ name: `pkg${i % 97}.fn${i}`, module: 'bench', kind: 'native' }));
  const ids = stacks.map((s) => b.stackId(s.map((f) => frames[f])));
  const weights = stacks.map((s, i) => 1 / (i + 1) + (s[0] === hot ? 0.02 : 0));
  const sum = weights.reduce((x, y) => x + y, 0);
  const cdf = [];
  let acc = 0;
  for (const w of weights) cdf.push((acc += w / sum));
  const counts = new Float64Array(stacks.length);
  for (let i = 0; i < SAMPLES; i++) {
    const r = random();
    let lo = 0, hi = cdf.length - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cdf[mid] < r) lo = mid + 1; else hi = mid; }
    counts[lo]++;
  }
  counts.forEach((c, i) => { if (c > 0) b.addSample({ stack: ids[i], values: [c, c * PERIOD] }); });
  return b.build();
}

const random = seeded(99);
const stacks = Array.from({ length: STACKS }, () => Array.from({ length: 8 + Math.floor(random() * 32) }, () => Math.floor(random() * FUNCTIONS)));
const dir = mkdtempSync(join(tmpdir(), 'profctl-bench-diff-'));
const base = join(dir, 'base.pb.gz');
const cur = join(dir, 'cur.pb.gz');
writeFileSync(base, encodePprof(makeProfile(random, stacks, -1)));
writeFileSync(cur, encodePprof(makeProfile(random, stacks, stacks[7][0])));

function time(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const profctlArgs = [join(root, 'bin/profctl'), 'diff', '--baseline', base, '--input', cur, '--json', '--limit', '0', '--fail-on-regression', '1'];
const pprofArgs = ['tool', 'pprof', '-top', '-nodecount=0', `-diff_base=${base}`, cur];
const p = [], g = [];
for (let i = 0; i < RUNS; i++) {
  p.push(time(process.execPath, profctlArgs));
  g.push(time('go', pprofArgs));
}
const pm = median(p), gm = median(g);
const cpu = cpus()[0]?.model ?? 'unknown';
const nproc = execSync('nproc').toString().trim();
const size = (f) => `${(statSync(f).size / 1e6).toFixed(1)} MB`;
console.log(`## diff (${new Date().toISOString().slice(0, 10)})

Machine: ${nproc} CPUs, ${cpu}. Inputs: two synthetic gzipped CPU pprofs (${size(base)}, ${size(cur)}), ${FUNCTIONS} functions, ${STACKS} stacks of 8–40 frames, ${SAMPLES} samples each (seed 99, bench/diff.mjs).

| command | median of ${RUNS} (ms) | runs (ms) |
|---|---:|---|
| \`profctl diff --baseline base --input cur --json --limit 0 --fail-on-regression 1\` | ${pm.toFixed(0)} | ${p.map((x) => x.toFixed(0)).join(', ')} |
| \`go tool pprof -top -nodecount=0 -diff_base=base cur\` | ${gm.toFixed(0)} | ${g.map((x) => x.toFixed(0)).join(', ')} |

profctl / pprof: **${(pm / gm).toFixed(2)}×** (below 1 is faster; profctl also runs a Fisher test per function). Shared machine: numbers are noisy.
`);
