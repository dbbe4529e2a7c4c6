// What a sample costs in the kernel, per run of each tool's BPF program, with
// a tight C loop on every CPU (samples in user mode, as in agent-overhead.mjs):
// - profctl-helper, which walks a user-mode sample's frame pointers itself,
//   reading only frames that can be frames (src/native/bpf-program.c,
//   walk_user_stack);
// - profctl-helper --kernel-user-walk: the same program with every user
//   stack from bpf_get_stack, the kernel's walk;
// - bpftrace's `profile:hz:99 { @[ustack, kstack] = count(); }` and bcc's
//   `profile-bpfcc -F 99`, whose user stacks are the kernel's walk too;
// - two one-line bpftrace programs that read one user word: at 0, where the
//   kernel's walk ends for a chain that runs to _start, and at the stack
//   pointer, which is mapped. Their difference is what one faulting read
//   costs here: why the kernel's walk is dear.
// Cost per run: kernel.bpf_stats_enabled, run_time_ns / run_cnt of the
// tool's busiest program (fdinfo of its BPF fds) over the measured stretch.
// The time includes any preemption of the virtual CPU inside a run, so single
// runs are noisy: configurations are interleaved and repeated, medians kept.
//
// Usage (root): node bench/user-walk.mjs [seconds=12] [rounds=3]
// Needs: build/profctl-helper (npm run build:native), cc; bpftrace and
// profile-bpfcc are optional (skipped when missing). Prints a markdown section.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './stats.mjs';
import { bpfPrograms, buildSpinLoop } from './lib-sampling.mjs';

const seconds = Number(process.argv[2] ?? 12);
const rounds = Number(process.argv[3] ?? 3);
const root = join(import.meta.dirname, '..');
const helper = join(root, 'build', 'profctl-helper');
if (process.getuid?.() !== 0) {
  console.error('bench/user-walk.mjs: needs root (it loads BPF programs)');
  process.exit(2);
}
if (!existsSync(helper)) {
  console.error(`bench/user-walk.mjs: ${helper} is missing: run npm run build:native`);
  process.exit(2);
}
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const tmp = mkdtempSync(join(tmpdir(), 'profctl-user-walk-'));
const loop = buildSpinLoop(tmp);

const bpftraceRead = (addr) => ['bpftrace', ['-e', `profile:hz:99 { @[*uptr((uint64 *)(${addr}))] = count(); }`]];
const configs = [
  { name: 'profctl-helper (its own walk)', cmd: () => [helper, ['--hz', '99']] },
  { name: 'profctl-helper --kernel-user-walk', cmd: () => [helper, ['--hz', '99', '--kernel-user-walk']] },
  ...(has('bpftrace')
    ? [
        { name: 'bpftrace @[ustack, kstack] = count()', cmd: () => ['bpftrace', ['-e', 'profile:hz:99 { @[ustack, kstack] = count(); }']] },
        { name: 'bpftrace: one user read at 0 (faults)', cmd: () => bpftraceRead('0') },
        { name: 'bpftrace: one user read at the stack pointer', cmd: () => bpftraceRead('reg("sp")') },
      ]
    : []),
  ...(has('profile-bpfcc') ? [{ name: 'profile-bpfcc -F 99', cmd: () => ['profile-bpfcc', ['-F', '99']] }] : []),
];
const skipped = [!has('bpftrace') && 'bpftrace', !has('profile-bpfcc') && 'profile-bpfcc'].filter(Boolean);

/** µs per run of the tool's busiest program over `seconds`, once its programs run (bcc compiles first). */
async function measure(config) {
  const [cmd, args] = config.cmd();
  const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'ignore'] });
  const gone = new Promise((r) => child.on('close', r));
  try {
    let before;
    for (let waited = 0; waited < 60_000; waited += 500) {
      await sleep(500);
      const s = bpfPrograms(child.pid);
      if ([...s.values()].some((p) => p.cnt > 0)) {
        before = s;
        break;
      }
    }
    if (!before) throw new Error(`${config.name}: no BPF program ran within 60 s`);
    await sleep(1000); // past the attach
    before = bpfPrograms(child.pid);
    await sleep(seconds * 1000);
    const after = bpfPrograms(child.pid);
    let best;
    for (const [id, a] of after) {
      const b = before.get(id);
      if (!b) continue;
      const runs = a.cnt - b.cnt;
      if (!best || runs > best.runs) best = { runs, ns: a.ns - b.ns };
    }
    if (!best || best.runs === 0) throw new Error(`${config.name}: its programs did not run`);
    return { usPerRun: best.ns / best.runs / 1000, runs: best.runs };
  } finally {
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
}

const previous = readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
const n = cpus().length;
const total = (seconds + 20) * configs.length * rounds + 30;
const loops = Array.from({ length: n }, () => spawn(loop, [String(total)], { stdio: 'ignore' }));
const results = new Map(configs.map((c) => [c.name, []]));
try {
  await sleep(1000);
  for (let r = 0; r < rounds; r++) {
    // Rotated by one place per round, so no configuration always runs first or last.
    for (let k = 0; k < configs.length; k++) {
      const c = configs[(k + r) % configs.length];
      results.get(c.name).push(await measure(c));
    }
    process.stderr.write(`round ${r + 1}/${rounds} done\n`);
  }
} finally {
  writeFileSync('/proc/sys/kernel/bpf_stats_enabled', previous);
  for (const l of loops) l.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}

const med = (name) => median(results.get(name).map((x) => x.usPerRun));
const own = med(configs[0].name);
const kernelWalk = med(configs[1].name);
const rows = configs.map((c) => {
  const m = med(c.name);
  return `| ${c.name} | ${m.toFixed(2)} | ${results.get(c.name).map((x) => x.usPerRun.toFixed(2)).join(', ')} | ${(own / m).toFixed(2)}× |`;
});
const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`## the sampler's user-stack walk, per run of each tool's BPF program (${new Date().toISOString().slice(0, 10)})

Machine: ${n} CPUs, ${cpu}, kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}; load average at the end ${load}. Command: \`sudo node bench/user-walk.mjs ${seconds} ${rounds}\` (after \`npm run build:native\`). Workload: one tight C loop (-O2, frame pointers) per CPU for the whole run; every tool samples the whole machine at 99 Hz. Cost per run: run_time_ns / run_cnt of the tool's busiest BPF program over ${seconds} s, ${rounds} rounds, configurations interleaved, medians.${skipped.length ? ` Not installed, skipped: ${skipped.join(', ')}.` : ''}

| program | µs per run (median) | rounds | profctl-helper ÷ this |
|---|---:|---|---:|
${rows.join('\n')}

- profctl-helper's own walk against the kernel's, same program otherwise: **${(own / kernelWalk).toFixed(2)}×**.
`);
