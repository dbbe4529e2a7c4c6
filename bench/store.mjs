#!/usr/bin/env node
// Store benchmark: bytes per day per busy core at 99 Hz (every sample's time
// and tid kept), and the time to read a whole day and the last 15 minutes.
// Peer, in the same run: the same windows kept as one gzipped pprof each (with
// per-sample time/pid/tid labels, as `record -o` writes them and as pprof-based
// agents ship them) — its size, and the time to decode 15 minutes of it.
//
// It also lists and queries the last 15 minutes of a week-long store (the
// default retention) made of the day's segments under earlier names.
//
//   node bench/store.mjs [--day DIR] [--repeat 5]
//     --day DIR   a store already made by bench/gen-store.mjs (a full day);
//                 without it one is generated into a temp dir first (~1 min).
// Prints a markdown section on stdout; notes on stderr.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { generateStore, generateWindows } from './gen-store.mjs';
import { median } from './stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = (p) => pathToFileURL(path.join(here, '..', 'dist', p)).href;
const { openStoreReader } = await import(dist('store/index.js'));
const { segmentFileName, segmentHourDir } = await import(dist('store/layout.js'));
const { encodePprof, decodePprof } = await import(dist('profile/pprof.js'));

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const repeat = Number(opt('repeat', 5));
const CORES = 2;
const HZ = 99;
const DAY_SEGMENTS = 8640;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'profctl-bench-store-'));
const note = (m) => process.stderr.write(`${m}\n`);
// Bytes of the files under d (segments/ holds a directory per hour).
const dirBytes = (d) =>
  fs.readdirSync(d, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? dirBytes(path.join(d, e.name)) : fs.statSync(path.join(d, e.name)).size), 0);
const mb = (b) => (b / 1e6).toFixed(1);

// ---- storage: 10 minutes per codec, extrapolated; plus the pprof peer
const TEN_MIN = 60;
const storage = [];
for (const codec of ['deflate', 'brotli', 'none']) {
  const dir = path.join(tmp, `ten-${codec}`);
  const res = generateStore({ dir, segments: TEN_MIN, cores: CORES, hz: HZ, codec, endMs: Date.UTC(2025, 0, 15) });
  const writeMs = res.appendMs;
  const seg = dirBytes(path.join(dir, 'segments'));
  const tables = dirBytes(path.join(dir, 'tables'));
  // Segments scale with time; the tables hold the distinct stacks once (a new generation daily).
  const perDayPerCore = ((seg * (DAY_SEGMENTS / TEN_MIN)) + tables) / CORES;
  storage.push({ codec, samples: res.samples, seg, tables, perDayPerCore, writeMsPerSegment: writeMs / TEN_MIN });
}
let pprofBytes = 0;
const pprofFiles = [];
for (const win of generateWindows({ segments: TEN_MIN, cores: CORES, hz: HZ, endMs: Date.UTC(2025, 0, 15) })) {
  const bytes = encodePprof(win.profile);
  pprofBytes += bytes.length;
  pprofFiles.push(bytes);
}
const pprofPerDayPerCore = (pprofBytes * (DAY_SEGMENTS / TEN_MIN)) / CORES;

// ---- the full day
let dayDir = opt('day');
if (!dayDir) {
  dayDir = path.join(tmp, 'day');
  note(`generating a day of segments into ${dayDir} (takes a few minutes)…`);
  generateStore({ dir: dayDir, segments: DAY_SEGMENTS, cores: CORES, hz: HZ });
}
const reader = openStoreReader(dayDir, { onWarning: note });
const st = reader.stats();
const dayHours = (st.newestMs - st.oldestMs) / 3_600_000;
const dayPerCore = st.sizeBytes / CORES / (dayHours / 24);

async function timeIt(fn) {
  const runs = [];
  let out;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    out = await fn();
    runs.push(performance.now() - t0);
  }
  return { median: median(runs), runs, out };
}

