// `profctl slo` end to end through bin/profctl (build first: npx tsc -p .):
// local spans from a generated OTLP file (the checkout incident pages),
// the --json shape, exit codes, definition errors, the lookup order, a
// Prometheus that refuses connections, and --watch appending on a pipe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateCheckoutLines } from '../fixtures/otlp/generate-checkout.mjs';
import { parseOtlpJson } from '../../src/spans/otlp-json.js';
import { openStoreWriter } from '../../src/store/index.js';

const bin = resolve(__dirname, '../../bin/profctl');
let dir: string;
let anchor: number;

function profctl(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: opts.cwd ?? dir, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...opts.env }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const config = `slos:
  - name: checkout-latency
    service: checkout
    objective: 99.9
    latency: 300ms
    window: 30d
  - name: payments-latency
    service: payments
    objective: 99
    latency: 2s
    window: 30d
  - name: api-availability
    service: api
    objective: 99.9
    window: 30d
    prometheus:
      url: http://127.0.0.1:9
      timeout: 2s
      good: sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))
      total: sum(rate(http_requests_total[{{.window}}]))
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'profctl-slo-cli-'));
  anchor = Date.now();
  writeFileSync(join(dir, 'spans.jsonl'), `${generateCheckoutLines(anchor).join('\n')}\n`);
  writeFileSync(join(dir, 'slos.yaml'), config);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('profctl slo on local spans', () => {
  it('--json: the documented shape, the incident pages, exit 1', () => {
    const r = profctl(['slo', '--config', 'slos.yaml', '--spans', 'spans.jsonl', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { slos: Array<Record<string, unknown>> };
    expect(Object.keys(out)).toEqual(['slos']);
    const [checkout, payments, api] = out.slos as Array<Record<string, any>>;
    expect(Object.keys(checkout!)).toEqual(['name', 'service', 'objective', 'burnRates', 'budgetRemaining', 'status', 'burningSince', 'next']);
    expect(Object.keys(checkout!.burnRates)).toEqual(['5m', '30m', '1h', '2h', '6h', '1d', '3d']);
    expect(checkout).toMatchObject({ name: 'checkout-latency', service: 'checkout', objective: 99.9, status: 'page' });
    // 5m: 30 of 30 slow; 1h: 60 of 360 (see the generator header)
    expect(checkout!.burnRates['5m']).toBeCloseTo(1000, 3);
    expect(checkout!.burnRates['1h']).toBeCloseTo(60 / 360 / 0.001, 3);
    expect(checkout!.budgetRemaining).toBeCloseTo(1 - 62 / 1080 / 0.001, 3);
    const since = Date.parse(checkout!.burningSince);
    expect(since).toBeGreaterThan(anchor - 10 * 60_000);
    expect(since).toBeLessThan(anchor - 8 * 60_000);
    expect(checkout!.next).toMatch(/^profctl trace --service checkout --since (\d\d:\d\d|\S+Z) --until now --slowest --spans spans\.jsonl$/);
    // payments' server spans take 50% of a checkout request: at most 900 ms, never over 2s
    expect(payments).toMatchObject({ status: 'ok', burningSince: null, next: null, budgetRemaining: 1 });
    expect(Object.values(payments!.burnRates)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(api).toMatchObject({ name: 'api-availability', status: 'ok', budgetRemaining: null });
    expect(api!.error).toMatch(/127\.0\.0\.1:9.*connection refused/);
  });

  it('table: PAGE, the next command, the failed source on its own row', () => {
    const r = profctl(['slo', '--config', 'slos.yaml', '--spans', 'spans.jsonl']);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+OBJECTIVE\s+BURN 5M\s+1H\s+6H\s+3D\s+BUDGET LEFT\s+STATUS\s+BURNING SINCE$/);
    const row = /^checkout-latency\s+99\.9% < 300ms \/30d\s+1000x\s+167x\s+57\.4x\s+57\.4x\s+-5641%\s+PAGE\s+((?:[A-Z][a-z]{2} \d\d )?)(\d\d:\d\d)$/.exec(lines[1]!);
    expect(row, lines[1]).not.toBeNull();
    // The burn began 8-10 minutes before the spans' anchor: the cell is that local clock
    // time, with the month and day in front only when that minute fell on another day
    // than today (a run just after midnight).
    const [, datePart, clock] = row!;
    const starts = [8, 9, 10].map((m) => new Date(anchor - m * 60_000));
    const hhmm = (d: Date) => `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    const start = starts.find((d) => hhmm(d) === clock);
    expect(start, `${clock} is not 8-10 minutes before ${new Date(anchor).toString()}`).toBeDefined();
    const sameDay = start!.toDateString() === new Date().toDateString();
    expect(datePart).toBe(sameDay ? '' : `${start!.toLocaleString('en-US', { month: 'short' })} ${String(start!.getDate()).padStart(2, '0')} `);
    expect(lines[2]).toMatch(/^ {2}next: profctl trace --service checkout --since \S+ --until now --slowest --spans spans\.jsonl$/);
    expect(lines[3]).toMatch(/^payments-latency\s+99% < 2s \/30d\s+0\.0x\s+0\.0x\s+0\.0x\s+0\.0x\s+100%\s+OK\s+-$/);
    expect(lines[4]).toMatch(/^api-availability\s+.*ERROR/);
    expect(lines[5]).toMatch(/^ {2}error: Prometheus at http:\/\/127\.0\.0\.1:9: connection refused/);
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  it('says "no traffic" for windows without requests, and exits 0 when nothing pages', () => {
    writeFileSync(join(dir, 'quiet.yaml'), 'slos:\n  - {name: idle, service: nobody, objective: 99, latency: 100ms}\n');
    const r = profctl(['slo', '--config', 'quiet.yaml', '--spans', 'spans.jsonl']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/idle\s+99% < 100ms \/30d\s+no traffic\s+no traffic\s+no traffic\s+no traffic\s+100%\s+OK/);
  });

  it('exit stays driven by the others when a source fails', () => {
    writeFileSync(join(dir, 'down.yaml'), config.replace(/ {2}- name: checkout-latency[\s\S]*?(?= {2}- name: payments)/, ''));
    const r = profctl(['slo', '--config', 'down.yaml', '--spans', 'spans.jsonl', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.slos.map((s: { name: string }) => s.name)).toEqual(['payments-latency', 'api-availability']);
    expect(out.slos[1].error).toMatch(/connection refused/);
  });
});

