// The BPF sampler's cost per run, two builds of the helper at once: both
// sample the same two C loops over the same seconds, so a machine whose
// speed drifts (these shared guests run a BPF program at 3 µs one minute and
// 8 µs a few minutes later) drifts for both. Run alone, one after the other,
// the drift is larger than most changes to the program.
//   sudo node bench/sampler-ab.mjs [HELPER_A] [HELPER_B]
// Both default to build/profctl-helper: the same build twice shows what the
// method itself cannot tell apart. Env: ROUNDS (4), SECONDS_PER_ROUND (12),
// HZ (99), WORKLOAD (a command run once per CPU instead of the C loop, `{s}`
// standing for its seconds: other stacks, e.g. test/native/frame-walk.c's
// `frame-walk deep {s} 40`). Needs root and kernel.bpf_stats_enabled (set here).
// Prints a markdown section for bench/RESULTS.md.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { median } from './stats.mjs';
import { bpfPrograms, buildSpinLoop } from './lib-sampling.mjs';

const root = join(import.meta.dirname, '..');
const helpers = [process.argv[2] ?? join(root, 'build/profctl-helper'), process.argv[3] ?? join(root, 'build/profctl-helper')];
const rounds = Number(process.env.ROUNDS ?? 4);
const perRound = Number(process.env.SECONDS_PER_ROUND ?? 12);
const hz = Number(process.env.HZ ?? 99);
const cpus = os.cpus().length;
const workload = process.env.WORKLOAD;

if (process.getuid?.() !== 0) {
  process.stdout.write('## sampler A/B\n\nskipped: needs root (BPF programs and kernel.bpf_stats_enabled)\n');
  process.exit(0);
}
const tmp = mkdtempSync(join(os.tmpdir(), 'profctl-sampler-ab-'));
const spin = buildSpinLoop(tmp);
const statsWas = execFileSync('sysctl', ['-n', 'kernel.bpf_stats_enabled'], { encoding: 'utf8' }).trim();
writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');

/** The sampler is the program that runs at the sampling rate: the one with the most runs. */
function sampler(pid) {
  let best;
  for (const p of bpfPrograms(pid).values()) if (!best || p.cnt > best.cnt) best = p;
  return best;
}

/**
 * One phase: both helpers started in the given order, ns a run of each over
 * the same seconds, per round. The helper started second measured about a
 * quarter dearer than the first when both were the same build, so each pair
 * is also run in the other order and the two orders' ratios are combined.
 */
async function phase(order) {
  const total = rounds * perRound + 10;
  const [cmd, ...args] = workload ? workload.split(/\s+/).map((w) => w.replaceAll('{s}', String(total))) : [spin, String(total)];
  const loops = Array.from({ length: cpus }, () => spawn(cmd, args, { stdio: 'ignore' }));
  // stdin stays open: the helper exits when it closes (its parent gone).
  const procs = order.map((i) => spawn(helpers[i], ['--hz', String(hz)], { stdio: ['pipe', 'ignore', 'ignore'] }));
  const perRun = [[], []];
  try {
    await sleep(3000);
    for (let r = 0; r < rounds; r++) {
      const before = procs.map((p) => sampler(p.pid));
      await sleep(perRound * 1000);
      const after = procs.map((p) => sampler(p.pid));
      for (let k = 0; k < 2; k++) {
        if (!before[k] || !after[k]) throw new Error(`helper ${helpers[order[k]]} is not running (or holds no BPF program)`);
        perRun[order[k]].push((after[k].ns - before[k].ns) / Math.max(1, after[k].cnt - before[k].cnt));
      }
    }
  } finally {
    for (const p of [...procs, ...loops]) p.kill('SIGTERM');
    await sleep(500);
  }
  return perRun;
}

let phases;
try {
  phases = [await phase([0, 1]), await phase([1, 0])];
} finally {
  writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsWas);
  rmSync(tmp, { recursive: true, force: true });
}

const us = (ns) => (ns / 1000).toFixed(2);
const rows = [];
const phaseRatios = [];
for (const [n, perRun] of phases.entries()) {
  const ratios = perRun[1].map((b, i) => b / perRun[0][i]);
  phaseRatios.push(median(ratios));
  const first = n === 0 ? 'A' : 'B';
  perRun[0].forEach((a, i) => rows.push(`| ${first} first | ${i + 1} | ${us(a)} | ${us(perRun[1][i])} | ${ratios[i].toFixed(3)} |`));
  rows.push(`| ${first} first | median | ${us(median(perRun[0]))} | ${us(median(perRun[1]))} | ${median(ratios).toFixed(3)} |`);
}
const lines = [
  '## sampler A/B: the BPF sampler per run, two helpers at once',
  '',
  `Machine: ${cpus} CPUs, ${os.cpus()[0]?.model ?? '?'}, kernel ${os.release()}. Command: \`${workload ? `WORKLOAD='${workload}' ` : ''}sudo node bench/sampler-ab.mjs ${process.argv.slice(2).join(' ')}\`. Both helpers at ${hz} Hz beside ${cpus} ${workload ? `copies of \`${workload}\`` : 'C loops'}, started in one order and then in the other; ${rounds} rounds of ${perRound} s each; run_time_ns / run_cnt of each sampler over the same seconds.`,
  '',
  '| order | round | A (µs a run) | B (µs a run) | B / A |',
  '|---|---|---:|---:|---:|',
  ...rows,
  '',
  `B / A, the two orders combined (geometric mean of their medians, which cancels a cost that follows the order): **${Math.sqrt(phaseRatios[0] * phaseRatios[1]).toFixed(3)}**; the order's own effect (square root of the first order's median over the second's): ${Math.sqrt(phaseRatios[0] / phaseRatios[1]).toFixed(3)}.`,
  '',
  `A: \`${helpers[0]}\`; B: \`${helpers[1]}\`.`,
  '',
];
process.stdout.write(lines.join('\n'));
