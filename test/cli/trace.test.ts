// `profctl trace` over an OTLP JSON span file and a pprof whose samples carry
// their times, pids and tids (as `record -o` writes them): the list, the
// waterfall, the JSON shapes, and the thread-time join behind the counts.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProfileBuilder } from '../../src/profile/model.js';
import { encodePprof } from '../../src/profile/pprof-encode.js';
import { splitCommandLine } from '../../src/commands/demo-walk.js';

const bin = new URL('../../bin/profctl', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'profctl-trace-'));
const T0 = Date.UTC(2026, 10, 25, 2, 10, 0);
const SLOW = '4bf92f3577b34da6a3ce929d0e0e4736';
const FAST = '0af7651916cd43dd8448eb211c80319c';
const TINY = '11111111111111111111111111111111';

function otlpLine(traceId: string, spans: Array<{ id: string; parent?: string; name: string; start: number; end: number; tid: number }>) {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, { key: 'process.pid', value: { intValue: '4242' } }] },
        scopeSpans: [
          {
            spans: spans.map((s) => ({
              traceId,
              spanId: s.id,
              ...(s.parent ? { parentSpanId: s.parent } : {}),
              name: s.name,
              kind: s.parent ? 1 : 2,
              startTimeUnixNano: String(BigInt(T0 + s.start) * 1_000_000n),
              endTimeUnixNano: String(BigInt(T0 + s.end) * 1_000_000n),
              attributes: [{ key: 'thread.id', value: { intValue: String(s.tid) } }],
            })),
          },
        ],
      },
    ],
  });
}

beforeAll(() => {
  // The slow trace runs on thread 31 for 1.8 s (its child crc32 from 100 to 1700 ms);
  // the fast one on thread 32 for 200 ms; the tiny one lasts 2 ms.
  writeFileSync(
    join(dir, 'spans.jsonl'),
    [
      otlpLine(SLOW, [
        { id: '00f067aa0ba902b7', name: 'GET /checkout', start: 0, end: 1800, tid: 31 },
        { id: 'b7ad6b7169203331', parent: '00f067aa0ba902b7', name: 'crc32', start: 100, end: 1700, tid: 31 },
      ]),
      otlpLine(FAST, [{ id: '1111111111111111', name: 'GET /health', start: 500, end: 700, tid: 32 }]),
      otlpLine(TINY, [{ id: '2222222222222222', name: 'GET /ping', start: 3000, end: 3002, tid: 33 }]),
    ].join('\n') + '\n',
  );
  const b = new ProfileBuilder([{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }], { period: 10_101_010, periodType: { type: 'cpu', unit: 'nanoseconds' } });
  const f = (name: string) => b.frameId({ name, module: 'checkout', kind: 'native' });
  const crc = b.stackId([f('crc32_update'), f('handle_checkout'), f('main')]);
  const parse = b.stackId([f('parse_json'), f('handle_checkout'), f('main')]);
  const health = b.stackId([f('health_check'), f('main')]);
  for (let t = 0; t < 1800; t += 10) b.addSample({ stack: t >= 100 && t < 1700 ? crc : parse, values: [1, 10_101_010], timeMs: T0 + t + 5, pid: 4242, tid: 31, thread: 'worker-1', process: 'checkout' });
  for (let t = 500; t < 700; t += 10) b.addSample({ stack: health, values: [1, 10_101_010], timeMs: T0 + t + 5, pid: 4242, tid: 32, thread: 'worker-2', process: 'checkout' });
  writeFileSync(join(dir, 'cpu.pb.gz'), encodePprof(b.build()));
});

function profctl(...args: string[]) {
  return spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
}
const window = ['--since', new Date(T0 - 60_000).toISOString(), '--until', new Date(T0 + 60_000).toISOString()];
const sources = () => ['--spans', join(dir, 'spans.jsonl'), '--input', join(dir, 'cpu.pb.gz')];

