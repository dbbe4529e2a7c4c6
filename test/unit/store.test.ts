// The store's round trip: every sample field and every span field survive,
// stacks are shared across segments, queries open only overlapping segments,
// and the aggregate read agrees with the per-sample read.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openStoreReader, openStoreWriter, resolveStoreDir } from '../../src/store/index.js';
import { timeOrder } from '../../src/store/segment-codec.js';
import type { ColumnarProfile, SampleContext } from '../../src/profile/model.js';
import { flatSamples, makeFrames, makeProfile, makeSpans, useTempStoreDirs } from './store-fixtures.js';
import { segmentFiles } from '../support/store-files.js';

const T0 = Date.UTC(2025, 0, 15, 2, 0, 0);
const newDir = useTempStoreDirs();
afterEach(() => {
  vi.restoreAllMocks();
});

function tableBytes(dir: string): number {
  return fs.readdirSync(path.join(dir, 'tables')).reduce((n, f) => n + fs.statSync(path.join(dir, 'tables', f)).size, 0);
}

describe('store location', () => {
  it('takes the flag, then PROFCTL_STORE, then /var/lib/profctl', () => {
    const saved = process.env.PROFCTL_STORE;
    try {
      process.env.PROFCTL_STORE = '/tmp/from-env';
      expect(resolveStoreDir('/tmp/from-flag')).toBe('/tmp/from-flag');
      expect(resolveStoreDir()).toBe('/tmp/from-env');
      delete process.env.PROFCTL_STORE;
      expect(resolveStoreDir()).toBe('/var/lib/profctl');
    } finally {
      if (saved === undefined) delete process.env.PROFCTL_STORE;
      else process.env.PROFCTL_STORE = saved;
    }
  });

  it('refuses an empty --store (an unset variable in a script) instead of taking the default', () => {
    expect(() => resolveStoreDir('')).toThrow('--store: empty path');
  });

  it('says a file given as the store is not a directory, to the writer and to readers', () => {
    const file = path.join(os.tmpdir(), `profctl-not-a-store-${process.pid}`);
    fs.writeFileSync(file, 'x');
    try {
      for (const dir of [file, path.join(file, 'sub')]) {
        expect(() => openStoreWriter(dir)).toThrow(`cannot use ${dir} as the store: it or a part of its path is not a directory`);
        expect(() => openStoreReader(dir)).toThrow(`${dir} is not a profile store (it has no segments/ folder)`);
      }
      expect(fs.readFileSync(file, 'utf8')).toBe('x');
    } finally {
      fs.rmSync(file);
    }
  });
});

