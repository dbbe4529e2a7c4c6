// A small Node HTTP service for test/system/trace-walk.test.ts, instrumented
// with the real OpenTelemetry JS SDK: every request gets a server span and a
// child span around its handler, exported over OTLP/protobuf to the URL in
// argv[2]. Each route burns CPU in its own, distinctly named JS function, for
// the milliseconds given in ?ms=. Node spans carry no OS thread id, so the
// spans have only the resource's process.pid: the process-time join.
// Prints "listening PORT" on stdout once ready; POST /flush exports what is
// queued. Usage: node --perf-basic-prof trace-walk-service.mjs OTLP_URL
import { createServer } from 'node:http';
import { context, trace, SpanKind } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';

const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'walk-shop', 'process.pid': process.pid }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: process.argv[2] }), { scheduledDelayMillis: 200 })],
});
const tracer = provider.getTracer('walk-shop');

// The CPU burners: plain loops, so the sampled leaf is the function itself.
function checksumCartItems(ms) {
  let x = 1;
  for (const end = process.cpuUsage().user + ms * 1000; process.cpuUsage().user < end; ) for (let i = 0; i < 200000; i++) x = (x * 31 + i) | 0;
  return x;
}
function rankSearchResults(ms) {
  let x = 7;
  for (const end = process.cpuUsage().user + ms * 1000; process.cpuUsage().user < end; ) for (let i = 0; i < 200000; i++) x = (x ^ (x << 5) ^ i) | 0;
  return x;
}
function buildQuarterlyReport(ms) {
  let x = 3;
  for (const end = process.cpuUsage().user + ms * 1000; process.cpuUsage().user < end; ) for (let i = 0; i < 200000; i++) x = (x + i * i) | 0;
  return x;
}
const routes = { '/checkout': checksumCartItems, '/search': rankSearchResults, '/report': buildQuarterlyReport };

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (req.method === 'POST' && url.pathname === '/flush') {
    provider.forceFlush().then(() => res.end('flushed\n'));
    return;
  }
  const work = routes[url.pathname];
  if (!work) {
    res.writeHead(404).end();
    return;
  }
  const span = tracer.startSpan(`GET ${url.pathname}`, { kind: SpanKind.SERVER, attributes: { 'http.route': url.pathname } });
  const ctx = trace.setSpan(context.active(), span);
  const handler = tracer.startSpan(work.name, { kind: SpanKind.INTERNAL }, ctx);
  const result = work(Number(url.searchParams.get('ms') ?? 20));
  handler.end();
  res.end(`${result}\n`);
  span.end();
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => provider.shutdown().finally(() => process.exit(0)));