const endMs = st.newestMs;
const q15 = { fromMs: endMs - 15 * 60_000, toMs: endMs };
const dayAgg = await timeIt(() => openStoreReader(dayDir).readProfile({ fromMs: endMs - 86_400_000, toMs: endMs, aggregate: true }));
const m15Agg = await timeIt(() => openStoreReader(dayDir).readProfile({ ...q15, aggregate: true }));
const m15Full = await timeIt(() => openStoreReader(dayDir).readProfile(q15));
// Peer: decode 15 minutes (90 windows) of gzipped pprof with per-sample labels.
const pprof15 = [];
for (let i = 0; i < 90; i++) pprof15.push(pprofFiles[i % pprofFiles.length]);
const peer15 = await timeIt(async () => {
  let n = 0;
  for (const b of pprof15) n += decodePprof(gunzipSync(b), 'window.pb.gz').samples.length;
  return n;
});

// End to end through the CLI (node start, option parsing, rendering included).
const profctl = path.join(here, '..', 'bin', 'profctl');
const iso = (ms) => new Date(ms).toISOString();
// Wall time, and the command's own CPU (user+sys, from /usr/bin/time) since wall time on a busy shared machine mostly measures waiting for a core.
const timeBin = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
function runCli(argv) {
  const cpuFile = path.join(tmp, 'cpu.txt');
  const t0 = performance.now();
  const r = timeBin ? spawnSync(timeBin, ['-f', '%U %S', '-o', cpuFile, profctl, ...argv], { encoding: 'utf8' }) : spawnSync(profctl, argv, { encoding: 'utf8' });
  const wall = performance.now() - t0;
  const cpu = timeBin ? fs.readFileSync(cpuFile, 'utf8').trim().split('\n').pop().split(' ').reduce((a, x) => a + Number(x) * 1000, 0) : NaN;
  return { wall, cpu, status: r.status, stderr: r.stderr };
}
function cli(argv) {
  const walls = [];
  const cpus = [];
  for (let i = 0; i < repeat; i++) {
    const r = runCli(argv);
    if (r.status !== 0) return { error: (r.stderr || '').split('\n')[0] };
    walls.push(r.wall);
    cpus.push(r.cpu);
  }
  return { median: median(walls), runs: walls, cpu: median(cpus) };
}
const top = (since, dir = dayDir) => cli(['top', '--store', dir, '--since', iso(since), '--until', iso(endMs), '--limit', '10']);
const cliFloor = cli(['--version']);
const cliDay = top(endMs - 86_400_000);
const cli15 = top(endMs - 15 * 60_000);

// A full week at the default retention: the day's segments again under the
// names of the six days before (hard links, so no bytes are written; the
// older copies are only listed, never opened, by a 15-minute query).
const weekDir = path.join(tmp, 'week');
const link = (from, to) => {
  try {
    fs.linkSync(from, to);
  } catch {
    fs.symlinkSync(path.resolve(from), to);
  }
};
fs.mkdirSync(path.join(weekDir, 'segments'), { recursive: true });
fs.mkdirSync(path.join(weekDir, 'tables'));
for (const f of fs.readdirSync(path.join(dayDir, 'tables'))) link(path.join(dayDir, 'tables', f), path.join(weekDir, 'tables', f));
let weekSegments = 0;
for (let day = 0; day < 7; day++) {
  for (const seg of reader.segments()) {
    const shift = day * 86_400_000;
    const hour = path.join(weekDir, 'segments', segmentHourDir(seg.toMs - shift));
    fs.mkdirSync(hour, { recursive: true });
    link(seg.path, path.join(hour, segmentFileName(seg.fromMs - shift, seg.toMs - shift, seg.generation)));
    weekSegments++;
  }
}
const weekList = await timeIt(() => openStoreReader(weekDir).segments(q15.fromMs, q15.toMs));
const cliWeek15 = top(endMs - 15 * 60_000, weekDir);

