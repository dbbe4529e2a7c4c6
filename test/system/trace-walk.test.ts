// The on-call walk end to end on real data: `profctl agent --otlp` samples
// the machine with BPF and receives spans; a Node HTTP service instrumented
// with the real OpenTelemetry JS SDK (test/system/trace-walk-service.mjs, run
// with --perf-basic-prof) serves requests one at a time, each burning CPU in
// its route's own JS function, one of them much longer. Then
// `profctl trace --slowest` must list that request first, and the command it
// prints next (`profctl flame --trace-id …`), `top --trace-id` and the
// waterfall must name the JS function that burned its CPU.
// Node spans carry no OS thread id, so every attributed sample is
// process-time; requests are sequential so that no two spans' chains
// overlap (concurrent ones would be ambiguous), and the test asserts exactly
// those kinds. Needs root; in CI (root) it must run.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { buildHelper, skipReason, repoRoot } from './helper-fixtures.js';
// @ts-expect-error: a plain ESM helper shared with the benchmark
import { startAgent } from '../../bench/otlp-load.mjs';

const bin = join(repoRoot, 'bin', 'profctl');
const store = mkdtempSync(join(tmpdir(), 'profctl-walk-'));
const SERVICE = 'walk-shop';

function profctl(args: string[]) {
  return spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
}

