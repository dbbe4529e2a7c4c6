// Load and fuzz for profctl's OTLP/HTTP receiver, shared by
// bench/otlp-receiver.mjs (a minute at 2,000 spans/s) and
// test/system/otlp-receiver-load.test.ts (a few seconds). The load is real
// OpenTelemetry JS: a tracer provider whose batch processor hands spans to
// the OTLP/protobuf exporter; a counting wrapper records which spans the
// exporter reported as delivered. The fuzz sends malformed bodies of every
// kind a broken or hostile client could send. Nothing here asserts: callers
// judge the numbers.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const bin = path.join(root, 'bin', 'profctl');

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `profctl agent --otlp` on a free port; resolves once it listens. */
export async function startAgent({ store, flush = '1s', extra = [] }) {
  const port = await freePort();
  const child = spawn(bin, ['agent', '--store', store, '--flush', flush, '--otlp', `127.0.0.1:${port}`, '--quiet', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  for (let i = 0; i < 200 && !/OTLP on http/.test(stderr) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  if (!/OTLP on http/.test(stderr)) {
    child.kill('SIGKILL');
    throw new Error(`the agent did not start: ${stderr}`);
  }
  return {
    pid: child.pid,
    port,
    url: `http://127.0.0.1:${port}/v1/traces`,
    stderr: () => stderr,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    kill: () => child.kill('SIGKILL'),
  };
}

/**
 * Creates spansPerSecond spans a second for `seconds` with the real SDK and
 * exports them over OTLP/protobuf to url. Paced in 10 ms ticks; the batch
 * queue is large enough that the SDK itself never drops. Resolves once
 * everything is flushed, with the ids the exporter reported delivered.
 */
export async function runSpanLoad({ url, spansPerSecond, seconds, service = 'otlp-load' }) {
  const delivered = new Set();
  let failedSpans = 0;
  let exports = 0;
  const inner = new OTLPTraceExporter({ url, timeoutMillis: 10_000 });
  const counting = {
    export(spans, done) {
      exports++;
      inner.export(spans, (result) => {
        if (result.code === 0) for (const s of spans) delivered.add(s.spanContext().spanId);
        else failedSpans += spans.length;
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'process.pid': process.pid }),
    spanProcessors: [new BatchSpanProcessor(counting, { maxQueueSize: spansPerSecond * seconds + 1000, maxExportBatchSize: 512, scheduledDelayMillis: 200 })],
  });
  const tracer = provider.getTracer('profctl-otlp-load');
  const created = [];
  const t0 = performance.now();
  const tickMs = 10;
  const total = Math.round(spansPerSecond * seconds);
  while (created.length < total) {
    const due = Math.min(total, Math.round(((performance.now() - t0) / 1000) * spansPerSecond));
    while (created.length < due) {
      const span = tracer.startSpan(`GET /item/${created.length % 50}`, { kind: 1, attributes: { 'thread.id': process.pid, 'http.route': '/item/:id', n: created.length } });
      span.end();
      created.push(span.spanContext().spanId);
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  const createMs = performance.now() - t0;
  await provider.forceFlush();
  await provider.shutdown();
  return { created, delivered, failedSpans, exports, createMs, flushedMs: performance.now() - t0 };
}

function post(url, { body, headers }) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-length': body.length, ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve('reset'));
    });
    req.on('error', () => resolve('reset')); // a 413 may close the socket while the body is still going
    req.setTimeout(30_000, () => req.destroy());
    req.end(body);
  });
}

/** A valid ExportTraceServiceRequest, serialized by the OTel exporter's own serializer. */
function validProtobuf(n = 20) {
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'otlp-fuzz' }) });
  const spans = [];
  const tracer = provider.getTracer('fuzz');
  for (let i = 0; i < n; i++) {
    const s = tracer.startSpan(`fuzz ${i}`, { attributes: { i } });
    s.end();
    spans.push(s);
  }
  return Buffer.from(ProtobufTraceSerializer.serializeRequest(spans));
}

/** One gzip member of zeros repeated: ~1 GiB once inflated, ~1 MiB on the wire. */
function gzipBomb() {
  const member = gzipSync(Buffer.alloc(16 << 20), { level: 9 });
  return Buffer.concat(Array.from({ length: 64 }, () => member));
}

/** The kinds of malformed request, each a function of a seeded random source. */
export function fuzzCases() {
  const valid = validProtobuf();
  const validJson = Buffer.from(JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'x', startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }] }));
  const bomb = gzipBomb();
  const proto = { 'content-type': 'application/x-protobuf' };
  const json = { 'content-type': 'application/json' };
  return [
    ['random bytes as protobuf', () => ({ body: randomBytes(1 + Math.floor(Math.random() * 4096)), headers: proto })],
    ['truncated protobuf', () => ({ body: valid.subarray(0, 1 + Math.floor(Math.random() * (valid.length - 2))), headers: proto })],
    ['protobuf with flipped bytes', () => {
      const b = Buffer.from(valid);
      for (let i = 0; i < 8; i++) b[Math.floor(Math.random() * b.length)] ^= 1 << Math.floor(Math.random() * 8);
      return { body: b, headers: proto };
    }],
    ['protobuf sent as JSON', () => ({ body: valid, headers: json })],
    ['broken JSON', () => ({ body: validJson.subarray(0, Math.floor(Math.random() * validJson.length)), headers: json })],
    ['JSON of the wrong shape', () => ({ body: Buffer.from(JSON.stringify([{ resourceSpans: 'no' }, 1, null][Math.floor(Math.random() * 3)])), headers: json })],
    ['wrong content type', () => ({ body: validJson, headers: { 'content-type': ['text/plain', 'application/xml', 'multipart/form-data', ''][Math.floor(Math.random() * 4)] } })],
    ['gzip that is not gzip', () => ({ body: randomBytes(512), headers: { ...proto, 'content-encoding': 'gzip' } })],
    ['unknown content encoding', () => ({ body: valid, headers: { ...proto, 'content-encoding': 'br-or-something' } })],
    ['gzip bomb (1 GiB of zeros)', () => ({ body: bomb, headers: { ...proto, 'content-encoding': 'gzip' } })],
    ['body over the size limit', () => ({ body: Buffer.alloc(17 << 20, 0x41), headers: json })],
  ];
}

/** Sends malformed bodies round-robin until `until()` says stop; counts replies per case. */
export async function runFuzz({ url, until, pauseMs = 20 }) {
  const cases = fuzzCases();
  const replies = new Map();
  let sent = 0;
  for (let i = 0; !until(); i++) {
    const [name, make] = cases[i % cases.length];
    const status = await post(url, make());
    sent++;
    const m = replies.get(name) ?? new Map();
    m.set(status, (m.get(status) ?? 0) + 1);
    replies.set(name, m);
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  return { sent, replies };
}

/** Span ids of one service in the store (read after the agent stopped). */
export async function storedSpanIds(store, service) {
  const { openStoreReader } = await import(pathToFileURL(path.join(root, 'dist', 'store', 'index.js')).href);
  const spans = await openStoreReader(store).readSpans({ services: [service] });
  return spans.map((s) => s.spanId);
}