describe('profctl slo on the store', () => {
  it('reads the same spans from the agent store as from the file, and the next command names the store', () => {
    const store = join(dir, 'store');
    const spans = parseOtlpJson(generateCheckoutLines(anchor).join('\n'), 'gen').spans;
    const writer = openStoreWriter(store, { durable: false });
    // Ten-minute flush windows, as an agent would have written them.
    const first = Math.min(...spans.map((s) => s.startMs));
    for (let t = Math.floor(first / 600_000) * 600_000; t <= anchor; t += 600_000) {
      const inWindow = spans.filter((s) => s.endMs >= t && s.endMs < t + 600_000);
      if (inWindow.length) writer.appendSegment({ startMs: t, endMs: t + 600_000, spans: inWindow });
    }
    writer.close();
    const fromStore = profctl(['slo', '--config', 'slos.yaml', '--store', store, '--json']);
    const fromFile = profctl(['slo', '--config', 'slos.yaml', '--spans', 'spans.jsonl', '--json']);
    expect(fromStore.code).toBe(1);
    const a = JSON.parse(fromStore.stdout).slos[0];
    const b = JSON.parse(fromFile.stdout).slos[0];
    expect(a.burnRates).toEqual(b.burnRates);
    expect(a.budgetRemaining).toBe(b.budgetRemaining);
    expect(a.status).toBe('page');
    expect(a.next).toMatch(new RegExp(`--slowest --store ${store.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`));
  });

  it('a missing store fails only the local SLOs, with what to do', () => {
    const r = profctl(['slo', '--config', 'slos.yaml', '--store', join(dir, 'no-store'), '--json']);
    expect(r.code).toBe(0);
    const slos = JSON.parse(r.stdout).slos;
    expect(slos[0].error).toMatch(/no profile store at .*no-store \(start the agent, or pass --store DIR or --spans FILE\)/);
    expect(slos[2].error).toMatch(/connection refused/);
  });
});