function call(port: number, path: string, method = 'GET'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

interface TraceRow {
  traceId: string;
  root: string;
  service: string;
  durationMs: number;
  samples: number;
  attribution: { exact: number; thread: number; process: number; ambiguous: number };
  hottest: string | null;
}

const attribution = (stderr: string) => {
  const m = /samples: (\d+) \(exact (\d+), thread-time (\d+), process-time (\d+), ambiguous (\d+)\)/.exec(stderr);
  return m ? { total: Number(m[1]), exact: Number(m[2]), thread: Number(m[3]), process: Number(m[4]), ambiguous: Number(m[5]) } : undefined;
};

describe.skipIf(skipReason !== undefined)('the on-call walk on real data (agent + OpenTelemetry JS service)', () => {
  let agent: Awaited<ReturnType<typeof startAgent>>;
  let service: ChildProcess;
  let traces: TraceRow[] = [];
  const requests = [
    ...Array.from({ length: 4 }, (_, i) => (i % 2 ? '/search?ms=80' : '/checkout?ms=80')),
    '/report?ms=700',
    ...Array.from({ length: 4 }, (_, i) => (i % 2 ? '/checkout?ms=80' : '/search?ms=80')),
  ];

  beforeAll(async () => {
    buildHelper();
    agent = await startAgent({ store, flush: '1s' });
    service = spawn(process.execPath, ['--perf-basic-prof', '--logfile=/dev/null', join(repoRoot, 'test', 'system', 'trace-walk-service.mjs'), agent.url], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      service.stdout!.on('data', (d) => {
        out += d;
        const m = /listening (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      service.once('exit', (code) => reject(new Error(`the service exited (${code})`)));
    });
    // One request at a time: each span chain has the process to itself.
    for (const path of requests) expect(await call(port, path)).toBe(200);
    const lastRequestDone = Date.now();
    expect(await call(port, '/flush', 'POST')).toBe(200);
    // The agent stores spans and samples at its next flush. Wait until the
    // store reaches well past the last request (a request's samples can land
    // a flush after its span), then until the walk sees every trace.
    for (let i = 0; i < 60; i++) {
      const s = profctl(['status', '--store', store, '--json']);
      const newest = s.status === 0 ? (JSON.parse(s.stdout).store?.newest as string | null) : null;
      if (newest && Date.parse(newest) >= lastRequestDone + 2_000) {
        const r = profctl(['trace', '--store', store, '--service', SERVICE, '--since', '10m', '--json', '--limit', '0']);
        if (r.status === 0) {
          traces = JSON.parse(r.stdout).traces;
          if (traces.length === requests.length && traces.every((t) => t.samples > 0)) break;
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 180_000);

  afterAll(async () => {
    service?.kill('SIGTERM');
    await agent?.stop();
  });

  it('trace --slowest lists the slow request first, with its hottest JS function and the next command', () => {
    console.log(`walk: ${traces.map((t) => `${t.root} ${t.durationMs.toFixed(0)} ms ${t.samples} samples, hottest ${t.hottest}`).join('; ')}`);
    expect(traces.length).toBe(requests.length);
    const r = profctl(['trace', '--store', store, '--service', SERVICE, '--since', '10m', '--slowest']);
    expect(r.status, r.stderr).toBe(0);
    const firstRow = r.stdout.split('\n')[1]!;
    expect(firstRow).toMatch(/GET \/report/);
    const slowest = traces[0]!;
    expect(slowest.root).toBe('GET /report');
    expect(slowest.service).toBe(SERVICE);
    expect(slowest.hottest).toMatch(/buildQuarterlyReport/);
    expect(r.stderr).toContain(`next: profctl flame --trace-id ${slowest.traceId} --store ${store}\n`);
    // Spans without thread.id, requests one at a time: process-time, nothing else.
    for (const t of traces) expect(t.attribution, t.root).toEqual({ exact: 0, thread: 0, process: t.samples, ambiguous: 0 });
  });

  it('the printed next command draws only the slow request’s CPU, burned in its JS function', () => {
    const slowest = traces[0]!;
    const r = profctl(['flame', '--trace-id', slowest.traceId, '--store', store, '--format', 'folded']);
    expect(r.status, r.stderr).toBe(0);
    const counts = attribution(r.stderr);
    expect(counts, r.stderr).toBeDefined();
    expect(counts).toMatchObject({ exact: 0, thread: 0, ambiguous: 0 });
    expect(counts!.process).toBe(counts!.total);
    expect(counts!.total).toBe(slowest.samples);
    const lines = r.stdout.trim().split('\n').map((l) => ({ stack: l.slice(0, l.lastIndexOf(' ')), n: Number(l.slice(l.lastIndexOf(' ') + 1)) }));
    const total = lines.reduce((a, l) => a + l.n, 0);
    const inReport = lines.filter((l) => /buildQuarterlyReport/.test(l.stack)).reduce((a, l) => a + l.n, 0);
    expect(inReport / total).toBeGreaterThan(0.6);
    // The other routes never ran during it.
    expect(r.stdout).not.toMatch(/checksumCartItems|rankSearchResults/);
  });

  it('top --trace-id names each request’s own function', () => {
    const checked = new Set<string>();
    for (const t of traces) {
      const fn = { 'GET /report': 'buildQuarterlyReport', 'GET /checkout': 'checksumCartItems', 'GET /search': 'rankSearchResults' }[t.root]!;
      if (t.samples < 4) continue; // too few for a hottest function to mean anything
      const r = profctl(['top', '--trace-id', t.traceId, '--store', store, '--json', '--sample-type', 'samples']);
      expect(r.status, r.stderr).toBe(0);
      const rows: Array<{ function: string; self: number }> = JSON.parse(r.stdout).rows;
      expect(rows[0]!.function, `${t.root} ${t.traceId}`).toMatch(new RegExp(fn));
      expect(attribution(r.stderr)?.process).toBe(t.samples);
      checked.add(t.root);
    }
    expect([...checked].sort()).toEqual(['GET /checkout', 'GET /report', 'GET /search']);
  });

  it('the waterfall puts the samples on the handler span', () => {
    const slowest = traces[0]!;
    const r = profctl(['trace', slowest.traceId, '--store', store, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const w = JSON.parse(r.stdout) as { spans: Array<{ name: string; depth: number; samples: number; hottest: string | null }> };
    expect(w.spans.map((s) => [s.name, s.depth])).toEqual([
      ['GET /report', 0],
      ['buildQuarterlyReport', 1],
    ]);
    const handler = w.spans[1]!;
    expect(handler.hottest).toMatch(/buildQuarterlyReport/);
    expect(handler.samples).toBeGreaterThan(w.spans[0]!.samples);
  });
});
