// Jaeger and Tempo span sources against a local server replaying recorded
// responses of the documented shapes (see test/fixtures/spans/README.md).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { remoteSpanSource } from '../../src/spans/remote-sources.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/spans/${name}`, import.meta.url), 'utf8');
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const seen: string[] = [];
let server: Server;
let base: string;
let tempoForm = 'tempo-trace-batches.json';

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url!);
    const u = new URL(req.url!, 'http://x');
    const send = (body: string, status = 200) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
    if (u.pathname === `/api/v3/traces/${TRACE}`) return send(fixture('jaeger-v3-trace.json'));
    if (u.pathname === '/api/v3/traces') return send(fixture('jaeger-v3-trace.json'));
    if (u.pathname === '/api/v3/services') return send(fixture('jaeger-v3-services.json'));
    if (u.pathname === `/api/traces/${TRACE}`) return send(fixture(tempoForm));
    if (u.pathname === '/api/search') return send(fixture('tempo-search.json'));
    if (u.pathname === '/api/traces/badbadbadbadbadbadbadbadbadbadba') return send('upstream broke', 500);
    send('not found', 404);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function checkTrace(spans: Awaited<ReturnType<NonNullable<ReturnType<typeof remoteSpanSource>>['trace']>>) {
  expect(spans).toHaveLength(2);
  const root = spans.find((s) => !s.parentSpanId)!;
  expect(root).toMatchObject({ traceId: TRACE, spanId: '00f067aa0ba902b7', name: 'GET /checkout', service: 'checkout', kind: 'server', pid: 4242, tid: 31 });
  expect(root.endMs - root.startMs).toBeCloseTo(1840, 6);
  const child = spans.find((s) => s.parentSpanId)!;
  expect(child).toMatchObject({ parentSpanId: '00f067aa0ba902b7', kind: 'internal', status: 'error' });
}

describe('Jaeger /api/v3', () => {
  it('fetches one trace', async () => checkTrace(await remoteSpanSource(`jaeger+${base}`)!.trace(TRACE)));
  it('finds spans in a time range, asking per service', async () => {
    seen.length = 0;
    const spans = await remoteSpanSource(`jaeger+${base}`)!.spansInRange(1764037800000 - 1000, 1764037800000 + 10_000);
    expect(spans).toHaveLength(2);
    expect(seen.some((u) => u.startsWith('/api/v3/services'))).toBe(true);
    const q = new URL(seen.find((u) => u.startsWith('/api/v3/traces?'))!, 'http://x').searchParams;
    expect(q.get('query.service_name')).toBe('checkout');
    expect(q.get('query.start_time_min')).toBe(new Date(1764037800000 - 1000).toISOString());
  });
  it('an unknown trace is empty, not an error', async () => {
    expect(await remoteSpanSource(`jaeger+${base}`)!.trace('f'.repeat(32))).toEqual([]);
  });
});

describe('Tempo', () => {
  it('reads "batches" with base64 ids', async () => checkTrace(await remoteSpanSource(`tempo+${base}`)!.trace(TRACE)));
  it('reads the v2 "trace" wrapping', async () => {
    tempoForm = 'tempo-v2-trace.json';
    checkTrace(await remoteSpanSource(`tempo+${base}`)!.trace(TRACE));
    tempoForm = 'tempo-trace-batches.json';
  });
  it('searches, then fetches each trace (restoring leading zeros of ids)', async () => {
    const spans = await remoteSpanSource(`tempo+${base}`)!.spansInRange(1764037800000 - 1000, 1764037800000 + 10_000, { services: ['checkout'] });
    expect(spans).toHaveLength(2);
  });
  it('a server error is a remote error with the status', async () => {
    await expect(remoteSpanSource(`tempo+${base}`)!.trace('badbadbadbadbadbadbadbadbadbadba')).rejects.toMatchObject({ exitCode: 5, message: expect.stringMatching(/answered 500/) });
  });
  it('an unreachable server is a remote error', async () => {
    await expect(remoteSpanSource('tempo+http://127.0.0.1:9')!.trace(TRACE)).rejects.toMatchObject({ exitCode: 5, message: expect.stringMatching(/cannot reach/) });
  });
});

it('other strings are not remote sources', () => {
  expect(remoteSpanSource('spans.jsonl')).toBeUndefined();
  expect(() => remoteSpanSource('jaeger+http://[bad')).toThrow(/not a valid URL/);
});
