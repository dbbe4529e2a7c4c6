#!/usr/bin/env node
// What the store's part of one agent flush costs as the store fills: writing
// a 10 s window's segment and enforcing the bounds, on a new store, on one
// holding a day of 10 s segments and on one holding a week (the default
// retention: 60,480 segments). The retention is set so that every flush also
// ages one segment out, as in a full store's steady state. The agent's node
// flags (the launcher's, for `agent`) and no fsync: the fsyncs cost the same
// whatever the store holds, and this measures what grows with it.
//
//   node bench/store-flush.mjs [--flushes 40]   (runs itself again with the agent's V8 flags)
// Prints a markdown section on stdout.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './stats.mjs';

// The V8 flags the launcher gives `agent` (bin/profctl), so the numbers are the agent's.
const launcher = fs.readFileSync(new URL('../bin/profctl', import.meta.url), 'utf8');
const AGENT_FLAGS = /agent\) set -- (.*?) "\$0"/.exec(launcher)?.[1].split(' ') ?? [];
if (!AGENT_FLAGS.includes('--max-opt=1')) throw new Error('bench/store-flush.mjs: cannot find the agent\'s flags in bin/profctl');
if (!process.execArgv.includes('--max-opt=1')) {
  const r = spawnSync(process.execPath, [...AGENT_FLAGS, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = (p) => pathToFileURL(path.join(here, '..', 'dist', p)).href;
const { openStoreWriter } = await import(dist('store/index.js'));
const { segmentFileName, segmentHourDir } = await import(dist('store/layout.js'));

const args = process.argv.slice(2);
const flushes = Number(args[args.indexOf('--flushes') + 1] || 40);
const WINDOW = 10_000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'profctl-bench-flush-'));
const cpuMs = (c) => (c.user + c.system) / 1000;

/** A window of 2,000 samples (two busy cores at 99 Hz for 10 s) on four threads and 20 stacks, as a Profile. */
const frames = Array.from({ length: 40 }, (_, i) => ({ name: `fn${i}`, module: '/usr/bin/app' }));
const stacks = Array.from({ length: 20 }, (_, k) => Array.from({ length: 8 + (k % 13) }, (_, d) => (k + d) % frames.length));
function window(startMs) {
  const samples = [];
  for (let i = 0; i < 2000; i++) samples.push({ stack: (i * 7) % stacks.length, values: [1, 10_101_010], timeMs: startMs + i * 5, pid: 4242, tid: 4242 + (i % 4), thread: `worker-${i % 4}`, process: 'app' });
  const profile = { sampleTypes: [{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }], frames, stacks, samples };
  return { startMs, endMs: startMs + WINDOW, profile };
}

/** A store with `n` segments of 10 s ending at `endMs` (copies of one real segment: only their number matters here). */
function makeStore(dir, n, endMs) {
  const w = openStoreWriter(dir, { durable: false });
  const first = w.appendSegment(window(endMs - (n + 1) * WINDOW));
  w.close();
  const segments = path.join(dir, 'segments');
  const bytes = fs.readFileSync(path.join(segments, first.file));
  for (let i = 0; i < n; i++) {
    const from = endMs - (n - i) * WINDOW;
    const hour = path.join(segments, segmentHourDir(from + WINDOW));
    fs.mkdirSync(hour, { recursive: true });
    fs.writeFileSync(path.join(hour, segmentFileName(from, from + WINDOW, first.generation)), bytes);
  }
}

const rows = [];
for (const [label, n] of [['new store', 0], ['a day of segments (8,640)', 8640], ['a week of segments (60,480)', 60480]]) {
  const dir = path.join(tmp, `s${n}`);
  let now = Date.now();
  makeStore(dir, n, now);
  // Retention: what the store holds, so each flush ages the oldest segment out.
  const w = openStoreWriter(dir, { durable: false, retentionMs: Math.max(n, 1) * WINDOW, now: () => now });
  const append = [];
  const bounds = [];
  let deleted = 0;
  for (let i = 0; i < flushes; i++) {
    const data = window(now);
    now += WINDOW;
    const c0 = process.cpuUsage();
    w.appendSegment(data);
    const c1 = process.cpuUsage();
    deleted += w.enforceBounds(now).deletedSegments;
    const c2 = process.cpuUsage();
    // The first flushes load code and warm the tables; the agent's steady state is what counts.
    if (i >= flushes / 4) {
      append.push(cpuMs(c1) - cpuMs(c0));
      bounds.push(cpuMs(c2) - cpuMs(c1));
    }
  }
  w.close();
  rows.push(`| ${label} | ${median(append).toFixed(2)} ms | ${median(bounds).toFixed(3)} ms | ${deleted} |`);
  fs.rmSync(dir, { recursive: true, force: true });
}
fs.rmSync(tmp, { recursive: true, force: true });

const cpu = (os.cpus()[0]?.model ?? 'unknown').trim();
console.log(
  [
    `### The store's part of a flush as the store fills (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Machine: ${os.cpus().length} CPUs, ${cpu}, Node ${process.version}. Command: \`node bench/store-flush.mjs --flushes ${flushes}\` (it runs with the agent's V8 flags: ${AGENT_FLAGS.join(' ')}). CPU of the flush's calls (process.cpuUsage), medians of the last ${flushes - Math.floor(flushes / 4)} of ${flushes} flushes of 2,000 samples; no fsync.`,
    '',
    '| store holds | writing the segment | enforcing the bounds | segments aged out |',
    '|---|---:|---:|---:|',
    ...rows,
  ].join('\n'),
);
