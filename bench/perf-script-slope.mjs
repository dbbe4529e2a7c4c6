// How `perf script`'s cost splits into a fixed part (loading kallsyms and the
// binaries' symbols, once per run) and a part per sample. agent-overhead.mjs
// scales perf's naming pass of a one-minute recording to an hour as if all of
// it were per sample; this measures the split, so that the per-hour figure
// for a recording an hour long can be told apart from that upper bound.
// Two recordings of `perf record -F 99 -g -a` over the same CPU-bound loops
// (one per CPU), a short and a long one; `perf script` is timed twice on
// each (user + system CPU of the process, from /proc via the shell's `times`).
//
// Usage (root): node bench/perf-script-slope.mjs [short=20] [long=120]
// Needs: cc, perf (linux-perf). Prints a markdown section.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

const short = Number(process.argv[2] ?? 20);
const long = Number(process.argv[3] ?? 120);
const cpus = os.cpus().length;
const tmp = mkdtempSync(join(os.tmpdir(), 'profctl-perf-slope-'));

try {
  execFileSync('perf', ['--version'], { stdio: 'ignore' });
} catch {
  console.log('## perf script: fixed and per-sample cost\n\nskipped: `perf` is not installed (apt-get install linux-perf).');
  process.exit(0);
}

writeFileSync(join(tmp, 'spin.c'), `#include <stdlib.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
__attribute__((noinline)) static unsigned long step(unsigned long x){for(int i=0;i<1000;i++)x=x*6364136223846793005ul+1442695040888963407ul;return x;}
int main(int argc,char**argv){double end=now()+(argc>1?atof(argv[1]):1);unsigned long x=1;while(now()<end)x=step(x);return (int)(x&1);}
`);
execFileSync('cc', ['-O2', '-fno-omit-frame-pointer', '-o', join(tmp, 'spin'), join(tmp, 'spin.c')]);

function record(seconds) {
  const loops = Array.from({ length: cpus }, () => spawn(join(tmp, 'spin'), [String(seconds + 1)], { stdio: 'ignore' }));
  const data = join(tmp, `perf-${seconds}.data`);
  execFileSync('perf', ['record', '-F', '99', '-g', '-a', '-o', data, '--', 'sleep', String(seconds)], { stdio: 'ignore' });
  for (const l of loops) l.kill();
  return data;
}

/** CPU seconds (user + system) of one `perf script` over `data`, and the samples it printed. */
function script(data) {
  const out = execFileSync('sh', ['-c', `perf script -i "${data}" > "${data}.txt" 2>/dev/null; times; grep -c '^[^[:space:]]' "${data}.txt"`], { encoding: 'utf8' });
  const lines = out.trim().split('\n');
  // `times`: the shell's own line, then its children's ("0m0.040s 0m0.020s").
  const child = lines[1].trim().split(/\s+/).map((t) => {
    const m = /(\d+)m([\d.]+)s/.exec(t);
    return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
  });
  return { cpu: child[0] + child[1], samples: Number(lines[2]) };
}

const rows = [];
for (const seconds of [short, long]) {
  const data = record(seconds);
  const runs = [script(data), script(data)];
  rows.push({ seconds, samples: runs[0].samples, cpu: Math.min(runs[0].cpu, runs[1].cpu), runs });
}
rmSync(tmp, { recursive: true, force: true });

const [a, b] = rows;
const perSampleS = (b.cpu - a.cpu) / (b.samples - a.samples);
const fixedS = a.cpu - perSampleS * a.samples;
const samplesPerHour = (b.samples / b.seconds) * 3600;
const lines = [
  `## perf script: fixed and per-sample cost (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Machine: ${cpus} CPUs, ${os.cpus()[0]?.model.trim() ?? ''}, kernel ${os.release()}. Command: \`sudo node bench/perf-script-slope.mjs ${short} ${long}\`. Workload: one CPU-bound loop per CPU under \`perf record -F 99 -g -a\`; \`perf script\` timed twice per recording (the lower is used).`,
  '',
  '| recording | samples | `perf script` CPU (s), runs |',
  '|---|---:|---|',
  ...rows.map((r) => `| ${r.seconds} s | ${r.samples} | ${r.runs.map((x) => x.cpu.toFixed(2)).join(', ')} |`),
  '',
  `Per sample: **${(perSampleS * 1e6).toFixed(2)} µs**; fixed: **${fixedS.toFixed(2)} s** per run. An hour of sampling at this rate (${Math.round(samplesPerHour)} samples) costs about **${(perSampleS * samplesPerHour + fixedS).toFixed(1)} s** to name in one run, against ${((a.cpu / a.seconds) * 3600).toFixed(1)} s when the ${short} s run is scaled to an hour as agent-overhead.mjs does. The CPU clock's 10 ms ticks make each figure ±0.01 s.`,
];
console.log(lines.join('\n'));
