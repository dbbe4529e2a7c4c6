// Benchmark of `profctl top` against `go tool pprof -top` on the same ~50 MB
// (gzipped, on disk) synthetic CPU profile, in the same run, plus the start-up
// time of `profctl --version` / `--help` against a bare `node -e 0`.
// The profile is generated here with a fixed seed to look like a busy labeled
// Go service: thousands of functions, tens of thousands of distinct stacks
// 8–40 deep, inlined frames, and every sample labeled with trace_id, span_id
// and span_name (so samples do not collapse into a few stacks).
// Prints a markdown section for bench/RESULTS.md (with --append, appends it).
// Medians of several alternating runs; the machine is shared with other
// engineers, so single numbers are noisy.
import { spawnSync, execSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom as seeded } from '../test/support/seeded-random.mjs';
import { median } from './stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { ProfileBuilder } = await import(join(root, 'dist/profile/model.js'));
const { encodePprof } = await import(join(root, 'dist/profile/pprof.js'));

const TARGET_BYTES = 50 * 1024 * 1024;
const FUNCTIONS = 8000;
const STACKS = 60_000;
const TRACES = 200_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const STARTUP_RUNS = 15;
const PERIOD = 10_000_000;


/** A profile of `samples` samples; the same seed gives the same profile. */
function makeProfile(samples) {
  const random = seeded(20261125);
  const b = new ProfileBuilder([{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }], {
    periodType: { type: 'cpu', unit: 'nanoseconds' },
    period: PERIOD,
    timeMs: Date.UTC(2026, 10, 25),
    durationMs: 60_000,
  });
  const frames = Array.from({ length: FUNCTIONS }, (_, i) =>
    b.frameId({ name: `github.com/acme/svc/pkg${i % 131}.(*T${i % 17}).Method${i}`, module: i % 11 === 0 ? 'libc.so.6' : 'svc', kind: 'native', ...(i % 9 === 0 ? { inline: true } : {}) }),
  );
  // Stacks share prefixes (callers) as real ones do: each new stack extends a random earlier one.
  const stacks = [];
  for (let i = 0; i < STACKS; i++) {
    const base = i > 50 && random() < 0.8 ? stacks[Math.floor(random() * stacks.length)] : [];
    const depth = 8 + Math.floor(random() * 33);
    const s = base.slice(0, Math.min(base.length, depth - 2));
    while (s.length < depth) s.push(frames[Math.floor(random() ** 2 * FUNCTIONS)]);
    stacks.push(s);
  }
  // Leaf first for the model; the last frame (the root) must not be inline.
  const stackIds = stacks.map((s) => {
    const leafFirst = [...s].reverse();
    return b.stackId(leafFirst);
  });
  const hex = (n, len) => n.toString(16).padStart(len, '0');
  for (let i = 0; i < samples; i++) {
    const st = stackIds[Math.floor(random() ** 1.5 * STACKS)];
    const trace = Math.floor(random() * TRACES);
    const n = 1 + Math.floor(random() ** 4 * 20);
    b.addSample({
      stack: st,
      values: [n, n * PERIOD],
      labels: { trace_id: hex(trace * 2654435761, 16) + hex(trace, 16), span_id: hex(trace * 40503 + (i % 7), 16), span_name: `GET /api/v${trace % 5}` },
    });
  }
  return b.build();
}


/** Wall time (ms) and peak RSS (MB) of one run, both from /usr/bin/time so each run is measured once. */
function run(cmd, args, env) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const [secs, kb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { ms: secs * 1000, rssMb: kb / 1024 };
}