describe('store round trip', () => {
  it('stores a capture window given in columns exactly as the same samples given as a Profile', async () => {
    const p = makeProfile(T0, 800, 7);
    // Columns made here by hand: one context per distinct (pid, tid, thread, process, labels).
    const contexts: SampleContext[] = [];
    const ids = new Map<string, number>();
    const context = Int32Array.from(p.samples, (s) => {
      const c: SampleContext = { pid: s.pid, tid: s.tid, thread: s.thread, process: s.process, ...(s.labels ? { labels: s.labels } : {}) };
      const key = JSON.stringify(c);
      if (!ids.has(key)) ids.set(key, contexts.push(c) - 1);
      return ids.get(key)!;
    });
    const { samples, ...rest } = p;
    const columns: ColumnarProfile = {
      ...rest,
      count: samples.length,
      stack: Int32Array.from(samples, (s) => s.stack),
      time: Float64Array.from(samples, (s) => s.timeMs!),
      context,
      contexts,
      values: [1, 10_101_010],
    };
    const [a, b] = [newDir(), newDir()];
    const wa = openStoreWriter(a, { durable: false });
    const wb = openStoreWriter(b, { durable: false });
    const ra = wa.appendSegment({ startMs: T0, endMs: T0 + 10_000, columns });
    const rb = wb.appendSegment({ startMs: T0, endMs: T0 + 10_000, profile: p });
    wa.close();
    wb.close();
    expect(ra.file.slice(0, -13)).toBe(rb.file.slice(0, -13)); // the same time range and generation; the tail is random
    expect(fs.readFileSync(path.join(a, 'segments', ra.file))).toEqual(fs.readFileSync(path.join(b, 'segments', rb.file)));
    const read = await openStoreReader(a).readProfile({});
    expect(flatSamples(read)).toEqual(flatSamples(p));
  });

  it('keeps every sample field: time, pid, tid, thread, process, labels, stack, values', async () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false });
    const p1 = makeProfile(T0, 500, 1);
    const p2 = makeProfile(T0 + 10_000, 400, 2);
    w.appendSegment({ startMs: T0, endMs: T0 + 10_000, profile: p1 });
    w.appendSegment({ startMs: T0 + 10_000, endMs: T0 + 20_000, profile: p2 });
    w.close();
    const warnings: string[] = [];
    const r = openStoreReader(dir, { onWarning: (m) => warnings.push(m) });
    const got = await r.readProfile({});
    expect(warnings).toEqual([]);
    expect(got.samples).toHaveLength(900);
    expect(flatSamples(got)).toEqual([...flatSamples(p1), ...flatSamples(p2)].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)));
    expect(got.sampleTypes).toEqual(p1.sampleTypes);
    expect(got.defaultSampleType).toBe('cpu');
    expect(got.period).toBe(p1.period);
    expect(got.periodType).toEqual(p1.periodType);
    // Samples come back in time order.
    for (let i = 1; i < got.samples.length; i++) expect(got.samples[i]!.timeMs!).toBeGreaterThanOrEqual(got.samples[i - 1]!.timeMs!);
  });

  it('keeps per-sample values that differ, and fractional ones', async () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false, timeResolutionUs: 100 });
    const p = makeProfile(T0, 50, 3);
    p.samples.forEach((s, i) => (s.values = [i + 1, (i % 2 ? -1 : 1) * i * 1.5]));
    p.samples.forEach((s, i) => (s.timeMs = T0 + i * 7.3));
    w.appendSegment({ startMs: T0, endMs: T0 + 10_000, profile: p });
    w.close();
    const got = await openStoreReader(dir).readProfile();
    const byTime = [...p.samples].sort((a, b) => a.timeMs! - b.timeMs!);
    expect(got.samples.map((s) => s.values)).toEqual(byTime.map((s) => s.values));
    got.samples.forEach((s, i) => expect(s.timeMs!).toBeCloseTo(byTime[i]!.timeMs!, 1));
  });

  it('keeps per-sample trace context even when every sample has its own span', async () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false });
    const p = makeProfile(T0, 400, 4);
    p.samples.forEach((s, i) => (s.labels = { trace_id: `${i.toString(16).padStart(8, '0')}${'c'.repeat(24)}`, span_id: `${i.toString(16).padStart(16, '0')}`, span_name: 'GET /x', thread_weight: i % 3 }));
    w.appendSegment({ startMs: T0, endMs: T0 + 10_000, profile: p });
    w.close();
    const got = await openStoreReader(dir).readProfile();
    expect(flatSamples(got)).toEqual(flatSamples(p));
  });

  it('accepts plain samples with frames', async () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false });
    const frames = [{ name: 'leaf', module: 'a.out', kind: 'native' as const }, { name: 'main', module: 'a.out', kind: 'native' as const }];
    w.appendSegment({ startMs: T0, endMs: T0 + 10_000, samples: [{ timeMs: T0 + 5, pid: 7, tid: 8, thread: 't', process: 'p', values: [1], frames }] });
    w.close();
    const got = await openStoreReader(dir).readProfile();
    expect(got.samples).toHaveLength(1);
    expect(got.stacks[got.samples[0]!.stack]!.map((f) => got.frames[f]!.name)).toEqual(['leaf', 'main']);
    expect(got.samples[0]).toMatchObject({ timeMs: T0 + 5, pid: 7, tid: 8, thread: 't', process: 'p', values: [1] });
  });

  it('aggregate read sums the same values per thread and stack as the per-sample read', async () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false });
    for (let i = 0; i < 6; i++) w.appendSegment({ startMs: T0 + i * 10_000, endMs: T0 + (i + 1) * 10_000, profile: makeProfile(T0 + i * 10_000, 300, i + 10) });
    w.close();
    const r = openStoreReader(dir);
    // A range that cuts two segments in the middle: edges are filtered per sample.
    const q = { fromMs: T0 + 15_000, toMs: T0 + 42_000 };
    const full = await r.readProfile(q);
    const agg = await r.readProfile({ ...q, aggregate: true });
    const sum = (p: typeof full) => {
      const m = new Map<string, number>();
      for (const s of p.samples) {
        const k = JSON.stringify([p.stacks[s.stack]!.map((f) => p.frames[f]!.name), s.tid, s.labels ?? null]);
        m.set(k, (m.get(k) ?? 0) + s.values[1]!);
      }
      return [...m.entries()].sort();
    };
    expect(full.samples.every((s) => s.timeMs! >= q.fromMs && s.timeMs! <= q.toMs)).toBe(true);
    expect(agg.samples.every((s) => s.timeMs === undefined)).toBe(true);
    expect(agg.samples.length).toBeLessThan(full.samples.length);
    expect(sum(agg)).toEqual(sum(full));
  });

  it('filters by pid, comm and service', async () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false });
    w.appendSegment({ startMs: T0, endMs: T0 + 10_000, profile: makeProfile(T0, 300, 5) });
    w.close();
    const r = openStoreReader(dir);
    const all = await r.readProfile();
    const byPid = await r.readProfile({ pids: [101] });
    expect(byPid.samples.length).toBe(all.samples.filter((s) => s.pid === 101).length);
    expect(byPid.samples.length).toBeGreaterThan(0);
    const byComm = await r.readProfile({ comms: ['app102'] });
    expect(byComm.samples.every((s) => s.process === 'app102')).toBe(true);
    const byThread = await r.readProfile({ comms: ['worker-0'] });
    expect(byThread.samples.length).toBe(all.samples.filter((s) => s.thread === 'worker-0').length);
    const bySvc = await r.readProfile({ services: ['app100'], aggregate: true });
    expect(bySvc.samples.every((s) => s.process === 'app100')).toBe(true);
    expect((await r.readProfile({ services: ['nothing'] })).samples).toEqual([]);
  });
});