describe('definitions', () => {
  it('an invalid definition: one line naming file, SLO and field, exit 2', () => {
    writeFileSync(join(dir, 'bad.yaml'), 'slos:\n  - name: checkout-latency\n    service: checkout\n    objective: 150\n');
    const r = profctl(['slo', '--config', 'bad.yaml', '--spans', 'spans.jsonl']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe('profctl: bad.yaml:4: SLO "checkout-latency": objective: must be a percentage above 0 and below 100, e.g. 99.9 (got 150)');
  });

  it('finds ./profctl.yaml, then $XDG_CONFIG_HOME/profctl/config.yaml; none → exit 2 with a hint', () => {
    const cwd = join(dir, 'cwd');
    const xdg = join(dir, 'xdg');
    mkdirSync(join(xdg, 'profctl'), { recursive: true });
    mkdirSync(cwd, { recursive: true });
    const spans = join(dir, 'spans.jsonl');
    const none = profctl(['slo', '--spans', spans], { cwd, env: { XDG_CONFIG_HOME: xdg } });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no SLO definitions found \(looked at .*profctl\.yaml, .*xdg\/profctl\/config\.yaml\)/);
    expect(none.stderr).toMatch(/hint:/);
    writeFileSync(join(xdg, 'profctl', 'config.yaml'), 'slos:\n  - {name: from-xdg, service: checkout, objective: 50, latency: 5s}\n');
    expect(JSON.parse(profctl(['slo', '--spans', spans, '--json'], { cwd, env: { XDG_CONFIG_HOME: xdg } }).stdout).slos[0].name).toBe('from-xdg');
    writeFileSync(join(cwd, 'profctl.yaml'), 'slos:\n  - {name: from-cwd, service: checkout, objective: 50, latency: 5s}\n');
    expect(JSON.parse(profctl(['slo', '--spans', spans, '--json'], { cwd, env: { XDG_CONFIG_HOME: xdg } }).stdout).slos[0].name).toBe('from-cwd');
  });

  it('a --spans file that is not OTLP is a usage error', () => {
    writeFileSync(join(dir, 'junk.jsonl'), 'not json\n');
    const r = profctl(['slo', '--config', 'slos.yaml', '--spans', 'junk.jsonl']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/junk\.jsonl: not OTLP trace JSON/);
  });
});

describe('--watch', () => {
  it('appends a frame per interval on a pipe until Ctrl-C', async () => {
    const child = spawn(process.execPath, [bin, 'slo', '--config', 'slos.yaml', '--spans', 'spans.jsonl', '--watch', '1s'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const frames = () => (out.match(/^--- \d{4}-/gm) ?? []).length;
    const deadline = Date.now() + 30_000;
    while (frames() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(frames()).toBeGreaterThanOrEqual(2);
    expect(out).not.toContain('\x1b[2J');
    expect(out.match(/checkout-latency .*PAGE/g)!.length).toBe(frames());
    expect(code).toBe(130);
  });

  it('clears and redraws in place on a terminal', async () => {
    if (!existsSync('/usr/bin/script')) {
      console.log('skipping the terminal --watch test: util-linux script(1) is not installed');
      return;
    }
    // script(1) gives profctl a pseudo-terminal, so stdout.isTTY is true.
    const cmd = `${process.execPath} ${bin} slo --config slos.yaml --spans spans.jsonl --watch 1s`;
    const child = spawn('/usr/bin/script', ['-qfec', cmd, '/dev/null'], { cwd: dir, env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const frames = () => out.split('\x1b[H\x1b[2J').length - 1;
    const deadline = Date.now() + 30_000;
    while (frames() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    await new Promise((r) => child.on('close', r));
    expect(frames()).toBeGreaterThanOrEqual(2);
    expect(out).toMatch(/profctl slo — \d\d:\d\d:\d\d — every 1s, Ctrl-C to stop/);
    expect(out).toMatch(/\x1b\[31m\x1b\[1mPAGE/); // coloured on a terminal
    expect(out).not.toMatch(/^--- /m);
  });

  it('refuses an unreadable interval', () => {
    const r = profctl(['slo', '--config', 'slos.yaml', '--spans', 'spans.jsonl', '--watch', 'often']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--watch: cannot read "often"/);
  });
});
