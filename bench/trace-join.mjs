#!/usr/bin/env node
// The sample↔span join, measured two ways; prints a markdown section for
// bench/RESULTS.md.
//
// 1. Accuracy on real BPF samples: runs test/system/trace-ground-truth.test.ts
//    (needs root) a few times with PROFCTL_GROUND_TRUTH_JSON and reports the
//    median precision and recall of the thread-time join (spans only) and of
//    the in-kernel thread context (labels only) against the request server's
//    own record of which thread ran which request when.
// 2. Speed over a day of stored data: a day of realistic 10 s segments with
//    spans (bench/gen-store.mjs --spans 3), then `profctl flame --trace-id T`
//    for traces 5 minutes, 1 hour and 12 hours old, timed (median of runs)
//    and with the segment files it opened counted by strace, against
//    `profctl top --since 24h` over the same store in the same run.
//
//   node bench/trace-join.mjs [--store DIR (reuse a generated day)] [--runs 5] [--truth-runs 3] [--skip-truth]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const bin = path.join(root, 'bin', 'profctl');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt('runs', 5));
const truthRuns = Number(opt('truth-runs', 3));
const pct = (x) => `${(x * 100).toFixed(2)}%`;
const note = (m) => process.stderr.write(`trace-join: ${m}\n`);

