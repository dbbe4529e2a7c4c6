// What always-on profiling costs: a CPU-bound benchmark on every core (one
// tight C loop per CPU counting iterations for a fixed time) measured alone,
// with `profctl agent` running, and with the peers at the same 99 Hz:
// `perf record -F 99 -g -a` (to a temp file), bpftrace's
// `profile:hz:99 { @[ustack, kstack] = count(); }` and bcc's
// `profile-bpfcc -F 99`. Configurations are interleaved and repeated.
//
// Every tool is measured the same way, as the CPU it takes to turn an hour of
// sampling into named stacks:
// - throughput kept: iterations / iterations alone, same round (in-kernel
//   costs are billed to the benchmark, so they show here);
// - CPU while sampling: utime+stime of the tool's processes (from
//   /proc/PID/stat) while the loops ran, after a warm-up, scaled to an hour;
// - CPU after sampling: from the stop signal to exit, read with the shell's
//   `times` (a wrapper shell waits for the tool), plus, for perf, `perf script`
//   over the recording — the step that names its samples (scaled to an hour
//   by the samples it read, since it is linear in them);
// - in-kernel BPF program time (kernel.bpf_stats_enabled, `run_time_ns` in
//   the fdinfo of the tool's program fds), for the tools that use BPF;
// - peak RSS (VmHWM of the tool's processes, summed: for profctl, the agent
//   and its helper).
//
// Usage (root): [ONLY=agent,perf] node bench/agent-overhead.mjs [seconds=60] [rounds=3] [warmup=20]
// Needs: cc, perf (linux-perf), bpftrace, profile-bpfcc (bpfcc-tools); a
// missing peer is reported and skipped. Prints a markdown section.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const seconds = Number(process.argv[2] ?? 60);
const rounds = Number(process.argv[3] ?? 3);
const warmup = Number(process.argv[4] ?? 20);
const cpus = os.cpus().length;
const root = join(import.meta.dirname, '..');
const tmp = mkdtempSync(join(os.tmpdir(), 'profctl-overhead-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

writeFileSync(join(tmp, 'spin.c'), `#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
__attribute__((noinline)) static unsigned long step(unsigned long x){for(int i=0;i<1000;i++)x=x*6364136223846793005ul+1442695040888963407ul;return x;}
int main(int argc,char**argv){double end=now()+atof(argv[1]);unsigned long n=0,x=1;while(now()<end){x=step(x);n++;}printf("%lu %lu\\n",n,x&1);return 0;}
`);
execFileSync('cc', ['-O2', '-fno-omit-frame-pointer', '-o', join(tmp, 'spin'), join(tmp, 'spin.c')]);

/** Iterations all CPUs' loops manage in `seconds`. */
async function spin() {
  const runs = Array.from({ length: cpus }, () => new Promise((resolve) => {
    const c = spawn(join(tmp, 'spin'), [String(seconds)], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('exit', () => resolve(Number(out.split(' ')[0])));
  }));
  return (await Promise.all(runs)).reduce((a, b) => a + b, 0);
}

function descendants(pid) {
  const out = [pid];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(...descendants(Number(d)));
    } catch {}
  }
  return out;
}

function usage(pids) {
  let ticks = 0;
  let hwmKb = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').slice(readFileSync(`/proc/${p}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
      hwmKb += Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {}
  }
  return { cpuS: ticks / TICK, hwmMb: hwmKb / 1024 };
}

/** Summed BPF program run time (ns) and runs of the programs these processes hold open. */
function bpfProgramTime(pids) {
  let ns = 0;
  let runs = 0;
  const seen = new Set();
  for (const p of pids) {
    let fds = [];
    try {
      fds = readdirSync(`/proc/${p}/fdinfo`);
    } catch {}
    for (const fd of fds) {
      try {
        const info = readFileSync(`/proc/${p}/fdinfo/${fd}`, 'utf8');
        const id = /prog_id:\s+(\d+)/.exec(info)?.[1];
        const t = /run_time_ns:\s+(\d+)/.exec(info);
        if (!id || !t || seen.has(id)) continue;
        seen.add(id);
        ns += Number(t[1]);
        runs += Number(/run_cnt:\s+(\d+)/.exec(info)?.[1] ?? 0);
      } catch {}
    }
  }
  return { ns, runs };
}