describe('sample time order', () => {
  // What a stable sort by time gives: the order segments store samples in.
  const reference = (time: number[]) => time.map((t, i) => ({ t, i })).sort((a, b) => a.t - b.t || a.i - b.i).map((x) => x.i);
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

  it('sorts a window whose CPUs met a little out of order, ties in arrival order', () => {
    const time = Array.from({ length: 3000 }, (_, i) => T0 + Math.floor(i / 3) * 5);
    for (let k = 0; k < 40; k++) {
      const i = 1 + Math.floor(random() * (time.length - 3));
      [time[i], time[i + 2]] = [time[i + 2]!, time[i]!];
    }
    expect([...timeOrder(time, time.length)]).toEqual(reference(time));
  });

  it('sorts input in any order (reversed, shuffled), past the nearly-sorted path', () => {
    const reversed = Array.from({ length: 2000 }, (_, i) => T0 - i);
    expect([...timeOrder(reversed, reversed.length)]).toEqual(reference(reversed));
    const shuffled = Array.from({ length: 2000 }, () => T0 + Math.floor(random() * 500));
    expect([...timeOrder(shuffled, shuffled.length)]).toEqual(reference(shuffled));
    expect([...timeOrder([], 0)]).toEqual([]);
  });
});

describe('shared tables', () => {
  it('a second segment with the same stacks adds nothing to the tables', () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false });
    const a = w.appendSegment({ startMs: T0, endMs: T0 + 10_000, profile: makeProfile(T0, 2000, 1) });
    const before = tableBytes(dir);
    const b = w.appendSegment({ startMs: T0 + 10_000, endMs: T0 + 20_000, profile: makeProfile(T0 + 10_000, 2000, 2) });
    expect(a.newStacks).toBeGreaterThan(0);
    expect(b.newFrames).toBe(0);
    expect(b.newStacks).toBe(0);
    expect(tableBytes(dir)).toBe(before);
    w.close();
  });

  it('dedup survives reopening the writer', () => {
    const dir = newDir();
    let w = openStoreWriter(dir, { durable: false });
    w.appendSegment({ startMs: T0, endMs: T0 + 10_000, profile: makeProfile(T0, 500, 1) });
    w.close();
    const before = tableBytes(dir);
    w = openStoreWriter(dir, { durable: false });
    const b = w.appendSegment({ startMs: T0 + 10_000, endMs: T0 + 20_000, profile: makeProfile(T0 + 10_000, 500, 2) });
    w.close();
    expect(b.newStacks).toBe(0);
    expect(tableBytes(dir)).toBe(before);
  });
});

