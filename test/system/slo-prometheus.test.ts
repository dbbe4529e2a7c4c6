// `profctl slo` against a REAL Prometheus: the test starts /usr/bin/prometheus
// on a free loopback port (temp config, 1 s scrapes, temp storage) scraping an
// exporter served by this test, whose counters grow at known rates:
//   http_requests_total{code="200"}  90 per second
//   http_requests_total{code="500"}  10 per second   → 10% errors
// Then: burn rates read through /api/v1/query match the ratio, the history
// read through /api/v1/query_range matches it too, and a Prometheus that is
// down, one that rejects a query and one that never answers each fail only
// their own SLO. Polls with bounded waits while Prometheus gathers data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { prometheusMeasure } from '../../src/slo/prometheus-sli.js';

const prometheusBin = '/usr/bin/prometheus';
const bin = resolve(__dirname, '../../bin/profctl');
const available = existsSync(prometheusBin);
if (!available && !process.env.CI) console.log(`skipping the Prometheus system tests: ${prometheusBin} is not installed (apt-get install prometheus)`);
const describeProm = available || process.env.CI ? describe : describe.skip;

const okPerSecond = 90;
const errorsPerSecond = 10;
const errorRatio = errorsPerSecond / (okPerSecond + errorsPerSecond);

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
}

let dir: string;
let exporter: Server;
let silent: Server;
let prometheus: ChildProcess | undefined;
let promLog = '';
let promUrl: string;
let downUrl: string;
let silentUrl: string;
let startedMs: number;

function listen(server: Server): Promise<number> {
  return new Promise((res) => server.listen(0, '127.0.0.1', () => res((server.address() as { port: number }).port)));
}

