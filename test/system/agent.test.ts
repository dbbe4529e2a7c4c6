// `profctl agent` end to end with the real BPF program: segments every
// flush, the size cap held while it runs with a small cap, `status` while it
// runs, spans received over OTLP stored beside the samples, and a clean stop
// on SIGTERM. Needs root; in CI (root) it must run.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { buildHelper, buildTarget, skipReason, repoRoot } from './helper-fixtures.js';
import { writeOlderSegments } from '../unit/store-fixtures.js';
import { segmentFiles } from '../support/store-files.js';

const bin = join(repoRoot, 'bin', 'profctl');
const store = mkdtempSync(join(tmpdir(), 'profctl-agent-'));
// The cap is set just above what a pre-filled store holds (this machine's
// frames from a first short run, then an hour of older segments), so the
// agent's own segments push it over and eviction must happen however quiet
// the machine is (an idle machine adds well under 1 KiB a second).
let CAP = 0;

function profctl(args: string[]) {
  return spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
}

function storeBytes(): number {
  let total = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else total += statSync(p).size;
    }
  };
  walk(store);
  return total;
}

function postSpans(port: number, body: object): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe.skipIf(skipReason !== undefined)('profctl agent (BPF engine)', () => {
  let agent: ChildProcess;
  let stderr = '';
  let burner: ChildProcess;
  const port = 43000 + (process.pid % 1000);
  beforeAll(async () => {
    buildHelper();
    const chain = buildTarget('call-chain', ['-O0', '-fno-omit-frame-pointer']);
    burner = spawn(chain, ['60']);
    // A first short run puts this machine's own frames in the store's tables.
    const first = spawn(bin, ['agent', '--store', store, '--flush', '1s', '--quiet'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 3000));
    first.kill('SIGTERM');
    await new Promise((r) => first.on('exit', r));
    // Older data: 60 segments of the last hour, about half a MiB to evict.
    writeOlderSegments(store, 60, 2000);
    CAP = storeBytes() + 16 * 1024;
    agent = spawn(bin, ['agent', '--store', store, '--flush', '1s', '--max-size', String(CAP), '--otlp', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    agent.stderr!.on('data', (d) => (stderr += d));
    for (let i = 0; i < 100 && !/sampling at/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
  });
  afterAll(() => {
    burner?.kill();
    agent?.kill('SIGKILL');
  });

  it('writes segments, holds the cap, and reports its status while running', async () => {
    expect(stderr).toMatch(/sampling at 99 Hz/);
    // Run until the store has had to evict (a busy machine gets there in seconds at this cap).
    for (let i = 0; i < 30 && !/evicted \d+ old segments?/.test(stderr); i++) await new Promise((r) => setTimeout(r, 1000));
    // Let a few more flushes happen after the first eviction.
    await new Promise((r) => setTimeout(r, 3000));
    expect(stderr).toMatch(/evicted \d+ old segments?/);
    // Every flush logs the store's size after enforcing the bounds: never above the cap.
    const unit = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 } as Record<string, number>;
    // Sizes print with one decimal: each is within half of its last digit.
    const sizes = [...stderr.matchAll(/store ([\d.]+) (B|KiB|MiB) of [\d.]+ (?:B|KiB|MiB)/g)].map((m) => ({ bytes: Number(m[1]) * unit[m[2]!]!, slack: unit[m[2]!]! * 0.05 }));
    expect(sizes.length).toBeGreaterThan(2);
    for (const size of sizes) expect(size.bytes - size.slack, `sizes ${sizes.map((s) => s.bytes).join(',')}`).toBeLessThanOrEqual(CAP);
    const st = profctl(['status', '--store', store, '--json']);
    expect(st.status, st.stderr).toBe(0);
    const status = JSON.parse(st.stdout);
    expect(status.agent).toMatchObject({ running: true, engine: 'bpf', hz: 99, pid: agent.pid });
    expect(status.agent.samplesPerSecond).toBeGreaterThan(10);
    expect(status.store.maxSizeBytes).toBe(CAP);
    expect(status.store.sizeBytes).toBeLessThanOrEqual(CAP * 1.5);
    const top = profctl(['top', '--store', store, '--since', '10s', '--comm', 'call-chain', '--json']);
    expect(top.status, top.stderr).toBe(0);
    expect(JSON.parse(top.stdout).rows[0].function).toBe('chain_leaf');
  }, 90_000);

  it('stores spans received over OTLP next to the samples', async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const code = await postSpans(port, {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'agent-test' } }] },
          scopeSpans: [{ spans: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'GET /x', kind: 2, startTimeUnixNano: String(now - 5_000_000n), endTimeUnixNano: String(now) }] }],
        },
      ],
    });
    expect(code).toBe(200);
    // The spans land in the store with the next flush.
    for (let i = 0; i < 10 && !/\b1 span\b/.test(stderr); i++) await new Promise((r) => setTimeout(r, 500));
    const tr = profctl(['trace', '--store', store, '--since', '1m', '--service', 'agent-test', '--json']);
    expect(tr.status, tr.stderr).toBe(0);
    expect(JSON.parse(tr.stdout).traces.map((t: { traceId: string }) => t.traceId), `${tr.stderr}\n${stderr.slice(-600)}`).toEqual(['ab'.repeat(16)]);
  }, 30_000);

  it('stops cleanly on SIGTERM', async () => {
    agent.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => agent.on('exit', r));
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/stopped \(SIGTERM\)/);
    const stopped = profctl(['status', '--store', store, '--json']);
    expect(stopped.status).toBe(1);
    const st = JSON.parse(stopped.stdout);
    expect(st.agent.running).toBe(false);
    // The final flush enforced the cap too.
    expect(storeBytes()).toBeLessThanOrEqual(CAP);
  }, 30_000);
});