describe('hour directories', () => {
  const H = 3_600_000;
  const window = (w: ReturnType<typeof openStoreWriter>, startMs: number, seed: number, spans?: ReturnType<typeof makeSpans>) =>
    w.appendSegment({ startMs, endMs: startMs + 10_000, profile: makeProfile(startMs, 20, seed), ...(spans ? { spans } : {}) }).file;

  it('puts each segment in the directory of the UTC hour it ends in, and lists a short window from the last ones only', async () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false, retentionMs: 365 * 86_400_000, now: () => T0 + 30 * H });
    // A day of hours, one window each; one window across 02:00; one whose span began six hours before it ended.
    for (let h = 0; h < 24; h++) window(w, T0 + h * H + 600_000, h + 1);
    const across = window(w, T0 - 5000, 99);
    const longSpan = makeSpans(T0 + 24 * H, 1);
    longSpan[0]!.startMs = T0 + 18 * H;
    const long = window(w, T0 + 24 * H, 100, longSpan);
    w.close();
    expect(across).toMatch(/^2025-01-15T02\/\d{13}-\d{13}-g1-[0-9a-f]+\.seg$/);
    expect(long.startsWith('2025-01-16T02/')).toBe(true);
    expect(fs.readdirSync(path.join(dir, 'segments')).sort()).toEqual(Array.from({ length: 25 }, (_, h) => new Date(T0 + h * H).toISOString().slice(0, 13)));
    const r = openStoreReader(dir);
    const readdir = vi.spyOn(fs, 'readdirSync');
    // The last 15 minutes of hour 23: its directory and the later one (the long segment), nothing older.
    const list = r.segments(T0 + 23 * H + 40 * 60_000, T0 + 23 * H + 55 * 60_000);
    const listed = readdir.mock.calls.map((c) => path.relative(path.join(dir, 'segments'), String(c[0])));
    readdir.mockRestore();
    expect(listed.sort()).toEqual(['', '2025-01-16T01', '2025-01-16T02']);
    expect(list.map((s) => s.file)).toEqual([long]);
    // The window of hour 23 itself (and the long segment, which began earlier), and a range before the stored data.
    expect(r.segments(T0 + 23 * H, T0 + 23 * H + 20 * 60_000).map((s) => s.file.slice(0, 13))).toEqual(['2025-01-16T02', '2025-01-16T01']);
    expect(r.segments(T0 - H, T0 - 10_000)).toEqual([]);
    // The whole store, read as one.
    expect((await r.readProfile()).samples).toHaveLength(26 * 20);
  });

  it('reads and evicts segments of the flat layout, and removes an hour directory with its last segment', async () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false, retentionMs: 365 * 86_400_000, now: () => T0 + 3 * H });
    const files = [window(w, T0, 1), window(w, T0 + 10_000, 2), window(w, T0 + H, 3), window(w, T0 + 2 * H, 4)];
    w.close();
    // The first two as a store written before hour directories holds them: directly in segments/.
    for (const f of files.slice(0, 2)) fs.renameSync(path.join(dir, 'segments', f), path.join(dir, 'segments', path.basename(f)));
    fs.rmdirSync(path.join(dir, 'segments', path.dirname(files[0]!)));
    const warnings: string[] = [];
    const r = openStoreReader(dir, { onWarning: (m) => warnings.push(m) });
    expect(r.segments().map((s) => s.file)).toEqual([path.basename(files[0]!), path.basename(files[1]!), files[2], files[3]]);
    expect((await r.readProfile()).samples).toHaveLength(80);
    expect(warnings).toEqual([]);
    // Retention takes the flat two and the first hour's segment; that hour's directory goes with it.
    const w2 = openStoreWriter(dir, { durable: false, retentionMs: 1.5 * H, now: () => T0 + 3 * H });
    expect(w2.enforceBounds().deletedSegments).toBe(3);
    w2.close();
    expect(segmentFiles(dir)).toEqual([files[3]]);
    expect(fs.readdirSync(path.join(dir, 'segments'))).toEqual([path.dirname(files[3]!)]);
  });

  it('goes back newest first an hour directory at a time, old flat-layout segments in their place', () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false, retentionMs: 365 * 86_400_000, now: () => T0 + 5 * H });
    const files: string[] = [];
    for (let i = 0; i < 4 * 6; i++) files.push(window(w, T0 + i * 10 * 60_000, i + 1));
    w.close();
    // Two of them as an older profctl left them, directly in segments/.
    for (const i of [3, 12]) {
      fs.renameSync(path.join(dir, 'segments', files[i]!), path.join(dir, 'segments', path.basename(files[i]!)));
      files[i] = path.basename(files[i]!);
    }
    const r = openStoreReader(dir);
    const all = [...r.segmentsNewestFirst()];
    expect(all.map((s) => s.file)).toEqual([...files].reverse());
    expect(all.every((s) => s.path === path.join(dir, 'segments', s.file))).toBe(true);
    // Taking the newest three lists the top of segments/ and the newest hour only.
    const readdir = vi.spyOn(fs, 'readdirSync');
    const first: string[] = [];
    for (const s of r.segmentsNewestFirst()) {
      first.push(s.file);
      if (first.length === 3) break;
    }
    const listed = readdir.mock.calls.map((c) => path.relative(path.join(dir, 'segments'), String(c[0])));
    readdir.mockRestore();
    expect(first).toEqual(files.slice(-3).reverse());
    expect(listed).toEqual(['', path.dirname(files.at(-1)!)]);
  });

  it('warns of a stale temp file or a stray name inside an hour directory; the writer removes the temp file at open', () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false });
    const file = window(w, T0, 1);
    w.close();
    const hour = path.join(dir, 'segments', path.dirname(file));
    const temp = path.join(hour, `.tmp-999-abcd-${path.basename(file)}`);
    const stray = path.join(hour, 'notes.txt');
    fs.writeFileSync(temp, 'half');
    fs.utimesSync(temp, new Date(Date.now() - H), new Date(Date.now() - H));
    fs.writeFileSync(stray, 'x');
    // An hour directory a crash left empty.
    fs.mkdirSync(path.join(dir, 'segments', '2025-01-15T01'));
    const warnings: string[] = [];
    expect(openStoreReader(dir, { onWarning: (m) => warnings.push(m) }).segments()).toHaveLength(1);
    expect(warnings.sort()).toEqual([`${stray}: not a segment file name; ignored`, `${temp}: leftover temporary file of an interrupted write; ignored`].sort());
    openStoreWriter(dir, { durable: false }).close();
    expect(fs.existsSync(temp)).toBe(false);
    expect(fs.existsSync(stray)).toBe(true);
    expect(fs.readdirSync(path.join(dir, 'segments'))).toEqual([path.dirname(file)]);
  });
});