/** Runs argv under a shell that reports its children's CPU (`times`) when it ends. */
function spawnTimed(cmd, args) {
  const script = '"$@" & p=$!; trap \'kill -INT $p\' INT TERM; wait $p; wait $p; times >&2';
  return spawn('sh', ['-c', script, 'sh', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Children's user+sys seconds from the `times` output (its second line). */
function childTimes(text) {
  const lines = text.trim().split('\n').filter((l) => /\d+m[\d.]+s \d+m[\d.]+s/.test(l));
  const last = lines[lines.length - 1];
  if (!last) return NaN;
  return [...last.matchAll(/(\d+)m([\d.]+)s/g)].reduce((a, m) => a + Number(m[1]) * 60 + Number(m[2]), 0);
}

/** CPU seconds of one command run to completion (for perf script). */
async function timedRun(cmd, args) {
  const c = spawnTimed(cmd, args);
  let err = '';
  c.stderr.on('data', (d) => (err += d));
  await new Promise((res) => c.on('exit', res));
  return childTimes(err);
}

const has = (cmd) => { try { execFileSync('which', [cmd], { stdio: 'ignore' }); return true; } catch { return false; } };
const perfData = join(tmp, 'perf.data');
const configs = [
  { name: 'alone', cmd: null },
  { name: 'profctl agent', cmd: () => [join(root, 'bin', 'profctl'), ['agent', '--store', join(tmp, 'store'), '--quiet']] },
  ...(has('perf') ? [{
    name: 'perf record -F 99 -g -a',
    cmd: () => ['perf', ['record', '-F', '99', '-g', '-a', '-q', '-o', perfData]],
    // perf.data holds raw addresses: `perf script` names them (what FlameGraph's pipeline reads).
    after: async () => {
      const cpuS = await timedRun('sh', ['-c', `perf script -i ${perfData} > ${join(tmp, 'perf.txt')} 2>/dev/null`]);
      let samples = 0;
      for (const line of readFileSync(join(tmp, 'perf.txt'), 'utf8').split('\n')) if (line && line[0] !== '\t' && line[0] !== ' ') samples++;
      rmSync(join(tmp, 'perf.txt'), { force: true });
      return { cpuS, samples };
    },
  }] : []),
  ...(has('bpftrace') ? [{ name: 'bpftrace profile:hz:99 ustack+kstack', cmd: () => ['bpftrace', ['-e', 'profile:hz:99 { @[ustack, kstack] = count(); }']] }] : []),
  ...(has('profile-bpfcc') ? [{ name: 'profile-bpfcc -F 99', cmd: () => ['profile-bpfcc', ['-F', '99']] }] : []),
];
// ONLY=agent,perf keeps the configurations whose names contain one of the words (and "alone"), for longer runs of a few tools.
const only = (process.env.ONLY ?? '').split(',').filter(Boolean);
if (only.length) configs.splice(0, configs.length, ...configs.filter((c) => !c.cmd || only.some((w) => c.name.includes(w))));
const skipped = ['perf', 'bpftrace', 'profile-bpfcc'].filter((c) => !has(c));

const statsPath = '/proc/sys/kernel/bpf_stats_enabled';
const statsBefore = existsSync(statsPath) ? readFileSync(statsPath, 'utf8').trim() : undefined;
if (statsBefore !== undefined) writeFileSync(statsPath, '1');
const restoreStats = () => { if (statsBefore !== undefined) writeFileSync(statsPath, statsBefore); };
process.on('exit', restoreStats);

const failed = new Map();
const results = new Map(configs.map((c) => [c.name, { kept: [], sampling: [], stop: [], post: [], bpf: [], hwm: [], total: [] }]));
for (let r = 0; r < rounds; r++) {
  let alone;
  for (const c of configs) {
    if (failed.has(c.name)) continue;
    if (!c.cmd) {
      alone = await spin();
      results.get(c.name).kept.push(100);
      continue;
    }
    const [cmd, args] = c.cmd();
    rmSync(join(tmp, 'store'), { recursive: true, force: true });
    const prof = spawnTimed(cmd, args);
    let errText = '';
    prof.stderr.on('data', (d) => (errText = (errText + d).slice(-4000)));
    let exited = false;
    const done = new Promise((res) => prof.on('exit', () => { exited = true; res(); }));
    // Warm-up: attached, symbol tables loaded, the runtime's compilers done with the hot code.
    await sleep(warmup * 1000);
    if (exited) {
      // A peer that cannot run here (bcc compiles against kernel headers) is reported, not measured.
      failed.set(c.name, errText.trim().split('\n').filter((l) => /error|fatal|exception/i.test(l)).slice(0, 2).join(' / ') || 'exited at start');
      continue;
    }
    const started = Date.now();
    const before = usage(descendants(prof.pid));
    const bpfBefore = bpfProgramTime(descendants(prof.pid));
    const iterations = await spin();
    const pids = descendants(prof.pid);
    const u = usage(pids);
    const bpfAfter = bpfProgramTime(pids);
    const sampledS = (Date.now() - started) / 1000;
    prof.kill('SIGINT');
    // Naming at exit is part of a tool's cost (bpftrace resolves its stacks then: 20+ s here after
    // a minute of sampling), so it gets time to finish; only a hung tool is killed.
    const timer = setTimeout(() => { for (const p of descendants(prof.pid).reverse()) try { process.kill(p, 'SIGKILL'); } catch {} }, 180000);
    await done;
    clearTimeout(timer);
    const totalS = childTimes(errText);
    const res = results.get(c.name);
    const perHour = 3600 / sampledS;
    res.kept.push((iterations / alone) * 100);
    res.sampling.push((u.cpuS - before.cpuS) * perHour);
    res.stop.push(totalS - u.cpuS);
    res.hwm.push(u.hwmMb);
    res.bpf.push(((bpfAfter.ns - bpfBefore.ns) / 1e9) * perHour);
    let post = 0;
    if (c.after) {
      const a = await c.after();
      // Linear in the samples recorded: the samples of the measured window, scaled to an hour.
      const windowShare = sampledS / (sampledS + warmup);
      post = a.cpuS * windowShare * perHour;
      res.postSamples = a.samples;
    }
    res.post.push(post);
    res.total.push((u.cpuS - before.cpuS) * perHour + Math.max(0, totalS - u.cpuS) + post + ((bpfAfter.ns - bpfBefore.ns) / 1e9) * perHour);
    rmSync(perfData, { force: true });
  }
  process.stderr.write(`round ${r + 1}/${rounds} done\n`);
}
restoreStats();

const cpu = os.cpus()[0]?.model ?? 'unknown';
const agent = results.get('profctl agent');
const s0 = (x) => `${x.toFixed(1)} s`;
const lines = [
  `## agent overhead (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Machine: ${cpus} CPUs (\`nproc\`), ${cpu}, kernel ${os.release()}, Node ${process.version}; load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}. Command: \`${only.length ? `ONLY=${only.join(",")} ` : ""}sudo node bench/agent-overhead.mjs ${seconds} ${rounds} ${warmup}\` (after \`npx tsc -p .\` and \`npm run build:native\`).`,
  `Workload: ${cpus} copies (one per CPU) of a tight C loop (-O2, frame pointers) counting iterations for ${seconds} s. Each round runs every configuration once, in turn (alone first); ${rounds} rounds; medians. Each tool starts ${warmup} s before the loops (warm-up, not counted as sampling) and is stopped with SIGINT after them.${skipped.length ? ` Not installed, skipped: ${skipped.join(', ')}.` : ''}`,
  '',
  '| configuration | throughput kept (median %) | per round (%) | CPU while sampling, per hour | in-kernel BPF time, per hour | CPU to stop (once) | naming the samples afterwards, per hour | **total CPU per hour of named samples** | peak RSS (MiB) |',
  '|---|---:|---|---:|---:|---:|---:|---:|---:|',
  ...configs.map((c) => {
    const r = results.get(c.name);
    if (!c.cmd) return `| ${c.name} | 100 | | | | | | | |`;
    if (failed.has(c.name)) return `| ${c.name} | could not run here: ${failed.get(c.name).replace(/\|/g, '/')} | | | | | | | |`;
    return `| ${c.name} | ${median(r.kept).toFixed(1)} | ${r.kept.map((x) => x.toFixed(1)).join(', ')} | ${s0(median(r.sampling))} | ${s0(median(r.bpf))} | ${s0(median(r.stop))} | ${c.after ? s0(median(r.post)) : '—'} | **${s0(median(r.total))}** (${r.total.map((x) => x.toFixed(1)).join(', ')}) | ${median(r.hwm).toFixed(0)} |`;
  }),
  '',
  ...configs.filter((c) => c.cmd && c.name !== 'profctl agent' && !failed.has(c.name)).map((c) => {
    const r = results.get(c.name);
    return `- profctl agent / ${c.name}: total CPU ${(median(agent.total) / median(r.total)).toFixed(2)}×, peak RSS ${(median(agent.hwm) / median(r.hwm)).toFixed(2)}×.`;
  }),
  '',
];
console.log(lines.join('\n'));
rmSync(tmp, { recursive: true, force: true });
if (existsSync(tmp)) process.exitCode = 1;
