// `profctl record` end to end, with the real BPF program: a C program with a
// known call chain, a syscall-heavy one (kernel frames), a Node program (JS
// names through its perf map; generated code named by a perf map written at
// exit, as a JVM writes one), processes that exit right after being
// sampled, --pid selection, and exit-status pass-through. Needs root; in CI
// (root) it must run.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHelper, buildTarget, skipReason, repoRoot } from './helper-fixtures.js';

const bin = join(repoRoot, 'bin', 'profctl');
const dir = mkdtempSync(join(tmpdir(), 'profctl-record-'));

function profctl(args: string[], timeout = 60_000) {
  return spawnSync(bin, args, { encoding: 'utf8', timeout, env: { ...process.env, NO_COLOR: '1' } });
}

function topRows(file: string, extra: string[] = []): Array<{ function: string; module: string; self: number; total: number }> {
  const r = profctl(['top', '--input', file, '--json', '--limit', '0', '--sample-type', 'samples', ...extra]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout).rows;
}

function folded(file: string): string {
  const r = profctl(['export', '--input', file, '--format', 'folded']);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('profctl record into a store another writer holds', () => {
  it('refuses before the command runs, so no recording is made and then lost', () => {
    const store = mkdtempSync(join(tmpdir(), 'profctl-held-'));
    writeFileSync(join(store, 'writer.lock'), `${process.pid}\n`); // a live writer: this test's process
    const marker = join(store, 'command-ran');
    const r = profctl(['record', '--store', store, '--', 'sh', '-c', `touch ${marker}`]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`already being written by pid ${process.pid}\\b`));
    expect(r.stderr).not.toMatch(/recorded/);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('profctl record --pid of no process, or of a thread', () => {
  it('says so at once instead of recording nothing', () => {
    // pid_max itself is never a pid.
    const none = readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim();
    const r = profctl(['record', '--pid', none, '--duration', '5s', '-o', join(dir, 'none.pb.gz')]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`no process has pid ${none}\\b`));
    expect(existsSync(join(dir, 'none.pb.gz'))).toBe(false);
  });

  it("names a thread's process when given the thread's id", () => {
    // This test runner's threads: any whose id is not the process's own.
    const thread = readdirSync(`/proc/${process.pid}/task`).map(Number).find((t) => t !== process.pid);
    expect(thread, 'a thread besides the main one').toBeDefined();
    const r = profctl(['record', '--pid', String(thread), '--duration', '5s', '-o', join(dir, 'thread.pb.gz')]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${thread} is a thread of process ${process.pid}\\b`));
    expect(r.stderr).toMatch(new RegExp(`--pid ${process.pid}\\b`));
  });
});

describe.skipIf(skipReason !== undefined)('profctl record (BPF engine)', () => {
  let chain: string;
  let syscalls: string;
  let shortLived: string;
  let jitAtExit: string;
  beforeAll(() => {
    jitAtExit = buildTarget('jit-at-exit', ['-O1', '-fno-omit-frame-pointer']);
    buildHelper();
    chain = buildTarget('call-chain', ['-O0', '-fno-omit-frame-pointer', '-no-pie']);
    syscalls = buildTarget('syscall-heavy', ['-O1', '-fno-omit-frame-pointer']);
    writeFileSync(
      join(dir, 'short-lived.c'),
      `#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
__attribute__((noinline)) unsigned long short_lived_burn(double s){unsigned long x=1;double e=now()+s;while(now()<e)for(int i=0;i<10000;i++)x=x*6364136223846793005ul+1;return x;}
int main(void){return (int)(short_lived_burn(0.06)&1);}
`,
    );
    shortLived = join(dir, 'short-lived');
    execFileSync('cc', ['-O1', '-fno-omit-frame-pointer', '-o', shortLived, join(dir, 'short-lived.c')]);
  });

  it('names the known call chain and its hottest leaf; go tool pprof reads the file', () => {
    const out = join(dir, 'chain.pb.gz');
    const r = profctl(['record', '-o', out, '--', chain, '1.5']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/recorded \d+ samples/);
    const rows = topRows(out);
    expect(rows[0]!.function).toBe('chain_leaf');
    const all = rows.reduce((a, row) => a + row.self, 0);
    expect(rows[0]!.self / all).toBeGreaterThan(0.8);
    expect(folded(out)).toMatch(/(^|;)main;chain_alpha;chain_beta;chain_leaf \d+$/m);
    const pprof = spawnSync('go', ['tool', 'pprof', '-top', out], { encoding: 'utf8' });
    expect(pprof.status, pprof.stderr).toBe(0);
    expect(pprof.stdout).toMatch(/chain_leaf/);
    const tags = spawnSync('go', ['tool', 'pprof', '-tags', out], { encoding: 'utf8' });
    expect(tags.stdout).toMatch(/tid:/);
    expect(tags.stdout).toMatch(/thread_comm:/);
  });

  it('passes the command exit status through', () => {
    const r = profctl(['record', '-o', join(dir, 'exit.pb.gz'), '--', 'sh', '-c', 'exit 7']);
    expect(r.status).toBe(7);
    // A command killed by a signal: 128 + its number, as a shell reports it.
    const segv = profctl(['record', '-o', join(dir, 'segv.pb.gz'), '--', 'sh', '-c', 'kill -SEGV $$']);
    expect(segv.status, segv.stderr).toBe(139);
  });

  it('a recording stopped by a signal before its command ends writes the profile and says it was cut short', async () => {
    const out = join(dir, 'cut.pb.gz');
    const rec = spawn(bin, ['record', '-o', out, '--', 'sleep', '30'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    rec.stderr!.on('data', (d) => (stderr += d));
    for (let i = 0; i < 100 && !existsSync(`/proc/${rec.pid}`); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1500));
    const sleeper = spawnSync('pgrep', ['-x', '-P', String(rec.pid), 'sleep'], { encoding: 'utf8' }).stdout.trim();
    expect(sleeper).toMatch(/^\d+$/);
    rec.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => rec.on('exit', r));
    expect(code, stderr).toBe(143);
    expect(stderr).toMatch(/wrote .*cut\.pb\.gz/);
    expect(stderr).toMatch(/note: sleep had not finished: stopped it with SIGTERM/);
    expect(existsSync(out)).toBe(true);
    // The command did not outlive the recording.
    for (let i = 0; i < 40 && existsSync(`/proc/${sleeper}`); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(`/proc/${sleeper}`)).toBe(false);
  }, 30_000);

  it('shows kernel frames for a syscall-heavy program', () => {
    const out = join(dir, 'sys.pb.gz');
    const r = profctl(['record', '-o', out, '--', syscalls, '1']);
    expect(r.status, r.stderr).toBe(0);
    const kernel = topRows(out).filter((row) => row.module === '[kernel.kallsyms]');
    expect(kernel.length).toBeGreaterThan(3);
    const names = kernel.map((k) => k.function).join(' ');
    expect(names).toMatch(/write|sys_|entry_SYSCALL/);
  });

  it('names JavaScript functions of a node command (perf map)', () => {
    const script = join(dir, 'burn.js');
    writeFileSync(
      script,
      `function burnInJavaScript(n){let x=0;for(let i=0;i<n;i++){x=(x*31+i)%1000003;}return x;}
const end=Date.now()+1500;let s=0;while(Date.now()<end){s+=burnInJavaScript(200000);}console.log(s>0);`,
    );
    const out = join(dir, 'node.pb.gz');
    const r = profctl(['record', '-o', out, '--', process.execPath, script]);
    expect(r.status, r.stderr).toBe(0);
    const js = topRows(out).find((row) => row.function.includes('burnInJavaScript'));
    expect(js, 'burnInJavaScript in the profile').toBeDefined();
    const all = topRows(out).reduce((a, row) => a + row.self, 0);
    expect(js!.total / all).toBeGreaterThan(0.5);
  });

  it.skipIf(process.arch !== 'x64')('names generated code from a perf map the command writes as it exits', () => {
    const out = join(dir, 'jit.pb.gz');
    const r = profctl(['record', '-o', out, '--', jitAtExit, '1']);
    rmSync(`/tmp/perf-${r.stdout.trim()}.map`, { force: true });
    expect(r.status, r.stderr).toBe(0);
    const rows = topRows(out, ['--comm', 'jit-at-exit']);
    const all = rows.reduce((a, row) => a + row.self, 0);
    const generated = rows.find((row) => row.function === 'generated_count_down');
    expect(generated, `generated_count_down among ${rows.map((x) => x.function).join(', ')}`).toBeDefined();
    expect(generated!.self / all).toBeGreaterThan(0.8);
  });

  it('names processes that exit right after being sampled', async () => {
    const out = join(dir, 'machine.pb.gz');
    const rec = spawn(bin, ['record', '--duration', '4s', '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    rec.stderr.on('data', (d) => (err += d));
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; i < 15; i++) spawnSync(shortLived);
    const code = await new Promise<number | null>((r) => rec.on('exit', r));
    expect(code, err).toBe(0);
    const rows = topRows(out, ['--comm', 'short-lived']);
    const named = rows.find((row) => row.function === 'short_lived_burn');
    expect(named, `short_lived_burn among ${rows.map((x) => x.function).join(', ')}`).toBeDefined();
    const unknown = rows.filter((row) => row.function.startsWith('[unknown]') && row.module === 'short-lived');
    expect(unknown.reduce((a, x) => a + x.self, 0)).toBeLessThan(named!.self);
  });

  it('--pid records only that process', async () => {
    const a = spawn(chain, ['3']);
    const b = spawn(chain, ['3']);
    try {
      await new Promise((r) => setTimeout(r, 200));
      const out = join(dir, 'pid.pb.gz');
      const r = profctl(['record', '--duration', '1.5s', '--pid', String(a.pid), '-o', out]);
      expect(r.status, r.stderr).toBe(0);
      const pids = profctl(['top', '--input', out, '--by', 'thread', '--json']);
      const rows = JSON.parse(pids.stdout).rows as Array<{ function: string }>;
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row.function).toContain(`(${a.pid})`);
    } finally {
      a.kill();
      b.kill();
    }
  });
});
