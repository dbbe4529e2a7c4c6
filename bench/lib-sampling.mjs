// Shared by the benchmarks of sampling cost (agent-overhead, user-walk,
// helper-cost): the CPU-bound loop they run on every CPU, and the run time
// the kernel counts for the BPF programs a process holds.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Compiles the workload into dir and returns its path: `spin SECONDS` counts
 * iterations of a tight loop (-O2, frame pointers) and prints the count.
 */
export function buildSpinLoop(dir) {
  writeFileSync(join(dir, 'spin.c'), `#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
__attribute__((noinline)) static unsigned long step(unsigned long x){for(int i=0;i<1000;i++)x=x*6364136223846793005ul+1442695040888963407ul;return x;}
int main(int argc,char**argv){double end=now()+atof(argv[1]);unsigned long n=0,x=1;while(now()<end){x=step(x);n++;}printf("%lu %lu\\n",n,x&1);return 0;}
`);
  const out = join(dir, 'spin');
  execFileSync('cc', ['-O2', '-fno-omit-frame-pointer', '-o', out, join(dir, 'spin.c')]);
  return out;
}

/**
 * Run time (ns) and runs of every BPF program the process holds an fd of, by
 * program id (kernel.bpf_stats_enabled must be 1 for them to count). Empty
 * when the process is gone.
 */
export function bpfPrograms(pid) {
  const out = new Map();
  let fds = [];
  try {
    fds = readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    let info;
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed meanwhile
    }
    const id = /^prog_id:\s*(\d+)/m.exec(info);
    const ns = /^run_time_ns:\s*(\d+)/m.exec(info);
    const cnt = /^run_cnt:\s*(\d+)/m.exec(info);
    if (id && ns && cnt) out.set(id[1], { ns: Number(ns[1]), cnt: Number(cnt[1]) });
  }
  return out;
}