const cpu = (os.cpus()[0]?.model ?? 'unknown').trim();
const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
const fmt = (r) => (r.error ? `failed: ${r.error} | | ` : `${r.median.toFixed(0)} | ${r.cpu === undefined || Number.isNaN(r.cpu) ? '–' : r.cpu.toFixed(0)} | ${r.runs.map((x) => x.toFixed(0)).join(', ')}`);
const lines = [];
lines.push(`## store: bytes per day per core, and reading a day (${new Date().toISOString().slice(0, 10)})`);
lines.push('');
lines.push(`Machine: ${os.cpus().length} CPUs (\`nproc\` ${execFileSync('nproc').toString().trim()}), ${cpu}; load average at the end ${load} (shared with other work: timings are noisy; medians of ${repeat}).`);
lines.push(`Command: \`node bench/store.mjs${opt('day') ? ' --day DIR' : ''}\` over \`bench/gen-store.mjs\` data: ${CORES} fully busy cores at ${HZ} Hz, 10 s segments, 3 services / 8 threads, 300 distinct stacks of 30–40 frames (25% with 4–9 kernel frames), Zipf hotness, per-sample time (1 ms) and tid kept, no spans.`);
lines.push('');
lines.push('### Storage');
lines.push('');
lines.push('10 minutes written per codec, extrapolated: (segment bytes × 144 + table bytes) / 2 cores — segments grow with time, the tables hold each distinct stack once per daily table generation.');
lines.push('');
lines.push('| format | samples (10 min) | segments | tables | bytes/sample | **MB per day per core** | appendSegment per 10 s window (wall, no fsync) |');
lines.push('|---|---:|---:|---:|---:|---:|---:|');
for (const s of storage) {
  lines.push(`| store, ${s.codec}${s.codec === 'deflate' ? ' (default)' : ''} | ${s.samples} | ${s.seg} | ${s.tables} | ${(s.seg / s.samples).toFixed(2)} | **${mb(s.perDayPerCore)}** | ${s.writeMsPerSegment.toFixed(1)} ms |`);
}
lines.push(`| peer: gzipped pprof per window, time/pid/tid labels | ${storage[0].samples} | ${pprofBytes} | – | ${(pprofBytes / storage[0].samples).toFixed(2)} | ${mb(pprofPerDayPerCore)} | – |`);
lines.push('');
lines.push(`store / pprof.gz: **${(storage[0].perDayPerCore / pprofPerDayPerCore).toFixed(2)}×**. Target ≤ 25 MB per day per core.`);
lines.push(`Full day measured directly (${dayDir === opt('day') ? 'given' : 'generated'} store, ${st.segments} segments, ${dayHours.toFixed(1)} h): ${mb(st.sizeBytes)} MB in all (${mb(st.tablesBytes)} MB tables) = **${mb(dayPerCore)} MB per day per core**.`);
lines.push('');
lines.push('### Reading');
lines.push('');
lines.push('| read | median wall ms | CLI CPU ms (user+sys, median) | wall runs (ms) |');
lines.push('|---|---:|---:|---|');
lines.push(`| library: whole day, aggregate (what \`top --since 24h\` reads) | ${fmt(dayAgg)} |`);
lines.push(`| library: last 15 min, aggregate | ${fmt(m15Agg)} |`);
lines.push(`| library: last 15 min, every sample with its time (${m15Full.out.samples.length} samples) | ${fmt(m15Full)} |`);
lines.push(`| peer: decode 15 min of gzipped pprof windows (${peer15.out} samples) | ${fmt(peer15)} |`);
lines.push(`| \`profctl --version\` (node start: the floor of any command) | ${fmt(cliFloor)} |`);
lines.push(`| \`profctl top --store DIR --since <end−24h> --until <end>\` | ${fmt(cliDay)} |`);
lines.push(`| \`profctl top --store DIR --since <end−15m> --until <end>\` | ${fmt(cli15)} |`);
lines.push(`| library: list the last 15 min's segments of a week's store (${weekSegments} segments, ${weekList.out.length} listed) | ${fmt(weekList)} |`);
lines.push(`| \`profctl top --store WEEK --since <end−15m> --until <end>\` (the same query on the week's store) | ${fmt(cliWeek15)} |`);
lines.push('');
lines.push(`15 min every sample, store / pprof.gz decode: **${(m15Full.median / peer15.median).toFixed(2)}×** (below 1 is faster). Targets: \`--since 24h\` under 2 s, \`--since 15m\` under 300 ms.`);
lines.push('');
process.stdout.write(`${lines.join('\n')}\n`);
fs.rmSync(tmp, { recursive: true, force: true });
