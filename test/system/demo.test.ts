// `profctl demo` end to end, as a newcomer runs it: the real agent with the
// BPF sampler, the OpenTelemetry-instrumented demo service, the load and the
// planted regression; the walk must page on the SLO and end at the planted
// function as the hottest of the slowest trace. Also: nothing it started is
// left running, whether it ends normally, on SIGINT, SIGTERM or SIGKILL, and it
// refuses to run without root in one line. Needs root; in CI it must run.
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipReason, repoRoot, buildHelper } from './helper-fixtures.js';

const bin = join(repoRoot, 'bin', 'profctl');
const planted = 'computeLoyaltyDiscount';

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Processes still alive in any of these process groups (the demo makes each child a group leader). */
function survivorsInGroups(groups: number[]): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [state, , pgrp] = [fields[0], fields[1], Number(fields[2])];
    if (state !== 'Z' && groups.includes(pgrp)) found.push(`${entry} ${stat.slice(0, stat.lastIndexOf(')') + 1)}`);
  }
  return found;
}

function agentRunning(store: string): boolean {
  const st = spawnSync(process.execPath, [bin, 'status', '--store', store, '--json'], { encoding: 'utf8' });
  return JSON.parse(st.stdout).agent?.running === true;
}

/** The pids the demo announced on stderr: agent, service, load generator. */
function announcedPids(stderr: string): number[] {
  return [...stderr.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
}

const stores: string[] = [];
function tempStore(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), name));
  stores.push(dir);
  return dir;
}

describe.skipIf(skipReason !== undefined)('profctl demo (BPF engine, real OpenTelemetry SDK)', () => {
  afterAll(() => {
    for (const dir of stores) rmSync(dir, { recursive: true, force: true });
  });
  it('pages on the SLO and finds the planted function as the hottest of the slowest trace, leaving nothing running', async () => {
    buildHelper();
    const store = tempStore('profctl-demo-test-');
    const child = spawn(process.execPath, [bin, 'demo', '--duration', '24s', '--json', '--store', store], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout);

    expect(summary.plantedFunction).toBe(planted);
    expect(summary.slo.status, stderr).toBe('page');
    expect(summary.slowestTrace.root).toBe('GET /checkout');
    expect(summary.slowestTrace.samples).toBeGreaterThan(0);
    expect(summary.slowestTrace.hottest).toBe(planted);
    expect(summary.hottestFunction).toBe(planted);
    expect(summary.found).toBe(true);
    expect(summary.requests.requests).toBeGreaterThan(50);
    expect(summary.store).toBe(store);

    // The walk ran the commands it printed, and the flame graph of the slowest trace shows the planted frame.
    const commands = summary.steps.map((s: { command: string }) => s.command.split(' ')[1]);
    expect(commands).toEqual(['slo', 'trace', 'flame', 'top']);
    expect(summary.steps[0].exitCode).toBe(1); // slo exits 1 when an SLO pages
    const flame = summary.steps.find((s: { command: string }) => s.command.startsWith('profctl flame'));
    expect(flame.command).toContain(summary.slowestTrace.traceId);
    expect(flame.stdout).toContain(planted);

    // Nothing it started survives it, and the agent's status says so.
    const pids = Object.values(summary.processes) as number[];
    expect(pids).toHaveLength(3);
    expect(survivorsInGroups(pids)).toEqual([]);
    expect(agentRunning(store)).toBe(false);
  }, 120_000);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`stops every process it started on ${signal}`, async () => {
      const store = tempStore('profctl-demo-signal-');
      const child = spawn(process.execPath, [bin, 'demo', '--duration', '60s', '--store', store], { env: { ...process.env, NO_COLOR: '1' } });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((r) => child.on('exit', r));
      for (let i = 0; i < 300 && !/load generator \(pid \d+\)/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
      const pids = announcedPids(stderr);
      expect(pids, stderr).toHaveLength(3);
      expect(survivorsInGroups(pids).length, 'the demo runs its three process groups').toBeGreaterThanOrEqual(3);
      await new Promise((r) => setTimeout(r, 1500));
      child.kill(signal);
      const code = await exited;
      expect(code, stderr).toBe(130);
      expect(stderr).toMatch(new RegExp(`interrupted by ${signal}`));
      expect(survivorsInGroups(pids)).toEqual([]);
      expect(agentRunning(store)).toBe(false);
    }, 90_000);
  }

  it('leaves nothing running even when it is killed with SIGKILL', async () => {
    if (!existsSync('/usr/bin/setpriv')) throw new Error('setpriv (util-linux) is needed: the demo uses it to tie the agent to its life');
    const store = tempStore('profctl-demo-kill-');
    const child = spawn(process.execPath, [bin, 'demo', '--duration', '60s', '--store', store], { env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    for (let i = 0; i < 300 && !/load generator \(pid \d+\)/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
    const pids = announcedPids(stderr);
    expect(pids, stderr).toHaveLength(3);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // No cleanup code ran: the service and the load see their stdin close, the kernel signals the agent.
    let left = survivorsInGroups(pids);
    for (let i = 0; i < 100 && left.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = survivorsInGroups(pids);
    }
    expect(left).toEqual([]);
    // Its working folder is the one thing a SIGKILL leaves behind.
    const workdir = /working folder (\S+)/.exec(stderr)?.[1];
    if (workdir) stores.push(workdir);
  }, 90_000);

  it('without root, says so in one line with the sudo command and exits 3', () => {
    if (!existsSync('/usr/bin/setpriv')) throw new Error('setpriv (util-linux) is needed to run profctl as nobody');
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, bin, 'demo', '--duration', '30s'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/needs root.*sudo profctl demo --duration 30s/);
    expect(r.stdout).toBe('');
  });
});
