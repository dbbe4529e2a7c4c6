// Small, seeded inputs for the store tests: profiles whose samples carry every
// field the store keeps, and spans.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { Frame, Profile, Sample } from '../../src/profile/model.js';
import { openStoreWriter } from '../../src/store/index.js';
import type { Span } from '../../src/spans/model.js';
import { seededRandom as rng } from '../support/seeded-random.mjs';
export { rng };

export function tempStoreDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'profctl-store-test-'));
}

/** A maker of temporary store directories that are removed after each test. */
export function useTempStoreDirs(): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = tempStoreDir();
    dirs.push(d);
    return d;
  };
}


export function makeFrames(n: number, prefix = 'fn'): Frame[] {
  const frames: Frame[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 7 === 0 ? 'kernel' : i % 5 === 0 ? 'jit' : 'native';
    const f: Frame = { name: `${prefix}_${i}`, module: kind === 'kernel' ? '[kernel]' : `/usr/lib/lib${i % 3}.so`, kind };
    if (i % 4 === 0) f.file = `src/file${i}.c`;
    if (i % 4 === 0) f.line = i * 3;
    if (i % 6 === 0) f.rawName = `_Z${prefix}${i}v`;
    if (i % 9 === 0) f.inline = true;
    frames.push(f);
  }
  return frames;
}

/** A window's profile: `n` samples over [startMs, startMs + 10 s) from `stackCount` stacks. */
export function makeProfile(startMs: number, n: number, seed = 1, stackCount = 20, frames = makeFrames(60)): Profile {
  const r = rng(seed);
  const stacks: number[][] = [];
  const sr = rng(1234); // same stacks whatever the seed
  for (let s = 0; s < stackCount; s++) {
    const depth = 3 + Math.floor(sr() * 10);
    stacks.push(Array.from({ length: depth }, () => Math.floor(sr() * frames.length)));
  }
  const samples: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const pid = 100 + Math.floor(r() * 3);
    const tid = pid * 10 + Math.floor(r() * 3);
    const s: Sample = {
      stack: Math.floor(r() * stackCount),
      values: [1, 10_101_010],
      timeMs: startMs + Math.floor(r() * 10_000),
      pid,
      tid,
      thread: `worker-${tid % 10}`,
      process: `app${pid}`,
    };
    if (r() < 0.2) s.labels = { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7' };
    samples.push(s);
  }
  return {
    sampleTypes: [
      { type: 'samples', unit: 'count' },
      { type: 'cpu', unit: 'nanoseconds' },
    ],
    defaultSampleType: 'cpu',
    periodType: { type: 'cpu', unit: 'nanoseconds' },
    period: 10_101_010,
    frames,
    stacks,
    samples,
  };
}

export function makeSpans(startMs: number, n: number): Span[] {
  const spans: Span[] = [];
  for (let i = 0; i < n; i++) {
    const span: Span = {
      traceId: (Math.floor(startMs).toString(16) + i.toString(16).padStart(4, '0') + 'a'.repeat(32)).slice(0, 32),
      spanId: (Math.floor(startMs).toString(16) + i.toString(16).padStart(4, '0') + 'b'.repeat(16)).slice(0, 16),
      name: `GET /item/${i % 3}`,
      service: i % 2 ? 'checkout' : 'cart',
      kind: 'server',
      startMs: startMs + i * 100 + 0.25,
      endMs: startMs + i * 100 + 50.5,
      status: i % 4 === 0 ? 'error' : 'ok',
      pid: 101,
      tid: 1011,
      attributes: { 'http.status_code': 200, 'http.route': '/item/:id', sampled: true, ratio: 0.5 },
    };
    if (i > 0) span.parentSpanId = (Math.floor(startMs).toString(16) + (i - 1).toString(16).padStart(4, '0') + 'b'.repeat(16)).slice(0, 16);
    spans.push(span);
  }
  return spans;
}

/** Every sample of a profile as a comparable record (frames by value, not id). */
export function flatSamples(p: Profile): unknown[] {
  return p.samples
    .map((s) => ({
      frames: p.stacks[s.stack]!.map((f) => p.frames[f]),
      values: s.values,
      timeMs: s.timeMs,
      pid: s.pid,
      tid: s.tid,
      thread: s.thread,
      process: s.process,
      labels: s.labels,
    }))
    .sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
}

/** An hour of older data in a store: `count` 10 s segments of `samples` samples each, one a minute, ending before now. */
export function writeOlderSegments(dir: string, count: number, samples: number): void {
  const writer = openStoreWriter(dir, { durable: false });
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const start = now - 60 * 60_000 + i * 60_000;
    writer.appendSegment({ startMs: start, endMs: start + 10_000, profile: makeProfile(start, samples, i + 1, 40) });
  }
  writer.close();
}
