// The load generator of `profctl demo`: sends requests to the demo service
// (demo/service.js) at a steady pace, cycling through /products, /cart and
// /checkout for a few customers, until it is stopped. On stop it prints one
// JSON line on stdout with what it sent. It must not send two requests at
// once: the service's spans carry no thread id, so profctl can tell which
// request a CPU sample belongs to only while one request at a time runs
// (a request that falls behind the pace delays the next, never overlaps it).
import { request } from 'node:http';

function argument(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const target = new URL(argument('target', 'http://127.0.0.1:8080'));
const perSecond = Number(argument('rate', '20'));
const paths = ['/products', '/cart', '/checkout'];

function get(path) {
  return new Promise((resolve) => {
    const req = request({ host: target.hostname, port: target.port, path, method: 'GET', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(10_000, () => req.destroy());
    req.end();
  });
}

const counts = { requests: 0, errors: 0, byPath: Object.fromEntries(paths.map((p) => [p, 0])) };
let running = true;

async function drive() {
  const intervalMs = 1000 / perSecond;
  for (let i = 0; running; i++) {
    const started = performance.now();
    const path = paths[i % paths.length];
    const status = await get(`${path}?customer=${1 + (i % 7)}`);
    counts.requests++;
    counts.byPath[path]++;
    if (status < 200 || status >= 400) counts.errors++;
    const left = intervalMs - (performance.now() - started);
    if (left > 0 && running) await new Promise((r) => setTimeout(r, left));
  }
}

const stop = () => {
  running = false;
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Leave when the parent goes away (its end of our stdin closes), even if it was killed.
process.stdin.on('end', stop).on('error', stop).resume();

await drive();
process.stdout.write(`${JSON.stringify(counts)}\n`);
process.exit(0);
