// Benchmark of `profctl slo` on a day of local spans — from an OTLP JSON file
// and from the agent's store — against `jq` merely counting the slow root
// spans of the same file (one window, no history) in the same run.
// The spans are generated here: one checkout request per second for 24 h
// (each a checkout server span and a payments child), the last 10 minutes
// slow, so the SLO pages and "burning since" walks back through history.
// Prints a markdown section for bench/RESULTS.md (with --append, appends it).
// Medians of several alternating runs; the machine is shared with other
// engineers, so single numbers are noisy.
import { spawnSync, execSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { openStoreWriter } = await import(join(root, 'dist/store/index.js'));
const { parseOtlpJson } = await import(join(root, 'dist/spans/otlp-json.js'));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const HOURS = 24;
const PER_LINE = 100;

const dir = mkdtempSync(join(tmpdir(), 'profctl-bench-slo-'));
const anchor = Date.now();
const total = HOURS * 3600;
const nanos = (ms) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
const hex = (n, w) => n.toString(16).padStart(w, '0');

async function writeSpans(path) {
  const out = createWriteStream(path);
  for (let first = total - 1; first >= 0; first -= PER_LINE) {
    const checkout = [];
    const payments = [];
    for (let k = first; k > first - PER_LINE && k >= 0; k--) {
      const end = anchor - k * 1000 - 500;
      const dur = k < 600 ? 700 + (k % 7) * 100 : 50 + (k % 13) * 10;
      const traceId = hex(k + 1, 32);
      checkout.push({ traceId, spanId: hex(2 * k + 1, 16), parentSpanId: '', name: 'POST /checkout', kind: 2, startTimeUnixNano: nanos(end - dur), endTimeUnixNano: nanos(end), attributes: [{ key: 'thread.id', value: { intValue: String(4200 + (k % 4)) } }], status: {} });
      payments.push({ traceId, spanId: hex(2 * k + 2, 16), parentSpanId: hex(2 * k + 1, 16), name: 'POST /charge', kind: 2, startTimeUnixNano: nanos(end - dur * 0.7), endTimeUnixNano: nanos(end - dur * 0.2), status: {} });
    }
    const res = (service, pid) => ({ attributes: [{ key: 'service.name', value: { stringValue: service } }, { key: 'process.pid', value: { intValue: String(pid) } }] });
    const line = JSON.stringify({ resourceSpans: [{ resource: res('checkout', 4100), scopeSpans: [{ spans: checkout }] }, { resource: res('payments', 5100), scopeSpans: [{ spans: payments }] }] });
    if (!out.write(`${line}\n`)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
}

const spansFile = join(dir, 'day.jsonl');
await writeSpans(spansFile);
const fileMB = statSync(spansFile).size / 1e6;

// The same spans in a store, in 10 s flush windows as the agent writes them.
const store = join(dir, 'store');
{
  const { readFileSync } = await import('node:fs');
  const spans = parseOtlpJson(readFileSync(spansFile, 'utf8'), spansFile).spans.sort((a, b) => a.endMs - b.endMs);
  const w = openStoreWriter(store, { durable: false, maxSizeBytes: 8 * 1024 ** 3 });
  let i = 0;
  while (i < spans.length) {
    const start = Math.floor(spans[i].endMs / 10_000) * 10_000;
    const batch = [];
    while (i < spans.length && spans[i].endMs < start + 10_000) batch.push(spans[i++]);
    w.appendSegment({ startMs: start, endMs: start + 10_000, spans: batch });
  }
  w.close();
}
writeFileSync(join(dir, 'slos.yaml'), 'slos:\n  - {name: checkout-latency, service: checkout, objective: 99.9, latency: 300ms, window: 30d}\n');

const bin = join(root, 'bin/profctl');
const commands = [
  { label: '`profctl slo --spans day.jsonl --json`', argv: [process.execPath, bin, 'slo', '--config', 'slos.yaml', '--spans', spansFile, '--json'], ok: [1] },
  { label: '`profctl slo --store store --json`', argv: [process.execPath, bin, 'slo', '--config', 'slos.yaml', '--store', store, '--json'], ok: [1] },
  {
    label: '`jq` counting slow checkout root spans (one window)',
    argv: ['jq', '-n', '[inputs | .resourceSpans[] | select(any(.resource.attributes[]; .key=="service.name" and .value.stringValue=="checkout")) | .scopeSpans[].spans[] | select(.kind==2 and .parentSpanId=="") | ((.endTimeUnixNano|tonumber) - (.startTimeUnixNano|tonumber)) > 300000000] | {total: length, bad: map(select(.)) | length}', spansFile],
    ok: [0],
  },
];

const times = commands.map(() => []);
for (let run = 0; run < RUNS; run++) {
  commands.forEach((c, i) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(c.argv[0], c.argv.slice(1), { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 26 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (!c.ok.includes(r.status)) throw new Error(`${c.label} exited ${r.status}: ${r.stderr}`);
    times[i].push(Math.round(ms));
  });
}
const medians = times.map(median);

const lines = [
  `## slo (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Machine: ${cpus().length} CPUs, ${execSync("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").toString().trim()}. Input: ${HOURS} h of one checkout request per second (${total} requests, ${2 * total} spans), the last 10 minutes slow: an OTLP JSON file of ${fileMB.toFixed(0)} MB, and the same spans in a store of 10 s segments (bench/slo.mjs).`,
  '',
  `| command | median of ${RUNS} (ms) | runs (ms) |`,
  '|---|---:|---|',
  ...commands.map((c, i) => `| ${c.label} | ${medians[i]} | ${times[i].join(', ')} |`),
  '',
  `profctl slo (file) / jq: **${(medians[0] / medians[2]).toFixed(2)}×**; profctl slo (store) / jq: **${(medians[1] / medians[2]).toFixed(2)}×** (below 1 is faster; profctl computes 8 windows and walks back through history, jq counts one window). Shared machine: numbers are noisy.`,
  '',
];
const text = lines.join('\n');
process.stdout.write(`${text}\n`);
if (process.argv.includes('--append')) appendFileSync(join(root, 'bench/RESULTS.md'), `\n${text}\n`);
rmSync(dir, { recursive: true, force: true });
