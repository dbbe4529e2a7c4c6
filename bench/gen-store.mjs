#!/usr/bin/env node
// Writes realistic store segments, as the agent would, for the store and
// `top --since` benchmarks: busy cores sampled at 99 Hz, 10 s windows, a few
// services with a few threads each, a few hundred distinct stacks 30–40 frames
// deep (a shared runtime prefix, branching call paths, some kernel frames at
// the leaf), Zipf-distributed hotness, per-CPU sample clocks with jitter.
// Seeded: the same arguments give the same store.
//
//   node bench/gen-store.mjs --dir /tmp/store [--segments 8640] [--cores 2]
//        [--hz 99] [--stacks 300] [--end-ms NOW] [--codec brotli] [--spans 0]
//        [--durable]   (fsync every write like the agent; off by default: speed)
//
// Library use: import { generateStore } from './gen-store.mjs'.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { seededRandom as rng } from '../test/support/seeded-random.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { openStoreWriter } = await import(pathToFileURL(path.join(here, '..', 'dist', 'store', 'index.js')).href);


const SERVICES = [
  { process: 'checkout', pid: 4242, module: '/usr/bin/node', kind: 'jit', threads: ['checkout', 'libuv-worker', 'libuv-worker', 'V8 Worker'] },
  { process: 'postgres', pid: 1811, module: '/usr/lib/postgresql/15/bin/postgres', kind: 'native', threads: ['postgres'] },
  { process: 'envoy', pid: 977, module: '/usr/local/bin/envoy', kind: 'native', threads: ['wrk:worker_0', 'wrk:worker_1', 'envoy'] },
];
const WORDS = ['Request', 'Handler', 'Dispatch', 'Buffer', 'Parse', 'Encode', 'Query', 'Executor', 'Hash', 'Tuple', 'Scan', 'Index', 'Session', 'Stream', 'Codec', 'Filter', 'Router', 'Cache', 'Pool', 'Alloc'];
const KERNEL = ['entry_SYSCALL_64_after_hwframe', 'do_syscall_64', '__x64_sys_read', 'ksys_read', 'vfs_read', 'sock_read_iter', 'tcp_recvmsg', 'tcp_recvmsg_locked', 'skb_copy_datagram_iter', '__x64_sys_futex', 'do_futex', 'futex_wait', 'schedule', '__schedule', 'asm_exc_page_fault', 'exc_page_fault', 'handle_mm_fault', 'clear_page_erms'];

/** Per service: its stacks (frames leaf first) and the Zipf weights of their hotness. */
function buildStacks(r, stackCount) {
  const perService = Math.max(1, Math.round(stackCount / SERVICES.length));
  return SERVICES.map((svc, si) => {
    const fname = (depth, branch) => {
      const a = WORDS[(depth * 7 + branch * 3 + si) % WORDS.length];
      const b = WORDS[(depth * 3 + branch * 11 + si * 5) % WORDS.length];
      return svc.kind === 'jit' ? `${a.toLowerCase()}${b} /app/src/${a.toLowerCase()}.js:${depth * 17 + branch}` : `${svc.process}::${a}${b}::run_${depth}_${branch}`;
    };
    const prefix = Array.from({ length: 8 }, (_, d) => ({ name: ['_start', '__libc_start_main', 'main', 'run_loop', 'event_loop_poll', 'process_events', 'dispatch_event', 'handle_event'][d] + (d > 2 ? `_${svc.process}` : ''), module: d < 2 ? '/usr/lib/x86_64-linux-gnu/libc.so.6' : svc.module, kind: 'native' }));
    const frameCache = new Map();
    const frame = (depth, branch) => {
      const key = `${depth}/${branch}`;
      let f = frameCache.get(key);
      if (!f) {
        f = { name: fname(depth, branch), module: svc.module, kind: svc.kind };
        frameCache.set(key, f);
      }
      return f;
    };
    const kernelFrames = KERNEL.map((name) => ({ name, module: '[kernel.kallsyms]', kind: 'kernel' }));
    const stacks = [];
    for (let s = 0; s < perService; s++) {
      const depth = 30 + Math.floor(r() * 11);
      const path = [...prefix];
      let branch = 0;
      for (let d = 0; d < depth - prefix.length; d++) {
        // Few choices near the root, more towards the leaves: call trees fan out.
        const fan = 1 + Math.floor(d / 4);
        branch = branch * 2 + Math.floor(r() * fan);
        branch %= 97;
        path.push(frame(d, branch));
      }
      if (r() < 0.25) {
        const k = Math.floor(r() * 3);
        const kstack = k === 0 ? kernelFrames.slice(0, 9) : k === 1 ? [...kernelFrames.slice(0, 2), ...kernelFrames.slice(9, 14)] : kernelFrames.slice(14, 18);
        path.push(...kstack); // outermost kernel frame first, like the rest of the root-first path
      }
      stacks.push(path.reverse()); // leaf first
    }
    const weights = stacks.map((_, i) => 1 / Math.pow(i + 1, 1.1));
    const total = weights.reduce((a, b) => a + b, 0);
    let acc = 0;
    const cdf = weights.map((w) => (acc += w / total));
    return { svc, stacks, cdf };
  });
}