function profctl(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (!available) return;
  dir = mkdtempSync(join(tmpdir(), 'profctl-slo-prom-'));
  const exporterStart = Date.now();
  exporter = createHttpServer((req, res) => {
    const elapsed = (Date.now() - exporterStart) / 1000;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      [
        '# HELP http_requests_total Requests served.',
        '# TYPE http_requests_total counter',
        `http_requests_total{code="200"} ${Math.floor(okPerSecond * elapsed)}`,
        `http_requests_total{code="500"} ${Math.floor(errorsPerSecond * elapsed)}`,
        '',
      ].join('\n'),
    );
  });
  const exporterPort = await listen(exporter);
  // A server that accepts connections and never answers: the timeout case.
  silent = createHttpServer(() => {});
  silentUrl = `http://127.0.0.1:${await listen(silent)}`;
  downUrl = `http://127.0.0.1:${await freePort()}`;

  const promPort = await freePort();
  promUrl = `http://127.0.0.1:${promPort}`;
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: shop\n    static_configs:\n      - targets: ['127.0.0.1:${exporterPort}']\n`,
  );
  startedMs = Date.now();
  prometheus = spawn(prometheusBin, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  prometheus.stderr!.on('data', (d) => (promLog += d));
  prometheus.stdout!.on('data', (d) => (promLog += d));
  await until('Prometheus to be ready', 60_000, async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined));
  // Data: at least a few scrapes, so that rate() over every window has two samples.
  await until('scraped data', 60_000, async () => {
    const r = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('sum(rate(http_requests_total[5m]))')}`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
    const v = Number(r.data.result[0]?.value[1] ?? 0);
    return v > 0 ? v : undefined;
  });
  await new Promise((r) => setTimeout(r, 3000));
}, 150_000);

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    prometheus.kill('SIGTERM');
    await new Promise((r) => prometheus!.once('close', r));
  }
  exporter?.close();
  silent?.closeAllConnections?.();
  silent?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describeProm('profctl slo against a real Prometheus', () => {
  const config = () => `slos:
  - name: shop-availability
    service: shop
    objective: 99.9
    window: 30d
    prometheus:
      url: ${promUrl}
      good: sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))
      total: sum(rate(http_requests_total[{{.window}}]))
  - name: shop-lenient
    service: shop
    objective: 50
    window: 7d
    prometheus:
      url: ${promUrl}
      bad: sum(increase(http_requests_total{code=~"5.."}[{{.window}}]))
      total: sum(increase(http_requests_total[{{.window}}]))
  - name: prometheus-down
    service: shop
    objective: 99
    prometheus:
      url: ${downUrl}
      good: sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))
      total: sum(rate(http_requests_total[{{.window}}]))
  - name: bad-query
    service: shop
    objective: 99
    prometheus:
      url: ${promUrl}
      good: sum(rate(http_requests_total{code!~"5.."[{{.window}}]))
      total: sum(rate(http_requests_total[{{.window}}]))
  - name: prometheus-silent
    service: shop
    objective: 99
    prometheus:
      url: ${silentUrl}
      timeout: 1s
      good: sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))
      total: sum(rate(http_requests_total[{{.window}}]))
---
apiVersion: openslo/v1
kind: DataSource
metadata: {name: local-prom}
spec:
  type: Prometheus
  connectionDetails: {url: "${promUrl}"}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: shop-openslo}
spec:
  service: shop
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  indicator:
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {metricSourceRef: local-prom, spec: {query: 'http_requests_total{code="200"}'}}}
        total: {metricSource: {metricSourceRef: local-prom, spec: {query: 'http_requests_total'}}}
  objectives: [{target: 0.8}]
`;

  it('reads the exporter ratio through /api/v1/query, pages, and fails only the broken sources', () => {
    writeFileSync(join(dir, 'slos.yaml'), config());
    const r = profctl(['slo', '--config', 'slos.yaml', '--json']);
    if (r.code === null || r.code > 1) console.log(r.stderr, promLog);
    expect(r.code).toBe(1); // shop-availability pages
    const slos = Object.fromEntries((JSON.parse(r.stdout).slos as Array<Record<string, any>>).map((s) => [s.name, s]));

    const avail = slos['shop-availability']!;
    expect(avail.error).toBeUndefined();
    // 10% errors against a 0.1% budget: a burn of 100 in every window.
    for (const w of ['5m', '30m', '1h', '2h', '6h', '1d', '3d']) expect(avail.burnRates[w]).toBeGreaterThan(100 * 0.9), expect(avail.burnRates[w]).toBeLessThan(100 * 1.1);
    expect(avail.status).toBe('page');
    expect(avail.budgetRemaining).toBeLessThan(1 - 100 * 0.9);
    // Burning since: found through /api/v1/query_range; data exists only since the test began.
    const since = Date.parse(avail.burningSince);
    expect(since).toBeGreaterThanOrEqual(startedMs - 60_000);
    expect(since).toBeLessThanOrEqual(Date.now());
    expect(avail.next).toBeNull(); // availability: no trace command

    const lenient = slos['shop-lenient']!;
    expect(lenient.error).toBeUndefined();
    expect(lenient.burnRates['5m']).toBeCloseTo(errorRatio / 0.5, 1); // 0.2
    expect(lenient.status).toBe('ok');
    expect(lenient.burningSince).toBeNull();

    const openslo = slos['shop-openslo']!;
    expect(openslo.error).toBeUndefined();
    expect(openslo.objective).toBeCloseTo(80, 9);
    expect(openslo.burnRates['1h']).toBeCloseTo(errorRatio / 0.2, 1); // 0.5
    expect(openslo.status).toBe('ok');

    expect(slos['prometheus-down']).toMatchObject({ status: 'ok', budgetRemaining: null });
    expect(slos['prometheus-down']!.error).toMatch(/connection refused/);
    expect(slos['bad-query']!.error).toMatch(/Prometheus rejected the good query: bad_data: .*parse error/);
    expect(slos['prometheus-silent']!.error).toMatch(/did not answer within 1s/);
  });

  it('exit stays 0 when the only problems are failed sources', () => {
    writeFileSync(join(dir, 'calm.yaml'), config().replace(/ {2}- name: shop-availability[\s\S]*?(?= {2}- name: shop-lenient)/, ''));
    const r = profctl(['slo', '--config', 'calm.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/shop-lenient\s+50% avail \/7d\s+0\.2x\s+0\.2x\s+0\.2x\s+0\.2x\s+\S+\s+OK/);
    expect(r.stdout).toMatch(/prometheus-down\s+.*ERROR\s+-\n {2}error: Prometheus at http:\/\/127\.0\.0\.1:\d+: connection refused/);
    expect(r.stdout).toMatch(/bad-query\s+.*ERROR\s+-\n {2}error: Prometheus rejected the good query/);
  });

  it('reads history through /api/v1/query_range at the expected ratio', async () => {
    const measure = prometheusMeasure({
      kind: 'prometheus',
      url: promUrl,
      good: 'sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))',
      total: 'sum(rate(http_requests_total[{{.window}}]))',
      timeoutMs: 10_000,
    });
    // Both series (2xx and 5xx) need two scrapes each before rate() sees them;
    // until then a point can count every request as good. Poll (bounded) until
    // the newest point has settled, then judge the ratio of the settled points.
    let times: number[] = [];
    let counts: Array<Array<{ good: number; bad: number; total: number }>> = [];
    let now = 0;
    for (let i = 0; i < 40; i++) {
      now = Math.floor(Date.now() / 1000) * 1000;
      const step = 2000;
      const from = Math.max(now - 20 * step, Math.ceil((startedMs - 30_000) / step) * step);
      ({ times, counts } = await measure.history([5 * 60_000], now - Math.floor((now - from) / step) * step, now, step));
      const last = counts[counts.length - 1]![0]!;
      if (last.total > 0 && last.bad > 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(times[times.length - 1]).toBe(now);
    const withData = counts.map((c) => c[0]!).filter((c) => c.total > 0 && c.bad > 0);
    expect(withData.length).toBeGreaterThan(0);
    for (const c of withData.slice(-3)) expect(c.bad / c.total).toBeCloseTo(errorRatio, 1);
    // Before the exporter was scraped there is no traffic: 0, not NaN.
    const first = counts[0]![0]!;
    expect(Number.isNaN(first.total)).toBe(false);
  });
});
