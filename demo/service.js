// The checkout service of `profctl demo`: a small HTTP service instrumented
// with the OpenTelemetry JS SDK, exporting its spans over OTLP/HTTP
// (protobuf) to the profctl agent's receiver. It serves /products, /cart and
// /checkout, and carries one planted performance regression that
// `POST /_demo/regression` switches on: computeLoyaltyDiscount starts
// recomputing the customer's points over a long order history on every
// checkout, burning CPU in that one named function.
//
// It must be run with `node --perf-basic-prof` so profctl can name its JIT
// frames. It is a demo, not a library: no dependency on profctl's code, and
// nothing here may need more than the OpenTelemetry packages.
//
// Spans carry the process pid (resource attribute process.pid) but no thread
// id — Node's spans have none to give — so profctl joins samples to spans by
// process and time. That join is only unambiguous while one request at a
// time runs in this process: the load generator (demo/load.js) sends its
// requests one after another for that reason.
import { createServer } from 'node:http';
import { trace, context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';

function argument(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const otlpUrl = argument('otlp', 'http://127.0.0.1:4318/v1/traces');
const serviceName = argument('service', 'checkout');
const port = Number(argument('port', '0'));
// The planted regression burns this much CPU time per checkout — a CPU time
// rather than an amount of work, so that the SLO's latency threshold is
// crossed on any machine, fast or slow, and profctl gets about the same number
// of samples of it however busy the machine is.
const regressionCpuMs = Number(argument('regression-cpu-ms', '200'));

const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': serviceName, 'process.pid': process.pid, 'process.runtime.name': 'nodejs' }),
  // A short export delay: the demo reads the spans back within seconds.
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: otlpUrl }), { scheduledDelayMillis: 500 })],
});
const tracer = provider.getTracer('profctl-demo');

let regressed = false;

/** Runs fn inside a child span of parent (contexts are passed by hand: no context manager is installed). */
async function inSpan(parent, name, fn) {
  const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL }, trace.setSpan(context.active(), parent));
  try {
    return await fn(span);
  } finally {
    span.end();
  }
}

/** Stands in for a database or payment call: time passes, no CPU is used here. */
function waitFor(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const catalog = Array.from({ length: 200 }, (_, i) => ({ sku: `sku-${i}`, name: `Item ${i}`, cents: 199 + ((i * 7919) % 5000) }));

function listProducts() {
  return catalog.filter((p) => p.cents % 3 !== 0).map((p) => ({ ...p, price: (p.cents / 100).toFixed(2) }));
}

function loadCart(customer) {
  const items = [];
  for (let i = 0; i < 5; i++) items.push({ ...catalog[(customer * 31 + i * 17) % catalog.length], quantity: 1 + (i % 3) });
  return items;
}

function priceCart(items) {
  return items.reduce((sum, item) => sum + item.cents * item.quantity, 0);
}

/**
 * The customer's loyalty discount in cents. Normally it looks at the last 20
 * orders. The planted regression makes it walk the whole order history again
 * on every checkout — the CPU burn profctl should find.
 */
function computeLoyaltyDiscount(customer, totalCents) {
  let points = 0;
  if (!regressed) {
    for (let order = 0; order < 20; order++) points += (customer * 2654435761 + order) % 97;
  } else {
    const start = process.cpuUsage();
    const cpuMs = () => {
      const used = process.cpuUsage(start);
      return (used.user + used.system) / 1000;
    };
    let order = 0;
    while (cpuMs() < regressionCpuMs) {
      for (let k = 0; k < 20000; k++, order++) points = (points + Math.imul(customer ^ order, 2654435761) + (order % 97)) >>> 0;
    }
    points %= 2000;
  }
  return Math.min(Math.floor(totalCents * 0.1), points);
}

async function handle(req, res, span) {
  const url = new URL(req.url, 'http://localhost');
  const customer = Number(url.searchParams.get('customer') ?? '1') || 1;
  if (req.method === 'POST' && url.pathname === '/_demo/regression') {
    regressed = url.searchParams.get('on') !== '0';
    process.stderr.write(`demo service: regression ${regressed ? 'planted' : 'removed'}\n`);
    return { status: 200, body: { regressed } };
  }
  if (url.pathname === '/products') {
    await inSpan(span, 'SELECT products', () => waitFor(3));
    return { status: 200, body: listProducts() };
  }
  if (url.pathname === '/cart') {
    const items = await inSpan(span, 'SELECT cart', async () => (await waitFor(2), loadCart(customer)));
    return { status: 200, body: { items, totalCents: priceCart(items) } };
  }
  if (url.pathname === '/checkout') {
    const items = await inSpan(span, 'SELECT cart', async () => (await waitFor(2), loadCart(customer)));
    const total = await inSpan(span, 'price cart', () => {
      const subtotal = priceCart(items);
      return subtotal - computeLoyaltyDiscount(customer, subtotal);
    });
    await inSpan(span, 'charge card', () => waitFor(8));
    return { status: 200, body: { customer, totalCents: total } };
  }
  return { status: 404, body: { error: 'not found' } };
}

const server = createServer((req, res) => {
  const route = new URL(req.url, 'http://localhost').pathname;
  const span = tracer.startSpan(`${req.method} ${route}`, {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': req.method, 'url.path': route },
  });
  req.resume();
  req.on('end', () => {
    handle(req, res, span).then(
      ({ status, body }) => {
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        span.end();
      },
      (err) => {
        span.recordException(err);
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
        res.writeHead(500).end();
        span.end();
      },
    );
  });
});

server.listen(port, '127.0.0.1', () => {
  // The one line on stdout: the parent reads the port from it.
  process.stdout.write(`${JSON.stringify({ listening: server.address().port, pid: process.pid })}\n`);
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeAllConnections?.();
  // Export the spans still buffered before leaving — but not for long: when the
  // agent is already gone the exporter would keep retrying.
  const exported = provider.shutdown().catch((e) => process.stderr.write(`demo service: exporting spans failed: ${e.message}\n`));
  await Promise.race([exported, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Leave when the parent goes away (its end of our stdin closes), even if it was killed.
process.stdin.on('end', stop).on('error', stop).resume();