function pick(cdf, x) {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One window's samples as a Profile, built the way a collector would intern them. */
function windowProfile(r, model, startMs, windowMs, cores, hz) {
  const frames = [];
  const frameIds = new Map();
  const stacks = [];
  const stackIds = new Map();
  const samples = [];
  const periodMs = 1000 / hz;
  for (let cpu = 0; cpu < cores; cpu++) {
    let t = startMs + r() * periodMs;
    let current = model[Math.floor(r() * model.length)];
    let thread = 0;
    while (t < startMs + windowMs) {
      // The scheduler keeps a thread on a CPU for a while: switch now and then.
      if (r() < 0.05) {
        current = model[Math.floor(r() * model.length)];
        thread = Math.floor(r() * current.svc.threads.length);
      }
      const si = pick(current.cdf, r());
      const key = `${current.svc.pid}/${si}`;
      let stack = stackIds.get(key);
      if (stack === undefined) {
        stack = stacks.length;
        stacks.push(current.stacks[si].map((f) => {
          let id = frameIds.get(f);
          if (id === undefined) {
            id = frames.length;
            frames.push(f);
            frameIds.set(f, id);
          }
          return id;
        }));
        stackIds.set(key, stack);
      }
      const svc = current.svc;
      samples.push({ stack, values: [1, Math.round(periodMs * 1e6)], timeMs: Math.round(t * 1000) / 1000, pid: svc.pid, tid: svc.pid + thread, thread: svc.threads[thread], process: svc.process });
      t += periodMs + (r() - 0.5) * 0.4;
    }
  }
  return {
    sampleTypes: [{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }],
    defaultSampleType: 'cpu',
    periodType: { type: 'cpu', unit: 'nanoseconds' },
    period: Math.round(periodMs * 1e6),
    frames,
    stacks,
    samples,
  };
}

function windowSpans(r, startMs, windowMs, n) {
  const spans = [];
  const hex = (len) => Array.from({ length: len }, () => Math.floor(r() * 16).toString(16)).join('');
  for (let i = 0; i < n; i++) {
    const s = startMs + r() * windowMs;
    spans.push({ traceId: hex(32), spanId: hex(16), name: 'GET /checkout', service: 'checkout', kind: 'server', startMs: s, endMs: s + 5 + r() * 200, status: r() < 0.01 ? 'error' : 'ok', pid: 4242, tid: 4242 + Math.floor(r() * 4), attributes: { 'http.route': '/checkout', 'http.status_code': 200 } });
  }
  return spans;
}

/** The windows an agent would flush: { startMs, endMs, profile, spans }, oldest first, ending at endMs. */
export function* generateWindows({ segments = 8640, cores = 2, hz = 99, stacks = 300, windowMs = 10_000, endMs = Date.now(), spansPerWindow = 0, seed = 7 }) {
  const r = rng(seed);
  const model = buildStacks(r, stacks);
  const firstMs = Math.floor(endMs / windowMs) * windowMs - segments * windowMs;
  for (let i = 0; i < segments; i++) {
    const startMs = firstMs + i * windowMs;
    const profile = windowProfile(r, model, startMs, windowMs, cores, hz);
    yield { startMs, endMs: startMs + windowMs, profile, spans: spansPerWindow ? windowSpans(r, startMs, windowMs, spansPerWindow) : undefined };
  }
}

export function generateStore({ dir, codec, level, durable = false, maxSizeBytes = 64 * 1024 ** 3, ...shape }) {
  const w = openStoreWriter(dir, { durable, codec, level, maxSizeBytes, retentionMs: 365 * 86_400_000 });
  let samples = 0;
  let segmentBytes = 0;
  let appendMs = 0;
  let firstMs;
  let lastMs;
  for (const win of generateWindows(shape)) {
    firstMs ??= win.startMs;
    lastMs = win.endMs;
    const t0 = performance.now();
    const res = w.appendSegment(win);
    appendMs += performance.now() - t0;
    samples += res.samples;
    segmentBytes += res.bytes;
  }
  w.close();
  return { firstMs, endMs: lastMs, samples, segmentBytes, appendMs };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const dir = opt('dir');
  if (!dir) {
    process.stderr.write('usage: node bench/gen-store.mjs --dir DIR [--segments 8640] [--cores 2] [--hz 99] [--stacks 300] [--codec brotli|deflate|none] [--spans N] [--durable]\n');
    process.exit(2);
  }
  fs.mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const res = generateStore({
    dir,
    segments: Number(opt('segments', 8640)),
    cores: Number(opt('cores', 2)),
    hz: Number(opt('hz', 99)),
    stacks: Number(opt('stacks', 300)),
    codec: opt('codec'),
    spansPerWindow: Number(opt('spans', 0)),
    durable: args.includes('--durable'),
    endMs: Number(opt('end-ms', Date.now())),
  });
  process.stderr.write(`wrote ${res.samples} samples in ${Number(opt('segments', 8640))} segments (${res.segmentBytes} segment bytes) to ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