describe('profctl trace', () => {
  it('lists traces slowest first with samples and hottest function (--json)', () => {
    const r = profctl('trace', ...sources(), ...window, '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { traces: Array<Record<string, unknown>> };
    expect(out.traces.map((t) => t.traceId)).toEqual([SLOW, FAST, TINY]);
    expect(out.traces[0]).toMatchObject({ root: 'GET /checkout', service: 'checkout', durationMs: 1800, spans: 2, samples: 180, hottest: 'crc32_update' });
    expect(out.traces[1]).toMatchObject({ samples: 20, hottest: 'health_check' });
    expect(out.traces[2]).toMatchObject({ samples: 0, hottest: null });
  });

  it('prints a table and the next command', () => {
    const r = profctl('trace', ...sources(), ...window, '--min-duration', '1s');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(SLOW);
    expect(r.stdout).not.toContain(FAST);
    // The next command reads the same profile and spans; followed as printed, it draws the slow trace alone.
    const next = /^next: (.*)$/m.exec(r.stderr)?.[1];
    expect(next).toBe(`profctl flame --trace-id ${SLOW} --input ${join(dir, 'cpu.pb.gz')} --spans ${join(dir, 'spans.jsonl')}`);
    const [, ...argv] = splitCommandLine(next!);
    const flame = profctl(...argv, '--format', 'folded');
    expect(flame.status, flame.stderr).toBe(0);
    // 180 samples of the slow trace (as --json above counts them), in the cpu type's nanoseconds.
    const total = flame.stdout.trimEnd().split('\n').reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    expect(total).toBe(180 * 10_101_010);
    expect(flame.stdout).toMatch(/^worker-1;main;handle_checkout;crc32_update \d+$/m);
    expect(flame.stdout).not.toMatch(/health_check/);
  });

  it('shows one trace as a waterfall with per-span samples', () => {
    const r = profctl('trace', SLOW.toUpperCase(), ...sources(), '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.attribution).toEqual({ exact: 0, thread: 180, process: 0, ambiguous: 0 });
    expect(out.spans.map((s: { name: string; depth: number; samples: number; hottest: string }) => [s.name, s.depth, s.samples, s.hottest])).toEqual([
      ['GET /checkout', 0, 20, 'parse_json'],
      ['crc32', 1, 160, 'crc32_update'],
    ]);
    const text = profctl('trace', SLOW, ...sources());
    expect(text.stdout).toMatch(/GET \/checkout/);
    expect(text.stdout).toMatch(/ {2}crc32 .*160 samples, hottest crc32_update/);
    expect(text.stderr).toMatch(/samples: 180 \(exact 0, thread-time 180/);
  });

  it('says plainly when a trace is shorter than the sampling period', () => {
    const r = profctl('trace', TINY, ...sources());
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/shorter than the sampling period/);
  });

  it('an unknown trace is a clear error', () => {
    const r = profctl('trace', 'f'.repeat(32), ...sources());
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not found in OTLP JSON file/);
    expect(r.stderr).not.toMatch(/at .*\.js/);
  });

  it('a malformed id is a usage error', () => {
    const r = profctl('trace', 'xyz', ...sources());
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not a trace id/);
  });
});

describe('--trace-id joins against every span around the trace', () => {
  // Two requests overlap in one process whose spans carry no thread id: the
  // overlap belongs to neither for sure. Joining trace A alone would hand it
  // every sample of its window.
  const A = 'aa'.repeat(16);
  const B = 'bb'.repeat(16);
  const d = mkdtempSync(join(tmpdir(), 'profctl-trace-overlap-'));
  function line(traceId: string, spanId: string, start: number, end: number) {
    return JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }, { key: 'process.pid', value: { intValue: '5555' } }] },
          scopeSpans: [{ spans: [{ traceId, spanId, name: 'GET /x', kind: 2, startTimeUnixNano: String(BigInt(T0 + start) * 1_000_000n), endTimeUnixNano: String(BigInt(T0 + end) * 1_000_000n) }] }],
        },
      ],
    });
  }
  beforeAll(() => {
    writeFileSync(join(d, 'spans.jsonl'), `${line(A, 'a1'.repeat(8), 0, 100)}\n${line(B, 'b1'.repeat(8), 50, 150)}\n`);
    const b = new ProfileBuilder([{ type: 'samples', unit: 'count' }]);
    const st = b.stackId([b.frameId({ name: 'work', module: 'api', kind: 'native' })]);
    for (let t = 5; t < 150; t += 10) b.addSample({ stack: st, values: [1], timeMs: T0 + t, pid: 5555, tid: 1 });
    writeFileSync(join(d, 'cpu.pb.gz'), encodePprof(b.build()));
  });

  it('counts the overlap as ambiguous, for top and for the waterfall', () => {
    const args = ['--spans', join(d, 'spans.jsonl'), '--input', join(d, 'cpu.pb.gz')];
    const top = profctl('top', '--trace-id', A, ...args, '--json');
    expect(top.status, top.stderr).toBe(0);
    expect(top.stderr).toMatch(/samples: 5 \(exact 0, thread-time 0, process-time 5, ambiguous 0\); 5 ambiguous samples left out/);
    const inc = profctl('top', '--trace-id', A, ...args, '--include-ambiguous', '--json');
    expect(JSON.parse(inc.stdout).total).toBe(10);
    const wf = profctl('trace', A, ...args, '--json');
    expect(JSON.parse(wf.stdout).attribution).toEqual({ exact: 0, thread: 0, process: 5, ambiguous: 0 });
  });
});
