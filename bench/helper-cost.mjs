// Cost of profctl's BPF sampler, per sample and per second of sampling,
// against `perf record -F HZ -g -a` measured the same way in the same run.
// Needs root, dist/ (npx tsc -p .) and build/profctl-helper.
//  - BPF program cost per sample: kernel.bpf_stats_enabled=1, then the
//    program's run_time_ns / run_cnt from the helper's /proc/PID/fdinfo.
//  - User-space cost: utime+stime of the sampler process (/proc/PID/stat)
//    over the run (perf: its record process; profctl: the helper, which does
//    the work; the decoding in node is measured separately as node's delta).
// Prints a markdown section for bench/RESULTS.md. Shared machine: medians.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHelper } from '../dist/capture/helper-process.js';
import { median } from './stats.mjs';
import { bpfPrograms } from './lib-sampling.mjs';

const HZ = Number(process.env.HZ ?? 99);
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 10);
const RUNS = Number(process.env.RUNS ?? 3);
const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / ticks;
}

function progStats(pid) {
  return [...bpfPrograms(pid)].map(([id, p]) => ({ id, ...p }));
}

async function runProfctl() {
  let samples = 0;
  const nodeBefore = process.cpuUsage();
  const capture = await startHelper({ hz: HZ });
  const consumed = (async () => { for await (const b of capture.samples()) samples += b.length; })();
  await sleep(SECONDS * 1000);
  const helperMs = cpuMs(capture.pid);
  const stats = progStats(capture.pid);
  await capture.stop();
  await consumed;
  const node = process.cpuUsage(nodeBefore);
  const sampler = stats.sort((a, b) => b.cnt - a.cnt)[0];
  return { helperMs, nodeMs: (node.user + node.system) / 1000, samples, lost: capture.stats().lost, usPerRun: sampler.ns / sampler.cnt / 1000 };
}

async function runPerf() {
  const dir = mkdtempSync(join(tmpdir(), 'profctl-bench-perf-'));
  const perf = spawn('perf', ['record', '-F', String(HZ), '-g', '-a', '-q', '-o', join(dir, 'perf.data')], { stdio: 'ignore' });
  await sleep(SECONDS * 1000);
  const ms = cpuMs(perf.pid);
  await new Promise((r) => { perf.on('close', r); perf.kill('SIGINT'); });
  rmSync(dir, { recursive: true, force: true });
  return { perfMs: ms };
}

const previous = readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
const results = [];
try {
  for (let i = 0; i < RUNS; i++) results.push({ ...(await runProfctl()), ...(await runPerf()) });
} finally {
  writeFileSync('/proc/sys/kernel/bpf_stats_enabled', previous);
}
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const m = (k) => median(results.map((r) => r[k]));
const perSecond = (ms) => (ms / SECONDS).toFixed(2);
console.log(`## capture: BPF sampler cost (${new Date().toISOString().slice(0, 10)})

Machine: ${cpus().length} CPUs, ${cpus()[0].model}; load average at the end ${load} (shared with other work, so
samples come from whatever runs). Command: \`sudo node bench/helper-cost.mjs\` (HZ=${HZ}, ${SECONDS} s per run, ${RUNS} runs,
system-wide, medians; profctl and perf alternate within each run).

| measure | median | runs |
|---|---:|---|
| BPF program time per sample (run_time_ns / run_cnt), µs | ${m('usPerRun').toFixed(2)} | ${results.map((r) => r.usPerRun.toFixed(2)).join(', ')} |
| samples delivered per run | ${m('samples')} | ${results.map((r) => r.samples).join(', ')} |
| samples lost per run | ${m('lost')} | ${results.map((r) => r.lost).join(', ')} |
| profctl-helper CPU, ms per second of sampling | ${perSecond(m('helperMs'))} | ${results.map((r) => perSecond(r.helperMs)).join(', ')} |
| node decoding the stream, ms per second | ${perSecond(m('nodeMs'))} | ${results.map((r) => perSecond(r.nodeMs)).join(', ')} |
| \`perf record -F ${HZ} -g -a\` CPU, ms per second | ${perSecond(m('perfMs'))} | ${results.map((r) => perSecond(r.perfMs)).join(', ')} |

helper / perf CPU: **${(m('helperMs') / m('perfMs')).toFixed(2)}×**; helper CPU per hour of sampling: ${((m('helperMs') / SECONDS) * 3.6).toFixed(1)} s.
Stats are enabled only for the measurement (kernel.bpf_stats_enabled restored to ${previous}).
`);
