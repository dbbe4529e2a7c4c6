// The OTLP/HTTP receiver, fed by the real OpenTelemetry JS exporters (JSON
// and protobuf), and by hand-made bad requests.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { gzipSync } from 'node:zlib';
import { request } from 'node:http';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { startOtlpReceiver, parseListenAddress, type Receiver } from '../../src/spans/otlp-receiver.js';
import { decodeOtlpTraces } from '../../src/spans/otlp-proto.js';
import type { Span } from '../../src/spans/model.js';

let receiver: Receiver;
const received: Span[] = [];

beforeAll(async () => {
  receiver = await startOtlpReceiver({
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: 64 * 1024,
    onSpans: (s) => received.push(...s),
  });
});
afterAll(() => receiver.close());

function post(path: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const [host, port] = receiver.address.split(':');
    const req = request({ host, port: Number(port), path, method: 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function sendWith(exporter: ProtoExporter | JsonExporter, service: string): Promise<{ traceId: string; rootId: string; childId: string }> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'process.pid': 4242 }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('profctl-test');
  const root = tracer.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: new Date(1_700_000_000_000) });
  const ctx = (await import('@opentelemetry/api')).trace.setSpan((await import('@opentelemetry/api')).context.active(), root);
  const child = tracer.startSpan('crc32', { attributes: { 'thread.id': 77 }, startTime: new Date(1_700_000_000_010) }, ctx);
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  child.end(new Date(1_700_000_000_030));
  root.end(new Date(1_700_000_000_050));
  await provider.forceFlush();
  await provider.shutdown();
  return { traceId: root.spanContext().traceId, rootId: root.spanContext().spanId, childId: child.spanContext().spanId };
}

describe('OTLP receiver with the real OpenTelemetry exporters', () => {
  for (const [name, make] of [
    ['protobuf', () => new ProtoExporter({ url: `http://${receiver.address}/v1/traces` })],
    ['json', () => new JsonExporter({ url: `http://${receiver.address}/v1/traces` })],
    ['protobuf+gzip', () => new ProtoExporter({ url: `http://${receiver.address}/v1/traces`, compression: 'gzip' as never })],
  ] as const) {
    it(`receives spans sent as ${name}`, async () => {
      const service = `svc-${name}`;
      const ids = await sendWith(make(), service);
      const got = received.filter((s) => s.service === service);
      expect(got).toHaveLength(2);
      const root = got.find((s) => s.spanId === ids.rootId)!;
      const child = got.find((s) => s.spanId === ids.childId)!;
      expect(root).toMatchObject({ traceId: ids.traceId, name: 'GET /checkout', kind: 'server', pid: 4242, startMs: 1_700_000_000_000, endMs: 1_700_000_000_050 });
      expect(root.parentSpanId).toBeUndefined();
      expect(child).toMatchObject({ traceId: ids.traceId, parentSpanId: ids.rootId, name: 'crc32', kind: 'internal', tid: 77, status: 'error', startMs: 1_700_000_000_010, endMs: 1_700_000_000_030 });
    });
  }
});

describe('OTLP receiver with bad requests', () => {
  it('400 for a malformed protobuf body, replied in protobuf', async () => {
    const r = await post('/v1/traces', Buffer.from([0x0a, 0xff, 0xff, 0x01]), { 'content-type': 'application/x-protobuf' });
    expect(r.status).toBe(400);
    expect(r.type).toBe('application/x-protobuf');
  });
  it('400 for malformed JSON, replied in JSON with a message', async () => {
    const r = await post('/v1/traces', '{"resourceSpans": [', { 'content-type': 'application/json' });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body.toString()).message).toMatch(/malformed JSON/);
  });
  it('400 for a corrupt gzip body', async () => {
    const r = await post('/v1/traces', Buffer.from('not gzip at all'), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(r.status).toBe(400);
  });
  it('400 for an empty JSON body and for file-exporter lines: a request is one JSON object', async () => {
    expect((await post('/v1/traces', '', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await post('/v1/traces', '{}\n{}\n', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await post('/v1/traces', '{}', { 'content-type': 'application/json' })).status).toBe(200);
  });
  it('413 for an oversized body', async () => {
    const r = await post('/v1/traces', Buffer.alloc(100 * 1024, 0x20), { 'content-type': 'application/json' });
    expect(r.status).toBe(413);
  });
  it('413 for a gzip bomb', async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20));
    const r = await post('/v1/traces', bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(r.status).toBe(413);
  });
  it('415 for another content type, 404 elsewhere', async () => {
    expect((await post('/v1/traces', 'x', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('/v1/metrics', 'x', { 'content-type': 'application/json' })).status).toBe(404);
  });
  it('keeps serving after a fuzzed stream of bad bodies', async () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 200; i++) {
      const len = Math.floor(rnd() * 300);
      const body = Buffer.from(Array.from({ length: len }, () => Math.floor(rnd() * 256)));
      const proto = rnd() < 0.5;
      const r = await post('/v1/traces', body, { 'content-type': proto ? 'application/x-protobuf' : 'application/json' });
      expect([200, 400]).toContain(r.status);
    }
    const ids = await sendWith(new ProtoExporter({ url: `http://${receiver.address}/v1/traces` }), 'after-fuzz');
    expect(received.some((s) => s.spanId === ids.rootId)).toBe(true);
    expect(receiver.stats().badRequests).toBeGreaterThan(0);
  });
  it('the protobuf decoder never throws anything but its own error on random bytes', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 2000; i++) {
      const body = Uint8Array.from({ length: Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256));
      try {
        decodeOtlpTraces(body);
      } catch (e) {
        expect((e as Error).name).toBe('WireError');
      }
    }
  });
});

describe('parseListenAddress', () => {
  it.each([
    [undefined, { host: '127.0.0.1', port: 4318 }],
    ['127.0.0.1:5000', { host: '127.0.0.1', port: 5000 }],
    [':4319', { host: '127.0.0.1', port: 4319 }],
    ['[::1]:4318', { host: '::1', port: 4318 }],
    ['0.0.0.0:4318', { host: '0.0.0.0', port: 4318 }],
  ] as const)('%s', (text, want) => expect(parseListenAddress(text)).toEqual(want));
});
