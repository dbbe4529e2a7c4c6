// What the resident agent holds: runs `profctl agent --store TMP --flush 10s`
// for a fixed time while a CPU-bound C loop runs on every CPU (so every
// sample has a real user stack and the samplers are at full rate), and reads
// /proc once a second: VmHWM/VmRSS (and RssAnon/RssFile/RssShmem) of the
// agent and of its helper, and utime+stime of both. Reports peak RSS (the two
// VmHWM summed), steady RSS at the end, CPU per hour of sampling after the
// first 3 s, and the samples and lost samples from the agent's status file.
//
// Several builds can be compared in the same run (interleaved rounds), e.g.
// the current tree against an older commit checked out in a scratch worktree:
//   sudo node bench/agent-memory.mjs --seconds 120 --rounds 3 --compare /tmp/old/bin/profctl
// With PROFCTL_MEMORY_PROBE=1 the agent also writes process.memoryUsage()
// (heap, external, array buffers) to stderr every 10 s (bench/agent-memory-probe.mjs).
// --loops N sets the number of CPU-bound loops (default one per CPU); --loops 0
// gives the agent's baseline cost on an idle machine. --build N runs, instead
// of the loops, a parallel build (`make -j<CPUs>`) of N small C files over
// and over: hundreds of short-lived processes a second (cc, cc1, as), as on a
// CI machine, most of them gone before the agent names their samples.
// Prints a markdown section. Root is needed (the agent loads BPF).

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { median } from './stats.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const seconds = Number(opt('--seconds', 120));
const rounds = Number(opt('--rounds', 1));
const root = join(import.meta.dirname, '..');
const builds = [{ name: 'current', bin: join(root, 'bin', 'profctl') }];
for (let i = 0; i < args.length; i++) if (args[i] === '--compare') builds.push({ name: args[i + 1], bin: args[i + 1] });
const extraAgentArgs = (opt('--agent-args', '') || '').split(' ').filter(Boolean);
// CPU-bound loops beside the agent (default one per CPU); 0 measures an idle machine's baseline.
const loops = Number(opt('--loops', os.cpus().length));
const buildFiles = Number(opt('--build', 0));

const cpus = os.cpus().length;
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
const tmp = mkdtempSync(join(os.tmpdir(), 'profctl-agent-memory-'));

writeFileSync(join(tmp, 'spin.c'), `#include <stdlib.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
__attribute__((noinline)) static unsigned long step(unsigned long x){for(int i=0;i<1000;i++)x=x*6364136223846793005ul+1442695040888963407ul;return x;}
__attribute__((noinline)) static unsigned long loop(double end){unsigned long x=1;while(now()<end)x=step(x);return x;}
int main(int argc,char**argv){return (int)(loop(now()+atof(argv[1]))&1);}
`);
execFileSync('cc', ['-O2', '-fno-omit-frame-pointer', '-o', join(tmp, 'spin'), join(tmp, 'spin.c')]);

const buildDir = join(tmp, 'build');
if (buildFiles > 0) {
  mkdirSync(buildDir);
  for (let i = 0; i < buildFiles; i++) writeFileSync(join(buildDir, `f${i}.c`), `#include <stdio.h>\nint f${i}(int x) { return x * ${i + 1}; }\n`);
  writeFileSync(join(buildDir, 'Makefile'), 'SRCS = $(wildcard f*.c)\nall: $(SRCS:.c=.o)\n%.o: %.c\n\tcc -O1 -c $< -o $@\n');
}

/** The load beside the agent: CPU-bound loops, or the build over and over (one process group, killed whole). */
function startLoad() {
  if (buildFiles > 0) {
    const sh = spawn('sh', ['-c', `while :; do make -s -j${cpus} >/dev/null 2>&1; rm -f *.o; done`], { cwd: buildDir, stdio: 'ignore', detached: true });
    return () => process.kill(-sh.pid, 'SIGKILL');
  }
  const spins = Array.from({ length: loops }, () => spawn(join(tmp, 'spin'), [String(seconds + 5)], { stdio: 'ignore' }));
  return () => spins.forEach((c) => c.kill('SIGKILL'));
}

function status(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) / 1024;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { hwm: kb('VmHWM'), rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem'), cpuS: (Number(f[11]) + Number(f[12])) / TICK };
  } catch {
    return undefined;
  }
}

function childOf(pid) {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) return Number(d);
    } catch {}
  }
  return undefined;
}

