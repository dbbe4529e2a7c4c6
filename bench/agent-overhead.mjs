// What always-on profiling costs: a CPU-bound benchmark on every core (one
// tight C loop per CPU counting iterations for a fixed time) measured alone,
// with `profctl agent` running, and with the peers at the same 99 Hz:
// `perf record -F 99 -g -a` (to a temp file), bpftrace's
// `profile:hz:99 { @[ustack, kstack] = count(); }` and bcc's
// `profile-bpfcc -F 99`. Configurations are interleaved and repeated; each
// reports throughput kept (iterations / iterations alone, same round), and the
// profiler's own CPU time (utime+stime of it and its children, from
// /proc/PID/stat, scaled to an hour of sampling) and peak RSS (VmHWM of the
// profiler's processes, summed: for profctl, the agent and its helper).
//
// Usage (root): node bench/agent-overhead.mjs [seconds=20] [rounds=3]
// Needs: cc, perf (linux-perf), bpftrace, profile-bpfcc (bpfcc-tools); a
// missing peer is reported and skipped. Prints a markdown section.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const seconds = Number(process.argv[2] ?? 20);
const rounds = Number(process.argv[3] ?? 3);
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

const has = (cmd) => { try { execFileSync('which', [cmd], { stdio: 'ignore' }); return true; } catch { return false; } };
const configs = [
  { name: 'alone', cmd: null },
  { name: 'profctl agent', cmd: () => [join(root, 'bin', 'profctl'), ['agent', '--store', join(tmp, 'store'), '--quiet']] },
  ...(has('perf') ? [{ name: 'perf record -F 99 -g -a', cmd: () => ['perf', ['record', '-F', '99', '-g', '-a', '-q', '-o', join(tmp, 'perf.data')]] }] : []),
  ...(has('bpftrace') ? [{ name: 'bpftrace profile:hz:99 ustack+kstack', cmd: () => ['bpftrace', ['-e', 'profile:hz:99 { @[ustack, kstack] = count(); }']] }] : []),
  ...(has('profile-bpfcc') ? [{ name: 'profile-bpfcc -F 99', cmd: () => ['profile-bpfcc', ['-F', '99']] }] : []),
];
const skipped = ['perf', 'bpftrace', 'profile-bpfcc'].filter((c) => !has(c));

const failed = new Map();
const results = new Map(configs.map((c) => [c.name, { kept: [], cpuPerHour: [], hwm: [], startup: [] }]));
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
    const prof = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let errText = '';
    prof.stderr.on('data', (d) => (errText = (errText + d).slice(-2000)));
    let exited = false;
    prof.on('exit', () => (exited = true));
    await sleep(3000); // attached and past start-up (symbol loading counts below: it is part of the cost)
    const started = Date.now();
    const before = usage(descendants(prof.pid));
    const iterations = await spin();
    const pids = descendants(prof.pid);
    const u = usage(pids);
    // Steady state: CPU used while the loops ran; start-up (symbol tables, runtime) is reported apart.
    const sampledS = (Date.now() - started) / 1000;
    if (exited) {
      // A peer that cannot run here (bcc compiles against kernel headers) is reported, not measured.
      failed.set(c.name, errText.trim().split('\n').filter((l) => /error|fatal|exception/i.test(l)).slice(0, 2).join(' / ') || 'exited at start');
      continue;
    }
    process.kill(-prof.pid, 'SIGINT');
    await new Promise((res) => { prof.on('exit', res); setTimeout(() => { try { process.kill(-prof.pid, 'SIGKILL'); } catch {} res(); }, 10000); });
    const res = results.get(c.name);
    res.kept.push((iterations / alone) * 100);
    res.cpuPerHour.push(((u.cpuS - before.cpuS) / sampledS) * 3600);
    res.startup.push(before.cpuS);
    res.hwm.push(u.hwmMb);
    rmSync(join(tmp, 'perf.data'), { force: true });
  }
  process.stderr.write(`round ${r + 1}/${rounds} done\n`);
}

const cpu = os.cpus()[0]?.model ?? 'unknown';
const agent = results.get('profctl agent');
const lines = [
  `## agent overhead (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Machine: ${cpus} CPUs (\`nproc\`), ${cpu}, kernel ${os.release()}, Node ${process.version}. Command: \`sudo node bench/agent-overhead.mjs ${seconds} ${rounds}\` (after \`npx tsc -p .\` and \`npm run build:native\`).`,
  `Workload: ${cpus} copies (one per CPU) of a tight C loop (-O2, frame pointers) counting iterations for ${seconds} s. Each round runs every configuration once, in turn (alone first); ${rounds} rounds; medians. Each profiler starts 3 s before the loops (its start-up counts in its CPU time) and stops after. The machine is shared with other engineers' test suites, so runs are noisy: compare within a round.${skipped.length ? ` Not installed, skipped: ${skipped.join(', ')}.` : ''}`,
  '',
  '| configuration | throughput kept (median %) | per round (%) | own CPU per hour of sampling, steady (median) | CPU in its first 3 s | peak RSS (median, MiB) |',
  '|---|---:|---|---:|---:|---:|',
  ...configs.map((c) => {
    const r = results.get(c.name);
    if (!c.cmd) return `| ${c.name} | 100 | | | | |`;
    if (failed.has(c.name)) return `| ${c.name} | could not run here: ${failed.get(c.name).replace(/\|/g, '/')} | | | | |`;
    return `| ${c.name} | ${median(r.kept).toFixed(1)} | ${r.kept.map((x) => x.toFixed(1)).join(', ')} | ${median(r.cpuPerHour).toFixed(0)} s (${(median(r.cpuPerHour) / 36).toFixed(2)}% of a CPU) | ${median(r.startup).toFixed(2)} s | ${median(r.hwm).toFixed(0)} |`;
  }),
  '',
  ...configs.filter((c) => c.cmd && c.name !== 'profctl agent' && !failed.has(c.name)).map((c) => {
    const r = results.get(c.name);
    const cpuRatio = median(r.cpuPerHour) > 0 ? `${(median(agent.cpuPerHour) / median(r.cpuPerHour)).toFixed(2)}×` : `n/a (${c.name} used under one clock tick of user-space CPU while sampling: it defers its work to exit or report time)`;
    return `- profctl agent / ${c.name}: steady CPU ${cpuRatio}, peak RSS ${(median(agent.hwm) / median(r.hwm)).toFixed(2)}×.`;
  }),
  '',
];
console.log(lines.join('\n'));
rmSync(tmp, { recursive: true, force: true });
if (existsSync(tmp)) process.exitCode = 1;
