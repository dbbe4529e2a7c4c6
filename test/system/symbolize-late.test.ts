// Symbolizing samples late, as a busy agent does: the real helper samples the
// machine, the test holds every batch until the sampled processes have exited
// (and their /proc entries are gone), and only then names them — the way a
// slow drain (a big binary's symbols loading, a busy event loop) sees them.
// Covers: a short-lived C program, a shell that execs a program (same pid and
// start time, different maps), and a Node program's JIT code named from its
// perf map after its exit. Needs root; in CI (root) it must run.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildHelper, skipReason } from './helper-fixtures.js';
import { startHelper } from '../../src/capture/helper-process.js';
import type { CaptureBatch } from '../../src/capture/capture-types.js';
import { Symbolizer } from '../../src/symbolize/symbolizer.js';
import { SampleCollector } from '../../src/symbolize/sample-collector.js';
import type { Profile } from '../../src/profile/model.js';

const dir = mkdtempSync(join(tmpdir(), 'profctl-late-'));

function run(cmd: string, args: string[]): Promise<number> {
  const child = spawn(cmd, args, { stdio: 'ignore' });
  return new Promise((resolve) => child.on('exit', () => resolve(child.pid!)));
}

/** Samples the machine while `work` runs; returns every batch, unsymbolized, once work's processes are gone. */
async function captureThenWait(work: () => Promise<number[]>): Promise<{ batches: CaptureBatch[]; pids: number[] }> {
  const capture = await startHelper({ hz: 499 });
  const batches: CaptureBatch[] = [];
  const drained = (async () => {
    for await (const b of capture.samples()) batches.push(b);
  })();
  const pids = await work();
  await sleep(300); // the last samples reach us
  await capture.stop();
  await drained;
  for (const pid of pids) expect(existsSync(`/proc/${pid}/maps`)).toBe(false);
  return { batches, pids };
}

function symbolize(batches: CaptureBatch[]): Profile {
  const collector = new SampleCollector(new Symbolizer(), 499);
  for (const b of batches) collector.addBatch(b);
  return collector.takeProfile();
}

/** Self counts per leaf frame name of the samples of `pids`, and all frame names seen. */
function leaves(p: Profile, pids: number[]): { self: Map<string, number>; names: Set<string>; processes: Set<string> } {
  const self = new Map<string, number>();
  const names = new Set<string>();
  const processes = new Set<string>();
  for (const s of p.samples) {
    if (!pids.includes(s.pid!)) continue;
    processes.add(s.process!);
    const frames = p.stacks[s.stack]!.map((i) => p.frames[i]!);
    const userLeaf = frames.find((f) => f.kind !== 'kernel') ?? frames[0]!;
    self.set(userLeaf.name, (self.get(userLeaf.name) ?? 0) + 1);
    for (const f of frames) names.add(`${f.module}:${f.name}`);
  }
  return { self, names, processes };
}

describe.skipIf(skipReason !== undefined)('symbolizing after the process is gone (BPF engine)', () => {
  let burn: string;
  beforeAll(() => {
    buildHelper();
    writeFileSync(
      join(dir, 'late-burn.c'),
      `#include <stdlib.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
__attribute__((noinline)) unsigned long late_burn_leaf(double s){unsigned long x=1;double e=now()+s;while(now()<e)for(int i=0;i<10000;i++)x=x*6364136223846793005ul+1;return x;}
int main(int argc,char**argv){return (int)(late_burn_leaf(atof(argv[1]))&1);}
`,
    );
    burn = join(dir, 'late-burn');
    execFileSync('cc', ['-O1', '-fno-omit-frame-pointer', '-o', burn, join(dir, 'late-burn.c')]);
  });

  it('names short-lived processes whose /proc entries are gone before symbolization', async () => {
    const { batches, pids } = await captureThenWait(async () => {
      const out: number[] = [];
      for (let i = 0; i < 8; i++) out.push(await run(burn, ['0.06']));
      return out;
    });
    const { self, processes } = leaves(symbolize(batches), pids);
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    expect(total, 'samples of the short-lived processes').toBeGreaterThan(5);
    expect(self.get('late_burn_leaf') ?? 0, [...self.keys()].join(', ')).toBeGreaterThan(total / 2);
    // (A sample between fork and exec belongs to the forked node process: that name is right too.)
    expect(processes.has('late-burn'), [...processes].join(', ')).toBe(true);
  });

  it('names the program a shell execs into, and the shell before it (same pid, same start time)', async () => {
    // The shell burns CPU itself first, so it is sampled (and its maps taken) before the exec.
    const script = `i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; exec ${burn} 0.3`;
    const { batches, pids } = await captureThenWait(async () => [await run('/bin/sh', ['-c', script])]);
    const { self, names, processes } = leaves(symbolize(batches), pids);
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    const unknownInBurn = [...self.entries()].filter(([n]) => n.startsWith('[unknown]')).reduce((a, [, c]) => a + c, 0);
    expect(self.get('late_burn_leaf') ?? 0, [...self.keys()].join(', ')).toBeGreaterThan(total / 4);
    expect(unknownInBurn).toBeLessThan(self.get('late_burn_leaf')!);
    // The shell's own samples are named from the shell's binary, not the program's.
    const shellModule = [...names].some((n) => /^(dash|bash|sh|libc\.so[^:]*):/.test(n));
    expect(shellModule, [...names].join(', ')).toBe(true);
    expect(processes.has('late-burn')).toBe(true);
  });

  it("names a Node program's JavaScript from its perf map after it exited", async () => {
    const script = join(dir, 'late.js');
    writeFileSync(script, `function lateJavaScriptBurn(n){let x=0;for(let i=0;i<n;i++){x=(x*31+i)%1000003;}return x;}
const end=Date.now()+800;let s=0;while(Date.now()<end){s+=lateJavaScriptBurn(100000);}`);
    let pid = 0;
    try {
      const { batches, pids } = await captureThenWait(async () => [(pid = await run(process.execPath, ['--perf-basic-prof', '--logfile=/dev/null', script]))]);
      const { self } = leaves(symbolize(batches), pids);
      const total = [...self.values()].reduce((a, b) => a + b, 0);
      expect(self.get('lateJavaScriptBurn') ?? 0, [...self.keys()].slice(0, 20).join(', ')).toBeGreaterThan(total / 3);
    } finally {
      if (pid) rmSync(`/tmp/perf-${pid}.map`, { force: true });
    }
  });
});