function time(cmd, args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const dir = join(tmpdir(), 'profctl-bench');
mkdirSync(dir, { recursive: true });
const file = join(dir, 'top-50mb.pb.gz');
if (!existsSync(file)) {
  // Size the sample count from a trial, then correct once: gzip ratios grow with size.
  const trialSamples = 200_000;
  let samples = Math.round((trialSamples * TARGET_BYTES) / encodePprof(makeProfile(trialSamples)).length);
  for (let attempt = 0; attempt < 2; attempt++) {
    process.stderr.write(`bench: generating ${samples} samples into ${file}\n`);
    const bytes = encodePprof(makeProfile(samples));
    writeFileSync(file, bytes);
    if (Math.abs(bytes.length - TARGET_BYTES) < TARGET_BYTES * 0.05) break;
    samples = Math.round((samples * TARGET_BYTES) / bytes.length);
  }
}
const size = statSync(file).size;
const rawSize = Number(execSync(`gzip -dc ${file} | wc -c`, { encoding: 'utf8' }).trim());

const profctl = join(root, 'bin/profctl');
const ours = [];
const theirs = [];
for (let i = 0; i < RUNS; i++) {
  // Alternate so that background load hits both sides alike.
  ours.push(run(profctl, ['top', '-i', file, '--limit', '20']));
  process.stderr.write(`bench: profctl top ${ours.at(-1).ms.toFixed(0)} ms\n`);
  theirs.push(run('go', ['tool', 'pprof', '-top', file], { PPROF_TMPDIR: dir }));
  process.stderr.write(`bench: go tool pprof -top ${theirs.at(-1).ms.toFixed(0)} ms\n`);
}
const oursMs = ours.map((r) => r.ms);
const theirsMs = theirs.map((r) => r.ms);
const oursRss = median(ours.map((r) => r.rssMb));
const theirsRss = median(theirs.map((r) => r.rssMb));
const load = execSync('cat /proc/loadavg', { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');

// Decode alone, in process: our reader against the pprof-format package (the
// reason profctl has its own decoder); both get the same gunzipped bytes.
const { gunzipSync } = await import('node:zlib');
const { readFileSync } = await import('node:fs');
const { decodePprof } = await import(join(root, 'dist/profile/pprof.js'));
const { Profile: PprofFormatProfile } = await import('pprof-format');
const rawBytes = gunzipSync(readFileSync(file));
const decodeOurs = [];
const decodePkg = [];
for (let i = 0; i < RUNS; i++) {
  let t = performance.now();
  decodePprof(rawBytes, file);
  decodeOurs.push(performance.now() - t);
  t = performance.now();
  PprofFormatProfile.decode(rawBytes);
  decodePkg.push(performance.now() - t);
}

const node0 = [];
const version = [];
const help = [];
for (let i = 0; i < STARTUP_RUNS; i++) {
  node0.push(time(process.execPath, ['-e', '0']));
  version.push(time(profctl, ['--version']));
  help.push(time(profctl, ['--help']));
}

const cpu = cpus()[0]?.model ?? 'unknown';
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const section = `
## top: \`profctl top\` vs \`go tool pprof -top\` (${new Date().toISOString().slice(0, 10)})

Machine: ${cpus().length} CPUs (\`nproc\` ${execSync('nproc', { encoding: 'utf8' }).trim()}), ${cpu}; node ${process.version}; ${execSync('go version', { encoding: 'utf8' }).trim()}.
Input: synthetic labeled CPU profile (\`bench/top.mjs\`, fixed seed), ${(size / 1048576).toFixed(1)} MB gzipped, ${(rawSize / 1048576).toFixed(1)} MB of protobuf.
Medians of ${RUNS} alternating runs (startup: ${STARTUP_RUNS}); the machine is shared with other work (load average at the end: ${load}), so expect noise.

| command | median | runs | peak RSS |
| --- | --- | --- | --- |
| \`profctl top -i top-50mb.pb.gz --limit 20\` | ${fmt(median(oursMs))} | ${oursMs.map(fmt).join(', ')} | ${oursRss.toFixed(0)} MB |
| \`go tool pprof -top top-50mb.pb.gz\` | ${fmt(median(theirsMs))} | ${theirsMs.map(fmt).join(', ')} | ${theirsRss.toFixed(0)} MB |

**profctl / pprof time ratio: ${(median(oursMs) / median(theirsMs)).toFixed(2)}** (target ≤ 1).

| decode only (in process, same bytes) | median | runs |
| --- | --- | --- |
| profctl \`decodePprof\` (to the profile model, stacks interned) | ${fmt(median(decodeOurs))} | ${decodeOurs.map(fmt).join(', ')} |
| \`pprof-format\` \`Profile.decode\` (raw message objects only) | ${fmt(median(decodePkg))} | ${decodePkg.map(fmt).join(', ')} |

| start-up | median | ratio to \`node -e 0\` |
| --- | --- | --- |
| \`node -e 0\` | ${fmt(median(node0))} | 1.00 |
| \`profctl --version\` | ${fmt(median(version))} | ${(median(version) / median(node0)).toFixed(2)} |
| \`profctl --help\` | ${fmt(median(help))} | ${(median(help) / median(node0)).toFixed(2)} |

(target: within 2× of \`node -e 0\`)
`;
process.stdout.write(section);
if (process.argv.includes('--append')) appendFileSync(join(root, 'bench/RESULTS.md'), section);