describe.skipIf(skipReason !== undefined)('profctl agent whose stderr goes away', () => {
  it('goes on profiling when the reader of its log closes the pipe, and stops cleanly on SIGHUP', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'profctl-agent-pipe-'));
    const agent = spawn(bin, ['agent', '--store', dir, '--flush', '1s'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((r) => agent.on('exit', r));
    await new Promise<void>((r) => agent.stderr!.once('data', () => r()));
    // The log's reader goes away, as `profctl agent 2>&1 | head -1` does.
    agent.stderr!.destroy();
    const segments = () => segmentFiles(dir).length;
    await new Promise((r) => setTimeout(r, 1500));
    const before = segments();
    await new Promise((r) => setTimeout(r, 3000));
    expect(segments()).toBeGreaterThan(before);
    // A terminal hang-up stops it as cleanly as SIGTERM: the last window is written, the status removed.
    agent.kill('SIGHUP');
    expect(await exited).toBe(0);
    expect(existsSync(join(dir, 'agent-status.json'))).toBe(false);
  }, 30_000);
});

describe.skipIf(skipReason !== undefined)('profctl agent whose helper stops answering', () => {
  it('writes a segment every interval while the helper is stopped, and the helper\'s samples again after', async () => {
    // The agent asks its helper for the samples at each flush and waits at
    // most half a second for the answer. A helper that cannot answer (here
    // SIGSTOP) must not stop the segments; its samples come in later windows.
    const dir = mkdtempSync(join(tmpdir(), 'profctl-agent-stall-'));
    const agent = spawn(bin, ['agent', '--store', dir, '--flush', '1s'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((r) => agent.on('exit', r));
    let log = '';
    agent.stderr!.on('data', (d) => (log += d));
    const counts = () => [...log.matchAll(/profctl agent: (\d+) samples?,/g)].map((m) => Number(m[1]));
    for (let i = 0; i < 100 && counts().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(counts().length, log).toBeGreaterThanOrEqual(2);
    const helper = Number(spawnSync('pgrep', ['-P', String(agent.pid), 'profctl-helper'], { encoding: 'utf8' }).stdout.trim().split('\n')[0]);
    expect(helper).toBeGreaterThan(0);
    process.kill(helper, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 1600)); // a window the helper may have answered half of
    const stalledAt = counts().length;
    for (let i = 0; i < 80 && counts().length < stalledAt + 3; i++) await new Promise((r) => setTimeout(r, 100));
    expect(counts().length, log).toBeGreaterThanOrEqual(stalledAt + 3);
    // Nothing was sampled while the helper was stopped.
    expect(counts().slice(stalledAt, stalledAt + 3), log).toEqual([0, 0, 0]);
    process.kill(helper, 'SIGCONT');
    const resumedAt = counts().length;
    for (let i = 0; i < 100 && !counts().slice(resumedAt).some((n) => n > 0); i++) await new Promise((r) => setTimeout(r, 100));
    expect(counts().slice(resumedAt).some((n) => n > 0), log).toBe(true);
    agent.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