describe('time-range selection', () => {
  it('opens only the segments that overlap the range', async () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false });
    const files: string[] = [];
    for (let i = 0; i < 10; i++) files.push(w.appendSegment({ startMs: T0 + i * 10_000, endMs: T0 + (i + 1) * 10_000, profile: makeProfile(T0 + i * 10_000, 50, i) }).file);
    w.close();
    const r = openStoreReader(dir);
    expect(r.segments(T0 + 25_000, T0 + 38_000).map((s) => s.file)).toEqual([files[2], files[3]]);
    const spy = vi.spyOn(fs, 'readFileSync');
    const p = await r.readProfile({ fromMs: T0 + 25_000, toMs: T0 + 38_000 });
    const opened = spy.mock.calls.map((c) => path.relative(path.join(dir, 'segments'), String(c[0]))).filter((f) => f.endsWith('.seg'));
    expect(opened.sort()).toEqual([files[2], files[3]].sort());
    expect(p.samples.length).toBeGreaterThan(0);
    spy.mockClear();
    await r.readSpans({ fromMs: T0 + 95_000, toMs: T0 + 200_000 });
    expect(spy.mock.calls.map((c) => path.relative(path.join(dir, 'segments'), String(c[0]))).filter((f) => f.endsWith('.seg'))).toEqual([files[9]]);
  });

  it('stats report size, range and gaps', () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false });
    w.appendSegment({ startMs: T0, endMs: T0 + 10_000, profile: makeProfile(T0, 50) });
    w.appendSegment({ startMs: T0 + 10_000, endMs: T0 + 20_000, profile: makeProfile(T0 + 10_000, 50) });
    w.appendSegment({ startMs: T0 + 60_000, endMs: T0 + 70_000, profile: makeProfile(T0 + 60_000, 50) });
    w.close();
    const st = openStoreReader(dir).stats();
    expect(st.segments).toBe(3);
    expect(st.oldestMs).toBe(T0);
    expect(st.newestMs).toBe(T0 + 70_000);
    expect(st.gaps).toEqual([{ fromMs: T0 + 20_000, toMs: T0 + 60_000 }]);
    expect(st.sizeBytes).toBeGreaterThan(st.tablesBytes);
  });
});