function timed(argv) {
  const t0 = performance.now();
  const r = spawnSync(bin, argv, { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: '1' } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`profctl ${argv.join(' ')} failed: ${r.stderr}`);
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

/** Segment files a command opened, by strace (undefined when strace is missing). */
function segmentsOpened(argv) {
  const log = path.join(os.tmpdir(), `profctl-trace-join-strace-${process.pid}.txt`);
  const r = spawnSync('strace', ['-f', '-e', 'trace=openat', '-o', log, bin, ...argv], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) return undefined;
  const lines = fs.readFileSync(log, 'utf8').split('\n').filter((l) => /segments\/(\d{4,6}-\d\d-\d\dT\d\d\/)?\d+-\d+-g\d+-[0-9a-f]+\.seg"/.test(l) && !/ENOENT/.test(l));
  fs.rmSync(log, { force: true });
  return new Set(lines.map((l) => /segments\/([^"]+)"/.exec(l)[1])).size;
}

const out = [];
const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? 'unknown';
out.push(`## Trace join: accuracy against ground truth, and flame --trace-id over a day (bench/trace-join.mjs)`);
out.push('');
out.push(`${new Date().toISOString()} · ${os.cpus().length} CPUs (\`nproc\` ${execFileSync('nproc', { encoding: 'utf8' }).trim()}), ${cpu} · load average at start ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (the machine is shared: numbers are noisy, medians shown)`);
out.push('');

if (!args.includes('--skip-truth')) {
  const results = [];
  for (let i = 0; i < truthRuns; i++) {
    const file = path.join(os.tmpdir(), `profctl-ground-truth-${process.pid}-${i}.json`);
    note(`ground-truth run ${i + 1}/${truthRuns}`);
    const r = spawnSync('npx', ['vitest', 'run', 'test/system/trace-ground-truth.test.ts'], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: '1', PROFCTL_GROUND_TRUTH_JSON: file } });
    if (!fs.existsSync(file)) throw new Error(`the ground-truth test wrote no numbers (exit ${r.status}):\n${r.stdout.slice(-3000)}`);
    const failed = [...r.stdout.matchAll(/FAIL .*?> .*?> (.*)/g)].map((m) => m[1].replace(/\x1b\[[0-9;]*m/g, '').trim());
    results.push({ ...JSON.parse(fs.readFileSync(file, 'utf8')), passed: r.status === 0, failed });
    fs.rmSync(file, { force: true });
  }
  const first = results[0];
  out.push(`### Accuracy on real BPF samples (test/system/trace-ground-truth.test.ts, ${truthRuns} runs)`);
  out.push('');
  out.push(`\`profctl record --hz ${first.hz} -o X.pb.gz -- request-server ${first.threads} ${first.requests / first.threads} spans.jsonl\`: ${first.threads} worker threads on ${os.cpus().length} CPUs, ${first.requests} requests of three kinds (each burns CPU in its own function), spans with \`thread.id\` and \`process.pid\` as OTLP JSON lines, the OTel thread context published per span. Truth: a sample of thread T at time t belongs to the request T was running at t (the program's own span record, read with JSON.parse). Precision = right trace / attributed to some trace; recall = right trace / samples inside a request. Per run: samples of the program, then precision / recall.`);
  out.push('');
  out.push('| path | ' + results.map((_, i) => `run ${i + 1}`).join(' | ') + ' | median precision | median recall |');
  out.push('|---|' + results.map(() => '---').join('|') + '|---|---|');
  for (const [key, label] of [
    ['threadTime', 'thread-time join (spans only, labels stripped)'],
    ['threadContext', 'in-kernel thread context (labels only, no spans)'],
  ]) {
    const cells = results.map((r) => `${r.samples} samples: ${pct(r[key].precision)} / ${pct(r[key].recall)}`);
    out.push(`| ${label} | ${cells.join(' | ')} | ${pct(median(results.map((r) => r[key].precision)))} | ${pct(median(results.map((r) => r[key].recall)))} |`);
  }
  out.push('');
  out.push(`In-kernel misses: ${results.map((r) => `${r.threadContext.missed} samples, the last ${r.threadContext.lastMissMsAfterStart} ms after the program's first sample`).join('; ')}. The server serves from its first instant: the sampler looks up a program's TLS offset when the exec happens (before that change it did so at the first sample and rechecked once a second, and runs without a warm-up missed up to 0.2 s of context: recall 93.7%).`);
  out.push('');
  out.push(`Right span as well as right trace (root vs. the kind's child span), medians: thread-time ${pct(median(results.map((r) => r.threadTime.correctSpan / r.threadTime.correct)))}, thread context ${pct(median(results.map((r) => r.threadContext.correctSpan / r.threadContext.correct)))}. Traces whose \`trace --json\` sample count equals the truth exactly: ${results.map((r) => r.traceCountsExact).join(', ')}. Test passed in ${results.filter((r) => r.passed).length}/${results.length} runs (targets: precision ≥ 99%, recall ≥ 95%)${results.some((r) => r.failed.length) ? `; failed: ${[...new Set(results.flatMap((r) => r.failed))].join('; ')}` : ''}.`);
  out.push('');
}

// A day of stored data.
let store = opt('store');
if (!store) {
  store = fs.mkdtempSync(path.join(os.tmpdir(), 'profctl-trace-join-day-'));
  note(`generating a day of segments with spans in ${store} (a few minutes)`);
  execFileSync(process.execPath, [path.join(here, 'gen-store.mjs'), '--dir', store, '--spans', '3'], { stdio: 'inherit' });
}
const { openStoreReader } = await import(path.join(root, 'dist', 'store', 'index.js'));
const reader = openStoreReader(store);
const allSegments = reader.segments();
const newest = allSegments.reduce((m, s) => Math.max(m, s.toMs), -Infinity);

/** A trace that started about ageMs before the newest data and has samples. */
function traceAt(ageMs) {
  const from = new Date(newest - ageMs - 5 * 60_000).toISOString();
  const until = new Date(newest - ageMs + 5 * 60_000).toISOString();
  const r = timed(['trace', '--store', store, '--since', from, '--until', until, '--json', '--limit', '0']);
  const t = JSON.parse(r.stdout).traces.filter((x) => x.samples > 0).sort((a, b) => b.samples - a.samples)[0];
  if (!t) throw new Error(`no trace with samples around ${from}`);
  return t;
}

const rows = [];
const topRuns = [];
for (const [label, ageMs] of [
  ['5 min old', 5 * 60_000],
  ['1 h old', 3_600_000],
  ['12 h old', 12 * 3_600_000],
]) {
  const t = traceAt(ageMs);
  const argv = ['flame', '--trace-id', t.traceId, '--store', store, '--format', 'folded'];
  const times = [];
  for (let i = 0; i < runs; i++) {
    times.push(timed(argv).ms);
    topRuns.push(timed(['top', '--since', '24h', '--store', store, '--limit', '10']).ms);
  }
  const start = Date.parse(t.startTime);
  const touched = reader.segments(start, start + t.durationMs).length;
  rows.push({ label, traceId: t.traceId, samples: t.samples, ms: median(times), opened: segmentsOpened(argv), touched, newer: reader.segments(start, Infinity).length });
}
const topMs = median(topRuns);
const nodeStart = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  nodeStart.push(performance.now() - t0);
}
out.push(`### \`flame --trace-id\` over a day of stored data`);
out.push('');
out.push(`Store: ${allSegments.length} segments of 10 s (a day: 2 busy cores at 99 Hz, three services, 3 spans per segment with thread ids matching the samples; \`node bench/gen-store.mjs --dir DIR --spans 3\`). Command: \`profctl flame --trace-id T --store DIR --format folded\`, median of ${runs} runs, wall time including Node's start; peer in the same run: \`profctl top --since 24h --store DIR\` (median of ${topRuns.length} runs, interleaved): **${topMs.toFixed(0)} ms**; \`node -e 0\` alone: ${median(nodeStart).toFixed(0)} ms. "Segments opened" counts distinct segment files in \`strace -f -e trace=openat\`.`);
out.push('');
out.push('| trace | samples | flame --trace-id | vs top --since 24h | segments opened | segments the trace\'s range touches | segments newer than the trace |');
out.push('|---|---|---|---|---|---|---|');
for (const r of rows) out.push(`| ${r.label} \`${r.traceId.slice(0, 8)}…\` | ${r.samples} | ${r.ms.toFixed(0)} ms | ${(r.ms / topMs).toFixed(2)}× | ${r.opened ?? 'n/a (no strace)'} | ${r.touched} | ${r.newer} |`);
out.push('');
out.push(`The samples are read only from the segments the trace's range touches. The store has no index by trace id, so finding the trace's spans reads the segments newest first, listing an hour directory at a time, and stops a minute past the start of the trace's earliest span found: the segments opened grow with the trace's age, not with the store's size. Before this search, every lookup read the spans of all ${allSegments.length} segments.`);
out.push('');
process.stdout.write(out.join('\n') + '\n');