async function runOnce(build) {
  const store = join(tmp, 'store');
  rmSync(store, { recursive: true, force: true });
  const stopLoad = startLoad();
  const env = process.env.PROFCTL_MEMORY_PROBE ? { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${join(import.meta.dirname, 'agent-memory-probe.mjs')}` } : process.env;
  const agent = spawn(build.bin, ['agent', '--store', store, '--flush', '10s', ...extraAgentArgs], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let errText = '';
  agent.stderr.on('data', (d) => (errText += d));
  let helper;
  let atStart;
  let last = { agent: undefined, helper: undefined };
  const series = [];
  const t0 = Date.now();
  for (let s = 1; s <= seconds; s++) {
    await sleep(t0 + s * 1000 - Date.now());
    helper ??= childOf(agent.pid);
    const a = status(agent.pid);
    const h = helper ? status(helper) : undefined;
    if (!a) break;
    last = { agent: a, helper: h ?? last.helper };
    if (s === 3) atStart = { cpuS: a.cpuS + (h?.cpuS ?? 0), t: Date.now() };
    series.push(a.rss + (h?.rss ?? 0));
  }
  const end = { cpuS: last.agent.cpuS + (last.helper?.cpuS ?? 0), t: Date.now() };
  let agentStatus = {};
  try {
    agentStatus = JSON.parse(readFileSync(join(store, 'agent-status.json'), 'utf8'));
  } catch {}
  agent.kill('SIGTERM');
  await new Promise((res) => agent.on('exit', res));
  stopLoad();
  const probeLines = errText.split('\n').filter((l) => l.startsWith('memory-probe')).slice(-1);
  return {
    agentHwm: last.agent.hwm,
    helperHwm: last.helper?.hwm ?? 0,
    agentRss: last.agent.rss,
    helperRss: last.helper?.rss ?? 0,
    agentParts: last.agent,
    helperParts: last.helper,
    cpuPerHour: ((end.cpuS - atStart.cpuS) / ((end.t - atStart.t) / 1000)) * 3600,
    samples: agentStatus.samplesTotal ?? 0,
    lost: agentStatus.lostTotal ?? 0,
    probe: probeLines[0],
    // Other processes on the machine are sampled too: their binaries' symbols are part of what the agent holds.
    load: os.loadavg()[0],
    errors: errText.split('\n').filter((l) => /error|warning|failed/i.test(l)).slice(0, 3),
  };
}

const results = new Map(builds.map((b) => [b.name, []]));
for (let r = 0; r < rounds; r++) {
  for (const b of builds) {
    const res = await runOnce(b);
    results.get(b.name).push(res);
    process.stderr.write(`round ${r + 1}/${rounds} ${b.name}: peak ${(res.agentHwm + res.helperHwm).toFixed(1)} MiB (agent ${res.agentHwm.toFixed(1)}, helper ${res.helperHwm.toFixed(1)}), ${res.cpuPerHour.toFixed(0)} s CPU/h, ${res.samples} samples, ${res.lost} lost, load ${res.load.toFixed(2)}${res.probe ? `\n  ${res.probe}` : ''}${res.errors.length ? `\n  ${res.errors.join('\n  ')}` : ''}\n`);
  }
}

const f1 = (x) => x.toFixed(1);
const lines = [
  `## agent memory (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Machine: ${cpus} CPUs (\`nproc\`), ${os.cpus()[0]?.model ?? 'unknown'}, kernel ${os.release()}, Node ${process.version}; shared with other engineers' builds and tests, so CPU numbers are noisy (medians of ${rounds} round${rounds > 1 ? 's' : ''}, builds interleaved).`,
  `Command: \`sudo node bench/agent-memory.mjs --seconds ${seconds} --rounds ${rounds}${builds.slice(1).map((b) => ` --compare ${b.bin}`).join('')}${extraAgentArgs.length ? ` --agent-args '${extraAgentArgs.join(' ')}'` : ''}${loops !== cpus && !buildFiles ? ` --loops ${loops}` : ''}${buildFiles ? ` --build ${buildFiles}` : ''}\` — \`profctl agent --store TMP --flush 10s\` for ${seconds} s, ${buildFiles ? `a \`make -j${cpus}\` build of ${buildFiles} C files, over and over,` : `${loops} CPU-bound C loop${loops === 1 ? '' : 's'}`} running beside it; /proc read every second.`,
  '',
  '| build | peak RSS agent+helper (MiB, VmHWM; median, then per round) | agent peak | helper peak | RSS at end agent / helper (anon+file+shmem) | CPU per hour of sampling (agent+helper) | samples | lost | load avg at end |',
  '|---|---:|---:|---:|---|---:|---:|---:|---|',
  ...builds.map((b) => {
    const rs = results.get(b.name);
    const m = (k) => median(rs.map(k));
    const last = rs[rs.length - 1];
    const parts = (p) => (p ? `${f1(p.rss)} (${f1(p.anon)}+${f1(p.file)}+${f1(p.shmem)})` : '-');
    return `| ${b.name} | ${f1(m((r) => r.agentHwm + r.helperHwm))} (${rs.map((r) => f1(r.agentHwm + r.helperHwm)).join(', ')}) | ${f1(m((r) => r.agentHwm))} | ${f1(m((r) => r.helperHwm))} | ${parts(last.agentParts)} / ${parts(last.helperParts)} | ${m((r) => r.cpuPerHour).toFixed(0)} s (${rs.map((r) => r.cpuPerHour.toFixed(0)).join(', ')}) | ${m((r) => r.samples)} | ${rs.map((r) => r.lost).join(', ')} | ${rs.map((r) => r.load.toFixed(2)).join(', ')} |`;
  }),
  '',
];
console.log(lines.join('\n'));
rmSync(tmp, { recursive: true, force: true });