describe('spans', () => {
  it('round-trip every field and select by time, service and trace', async () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false });
    const spans = makeSpans(T0, 40);
    spans.push({ traceId: 'not-hex', spanId: 'x', name: 'odd ids', service: '', kind: 'internal', startMs: T0 - 5000, endMs: T0 + 1, status: 'unset' });
    w.appendSegment({ startMs: T0, endMs: T0 + 10_000, profile: makeProfile(T0, 10), spans });
    w.close();
    const r = openStoreReader(dir);
    const got = await r.readSpans({});
    expect(got).toHaveLength(spans.length);
    const sorted = [...spans].sort((a, b) => a.startMs - b.startMs);
    got.forEach((s, i) => {
      const want = sorted[i]!;
      expect({ ...s, startMs: 0, endMs: 0 }).toEqual({ ...want, startMs: 0, endMs: 0 });
      expect(s.startMs).toBeCloseTo(want.startMs, 3);
      expect(s.endMs).toBeCloseTo(want.endMs, 3);
    });
    // The segment's name covers the span that started before the window.
    expect(r.segments()[0]!.fromMs).toBe(T0 - 5000);
    expect((await r.readSpans({ services: ['checkout'] })).every((s) => s.service === 'checkout')).toBe(true);
    expect(await r.readSpans({ traceIds: [spans[3]!.traceId] })).toHaveLength(1);
    expect((await r.readSpans({ traceIds: ['not-hex', spans[5]!.traceId] })).map((s) => s.traceId).sort()).toEqual(['not-hex', spans[5]!.traceId].sort());
    expect(await r.readSpans({ traceIds: ['f'.repeat(32)] })).toEqual([]);
    expect(await r.readSpans({ fromMs: T0 + 1000, toMs: T0 + 1200 })).toHaveLength(2);
  });
});

describe('the size cap across table generations', () => {
  it('counts an older generation’s tables freed with its last segment, so the newest data stays', () => {
    const dir = newDir();
    const dirSize = () => {
      let n = 0;
      for (const f of segmentFiles(dir)) n += fs.statSync(path.join(dir, 'segments', f)).size;
      for (const f of fs.readdirSync(path.join(dir, 'tables'))) n += fs.statSync(path.join(dir, 'tables', f)).size;
      return n;
    };
    // Every append starts a new generation (tiny table limit), each with its own frames.
    const opts = { durable: false, maxTableBytes: 1, retentionMs: 365 * 86_400_000, now: () => T0 + 3_600_000 };
    const fill = openStoreWriter(dir, { ...opts, maxSizeBytes: 1 << 30 });
    for (let i = 0; i < 6; i++) fill.appendSegment({ startMs: T0 + i * 10_000, endMs: T0 + (i + 1) * 10_000, profile: makeProfile(T0 + i * 10_000, 300, i + 1, 20, makeFrames(80, `gen${i}_`)) });
    fill.close();
    const newestFile = segmentFiles(dir).at(-1)!;
    // A cap that the newest segment and its tables fit under, with room for one more.
    const cap = Math.floor(dirSize() / 3);
    const w = openStoreWriter(dir, { ...opts, maxSizeBytes: cap });
    const r = w.enforceBounds();
    w.close();
    expect(r.deletedSegments).toBeGreaterThan(0);
    expect(r.sizeBytes).toBe(dirSize());
    expect(r.sizeBytes).toBeLessThanOrEqual(cap);
    expect(segmentFiles(dir)).toContain(newestFile);
  });
});
