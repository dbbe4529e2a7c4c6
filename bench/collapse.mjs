// Benchmark of perf script → folded stacks: `profctl export --format folded`
// against FlameGraph's stackcollapse-perf.pl in the same run, on the same
// large input. The input is real `perf script` output (recorded here with
// `perf record -g -a` over a CPU-bound workload when perf and root are
// available, else the test fixtures), repeated with perturbed pids to the
// target size. Reports throughput (MB/s of input, median of several runs) and
// peak RSS on a 1 GB input, measured with /usr/bin/time -v. The Perl script
// is not part of profctl: point STACKCOLLAPSE_PERF at a local copy to compare.
//
//   node bench/collapse.mjs [--mb 256] [--rss-mb 1024] [--runs 3] [--append]
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeSync, appendFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const MB = 1 << 20;
const throughputMb = arg('mb', 256);
const rssMb = arg('rss-mb', 1024);
const runs = arg('runs', 3);
const work = process.env.BENCH_DIR ?? '/tmp/profctl-bench';
mkdirSync(work, { recursive: true });

/** Real perf script text to repeat: $PERF_SCRIPT_SEED, else a fresh recording, else the fixtures. */
function seedText() {
  if (process.env.PERF_SCRIPT_SEED) return { text: readFileSync(process.env.PERF_SCRIPT_SEED, 'utf8'), from: process.env.PERF_SCRIPT_SEED };
  const seed = join(work, 'seed.txt');
  if (existsSync(seed)) return { text: readFileSync(seed, 'utf8'), from: `${seed} (perf record -g -a -F 499, 5 s, node + gzip load)` };
  try {
    const data = join(work, 'perf.data');
    const load = `node -e 'const f=(n)=>n<2?n:f(n-1)+f(n-2); for(;;) f(25)' & gzip -c </dev/urandom >/dev/null & perf record -q -g -a -F 499 -o ${data} -- sleep 5; kill %1 %2`;
    execFileSync('bash', ['-c', load], { stdio: 'ignore' });
    const text = execFileSync('perf', ['script', '-i', data], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    if (text.length > 0) return { text, from: 'perf record -g -a -F 499, 5 s, node + gzip load' };
  } catch {
    // no perf or no privilege: fall back to the fixtures
  }
  const dir = join(root, 'test/fixtures/perf-script');
  const text = readdirSync(dir).filter((f) => f.endsWith('.txt')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n\n');
  return { text, from: 'test/fixtures/perf-script/*.txt' };
}

/** Writes `seed` repeated to `bytes`, shifting pids per copy so that (stack, pid, tid) keys vary as in a long recording. */
function expand(seed, bytes, path) {
  if (existsSync(path) && statSync(path).size >= bytes) return statSync(path).size;
  const fd = openSync(path, 'w');
  let written = 0;
  for (let i = 0; written < bytes; i++) {
    const shift = (i % 16) * 100000;
    const copy = shift === 0 ? seed : seed.replace(/^(\S.*?\s+)(\d+)(\/\d+)?(\s)/gm, (_, comm, a, b, s) => `${comm}${Number(a) + shift}${b ?? ''}${s}`);
    written += writeSync(fd, copy.endsWith('\n\n') ? copy : `${copy}\n\n`);
  }
  closeSync(fd);
  return written;
}

/** Runs a command with stdout to /dev/null under /usr/bin/time -v: wall seconds and peak RSS in MB. */
function timed(cmd, args) {
  const out = openSync('/dev/null', 'w');
  const r = spawnSync('/usr/bin/time', ['-v', cmd, ...args], { stdio: ['ignore', out, 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20 });
  closeSync(out);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.slice(-500)}`);
  const wall = /Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  const user = /User time \(seconds\): ([\d.]+)/.exec(r.stderr);
  const sys = /System time \(seconds\): ([\d.]+)/.exec(r.stderr);
  const seconds = (Number(wall[1] ?? 0) * 3600) + Number(wall[2]) * 60 + Number(wall[3]);
  return { seconds, cpu: Number(user[1]) + Number(sys[1]), rssMb: Number(rss[1]) / 1024 };
}

const row = (tool, bytes, rs, rssNote = '') => {
  const mb = bytes / MB;
  const wall = median(rs.map((r) => r.seconds));
  const cpu = median(rs.map((r) => r.cpu));
  return `| ${tool} | ${mb.toFixed(0)} MB | ${wall.toFixed(2)} s | ${(mb / wall).toFixed(1)} MB/s | ${cpu.toFixed(2)} s | ${(mb / cpu).toFixed(1)} MB/s | ${Math.max(...rs.map((r) => r.rssMb)).toFixed(0)} MB${rssNote} |`;
};
const profctl = (input) => [process.execPath, [join(root, 'bin/profctl'), 'export', '--input', input, '--input-format', 'perf-script', '--format', 'folded']];

const loadAtStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const seed = seedText();
const small = join(work, `perf-script-${throughputMb}mb.txt`);
const large = join(work, `perf-script-${rssMb}mb.txt`);
const smallBytes = expand(seed.text, throughputMb * MB, small);
const largeBytes = expand(seed.text, rssMb * MB, large);

const ours = [];
const perl = [];
const perlPath = process.env.STACKCOLLAPSE_PERF;
for (let i = 0; i < runs; i++) {
  ours.push(timed(...profctl(small)));
  if (perlPath) perl.push(timed('perl', [perlPath, small]));
}
const big = [];
for (let i = 0; i < Math.max(1, Math.min(runs, 2)); i++) big.push(timed(...profctl(large)));

const oursMbs = (smallBytes / MB) / median(ours.map((r) => r.seconds));
const perlMbs = perl.length ? (smallBytes / MB) / median(perl.map((r) => r.seconds)) : undefined;
const oursCpuMbs = (smallBytes / MB) / median(ours.map((r) => r.cpu));
const perlCpuMbs = perl.length ? (smallBytes / MB) / median(perl.map((r) => r.cpu)) : undefined;
const cpu = cpus()[0]?.model ?? 'unknown';
const lines = [
  `## perf script → folded (bench/collapse.mjs), ${new Date().toISOString().slice(0, 10)}`,
  '',
  `Machine: ${cpus().length} CPUs (\`nproc\`), ${cpu}; node ${process.version}. Shared with other engineers at the time: numbers are noisy; medians of ${runs} runs.`,
  `Input: ${seed.from}, repeated with shifted pids to ${(smallBytes / MB).toFixed(0)} MB (throughput) and ${(largeBytes / MB).toFixed(0)} MB (memory).`,
  `Load average at start: ${loadAtStart}.`,
  `Commands: \`profctl export --input F --input-format perf-script --format folded > /dev/null\`${perlPath ? `; \`perl stackcollapse-perf.pl F > /dev/null\`` : ''}, each under \`/usr/bin/time -v\`.`,
  '',
  '| tool | input | wall (median) | throughput (wall) | CPU time (median) | throughput (CPU) | peak RSS |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  row('profctl', smallBytes, ours),
];
if (perlMbs !== undefined) {
  lines.push(row('stackcollapse-perf.pl', smallBytes, perl));
}
lines.push(row('profctl', largeBytes, big, ` (max of ${big.length})`));
lines.push('');
lines.push(perlMbs !== undefined ? `Ratio (same run): profctl is **${(oursMbs / perlMbs).toFixed(2)}×** stackcollapse-perf.pl's wall-clock throughput and ${(oursCpuMbs / perlCpuMbs).toFixed(2)}× by CPU time (CPU time is the steadier number on a loaded machine). Targets: ≥ 80 MB/s, < 300 MB peak RSS on 1 GB.` : 'stackcollapse-perf.pl not compared: set STACKCOLLAPSE_PERF to a local copy of it.');
lines.push(`Runs (s): profctl ${ours.map((r) => r.seconds.toFixed(2)).join(', ')}${perl.length ? `; perl ${perl.map((r) => r.seconds.toFixed(2)).join(', ')}` : ''}.`);
lines.push('');
const section = lines.join('\n');
process.stdout.write(`${section}\n`);
if (process.argv.includes('--append')) appendFileSync(join(root, 'bench/RESULTS.md'), `\n${section}`);
