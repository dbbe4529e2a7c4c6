// What must hold when things go wrong: leftover temp files, truncated and
// corrupt segments, unknown versions, torn table appends, the bounds, and the
// permissions of everything the store creates.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../src/errors.js';
import { openStoreReader, openStoreWriter, readAgentStatus, writeAgentStatus } from '../../src/store/index.js';
import type { AppendResult } from '../../src/store/writer.js';
import { makeFrames, makeProfile, makeSpans, useTempStoreDirs } from './store-fixtures.js';
import { segmentFiles, tempFiles } from '../support/store-files.js';

const T0 = Date.UTC(2025, 0, 15, 2, 0, 0);
const newDir = useTempStoreDirs();

/** A store with `n` 10 s segments of `samples` samples each; returns their file names. */
function fill(dir: string, n: number, samples = 200, opts = {}): string[] {
  const w = openStoreWriter(dir, { durable: false, ...opts });
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const startMs = T0 + i * 10_000;
    files.push(w.appendSegment({ startMs, endMs: startMs + 10_000, profile: makeProfile(startMs, samples, i + 1), spans: makeSpans(startMs, 5) }).file);
  }
  w.close();
  return files;
}

async function readAll(dir: string) {
  const warnings: string[] = [];
  const r = openStoreReader(dir, { onWarning: (m) => warnings.push(m) });
  const profile = await r.readProfile();
  const spans = await r.readSpans();
  return { profile, spans, warnings };
}


describe('atomicity and corruption', () => {
  it('ignores a leftover temp file and skips a truncated segment, naming it', async () => {
    const dir = newDir();
    const files = fill(dir, 3);
    const seg = path.join(dir, 'segments');
    const temp = path.join(seg, '.tmp-999-abcd-1736906400000-1736906410000-g1-0.seg');
    fs.writeFileSync(temp, 'half a segment');
    fs.utimesSync(temp, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    const victim = path.join(seg, files[1]!);
    fs.truncateSync(victim, Math.floor(fs.statSync(victim).size / 2));
    const { profile, spans, warnings } = await readAll(dir);
    expect(profile.samples).toHaveLength(400);
    expect(spans).toHaveLength(10);
    expect(warnings.some((w) => w.includes(temp) && w.includes('temporary'))).toBe(true);
    expect(warnings.some((w) => w.includes(victim) && w.includes('skipped'))).toBe(true);
  });

  it('skips a segment with flipped bytes wherever they are', async () => {
    const dir = newDir();
    const files = fill(dir, 2);
    const victim = path.join(dir, 'segments', files[0]!);
    const original = fs.readFileSync(victim);
    // Every region: header, META, ROWS, SAMPLES, SPANS.
    for (let at = 0; at < original.length; at += Math.max(1, Math.floor(original.length / 40))) {
      const bytes = Buffer.from(original);
      bytes[at] = bytes[at]! ^ 0x5a;
      fs.writeFileSync(victim, bytes);
      const { profile, spans, warnings } = await readAll(dir);
      expect(warnings.some((w) => w.includes(victim))).toBe(true);
      // Sections are checked separately: a flip in SPANS loses that segment's spans, not its samples.
      // Either the victim's samples or its spans (or both) are gone; the other segment is whole.
      expect([200, 400], `flip at ${at}`).toContain(profile.samples.length);
      expect([5, 10], `flip at ${at}`).toContain(spans.length);
      expect(profile.samples.length === 400 && spans.length === 10, `flip at ${at}`).toBe(false);
    }
  });

  it('skips a segment of an unknown format version, saying so', async () => {
    const dir = newDir();
    const files = fill(dir, 2);
    const victim = path.join(dir, 'segments', files[1]!);
    const bytes = fs.readFileSync(victim);
    bytes[4] = 99;
    fs.writeFileSync(victim, bytes);
    const { profile, warnings } = await readAll(dir);
    expect(profile.samples).toHaveLength(200);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(victim);
    expect(warnings[0]).toContain('version 99');
  });

  it('recovers from a torn table append: the writer cuts it, readers ignore it', async () => {
    const dir = newDir();
    fill(dir, 1, 100);
    const stacks = path.join(dir, 'tables', 'g000001.stacks');
    const frames = path.join(dir, 'tables', 'g000001.frames');
    const goodStacks = fs.statSync(stacks).size;
    const goodFrames = fs.statSync(frames).size;
    // Half a chunk, as a crash in the middle of an append leaves it.
    fs.appendFileSync(stacks, Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 7, 7]));
    fs.appendFileSync(frames, Buffer.from([50, 0, 0]));
    expect((await readAll(dir)).profile.samples).toHaveLength(100);
    const warnings: string[] = [];
    const w = openStoreWriter(dir, { durable: false, onWarning: (m) => warnings.push(m) });
    expect(fs.statSync(stacks).size).toBe(goodStacks);
    expect(fs.statSync(frames).size).toBe(goodFrames);
    expect(warnings.some((m) => m.includes(stacks) && m.includes('torn'))).toBe(true);
    // New stacks go after the cut and are found again.
    const p = makeProfile(T0 + 10_000, 100, 9, 40);
    const res = w.appendSegment({ startMs: T0 + 10_000, endMs: T0 + 20_000, profile: p });
    w.close();
    expect(res.newStacks).toBeGreaterThan(0);
    const after = await readAll(dir);
    expect(after.warnings).toEqual([]);
    expect(after.profile.samples).toHaveLength(200);
  });

  it('skips a segment that names stacks the tables do not hold', async () => {
    const dir = newDir();
    const files = fill(dir, 2);
    fs.truncateSync(path.join(dir, 'tables', 'g000001.stacks'), 16);
    const { profile, warnings } = await readAll(dir);
    expect(profile.samples).toHaveLength(0);
    expect(warnings.filter((w) => files.some((f) => w.includes(f)))).toHaveLength(2);
  });

  it('refuses a second writer while the first is open', () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false });
    expect(() => openStoreWriter(dir, { durable: false })).toThrow(/already being written by pid/);
    w.close();
    openStoreWriter(dir, { durable: false }).close();
  });

  it('a missing store says how to make one', () => {
    expect(() => openStoreReader('/nonexistent/profctl-store')).toThrow(/no profile store at/);
  });
});

describe('bounds', () => {
  it('retention deletes segments (with their spans) older than the period', async () => {
    const dir = newDir();
    fill(dir, 12);
    const w = openStoreWriter(dir, { durable: false, retentionMs: 60_000 });
    const res = w.enforceBounds(T0 + 120_000);
    w.close();
    // Segments ending before T0 + 60 s go: windows 0..4 end at or before 50 s... 60 s.
    const r = openStoreReader(dir);
    const left = r.segments();
    expect(left.every((s) => s.toMs >= T0 + 60_000)).toBe(true);
    expect(res.deletedSegments).toBe(12 - left.length);
    expect(left.length).toBe(7);
    const spans = await r.readSpans();
    expect(spans.every((s) => s.startMs >= T0 + 50_000)).toBe(true);
    expect(spans.length).toBe(35);
  });

  it('the size cap evicts the oldest segments first and holds', () => {
    const dir = newDir();
    const files = fill(dir, 20);
    const r = openStoreReader(dir);
    const full = r.stats().sizeBytes;
    const cap = Math.floor(full * 0.6);
    const w = openStoreWriter(dir, { durable: false, maxSizeBytes: cap, retentionMs: 1e12 });
    const res = w.enforceBounds(T0);
    expect(res.sizeBytes).toBeLessThanOrEqual(cap);
    expect(r.stats().sizeBytes).toBeLessThanOrEqual(cap);
    const left = r.segments().map((s) => s.file);
    expect(left).toEqual(files.slice(files.length - left.length));
    // Keeps holding while the writer goes on.
    for (let i = 20; i < 30; i++) {
      w.appendSegment({ startMs: T0 + i * 10_000, endMs: T0 + (i + 1) * 10_000, profile: makeProfile(T0 + i * 10_000, 200, i) });
      w.enforceBounds(T0);
      expect(r.stats().sizeBytes).toBeLessThanOrEqual(cap);
    }
    w.close();
  });

  it('starts a new table generation when the old one is stale, and drops the old tables with their last segment', async () => {
    const dir = newDir();
    let now = T0;
    const w = openStoreWriter(dir, { durable: false, generationMaxAgeMs: 25_000, retentionMs: 30_000, now: () => now });
    for (let i = 0; i < 8; i++) {
      now = T0 + (i + 1) * 10_000;
      w.appendSegment({ startMs: T0 + i * 10_000, endMs: now, profile: makeProfile(T0 + i * 10_000, 100, i) });
      w.enforceBounds();
    }
    w.close();
    const tables = fs.readdirSync(path.join(dir, 'tables')).sort();
    const r = openStoreReader(dir);
    const gens = new Set(r.segments().map((s) => s.generation));
    expect(gens.size).toBeGreaterThanOrEqual(1);
    expect(Math.max(...gens)).toBeGreaterThan(1);
    // Exactly the tables of generations still used.
    expect(tables).toEqual([...gens].sort().flatMap((g) => [`g${String(g).padStart(6, '0')}.frames`, `g${String(g).padStart(6, '0')}.stacks`]));
    const warnings: string[] = [];
    const p = await openStoreReader(dir, { onWarning: (m) => warnings.push(m) }).readProfile();
    expect(warnings).toEqual([]);
    expect(p.samples.length).toBe(r.segments().length * 100);
  });

  it('keeps the store’s size exact flush after flush without reading the store again, through evictions and new generations', () => {
    const dir = newDir();
    const realReaddir = fs.readdirSync.bind(fs) as (p: string) => string[];
    const dirSize = () => {
      let n = 0;
      for (const f of segmentFiles(dir, realReaddir)) n += fs.statSync(path.join(dir, 'segments', f)).size;
      for (const f of realReaddir(path.join(dir, 'tables'))) n += fs.statSync(path.join(dir, 'tables', f)).size;
      return n;
    };
    let now = T0;
    const w = openStoreWriter(dir, { durable: false, retentionMs: 60_000, generationMaxAgeMs: 45_000, now: () => now });
    const readdir = vi.spyOn(fs, 'readdirSync');
    let generations = 1;
    let lastGeneration = 1;
    let evicted = 0;
    for (let i = 0; i < 40; i++) {
      now = T0 + (i + 1) * 10_000;
      // New frames in every window, so each generation's tables grow.
      const a = w.appendSegment({ startMs: T0 + i * 10_000, endMs: now, profile: makeProfile(T0 + i * 10_000, 50, i + 1, 5, makeFrames(10, `w${i}_`)) });
      if (a.generation !== lastGeneration) generations++;
      lastGeneration = a.generation;
      const b = w.enforceBounds();
      evicted += b.deletedSegments;
      expect(b.sizeBytes).toBe(dirSize());
    }
    w.close();
    vi.restoreAllMocks();
    expect(evicted).toBeGreaterThan(25);
    expect(generations).toBeGreaterThan(5);
    // The tables directory is read once per new generation, not at every flush.
    expect(readdir.mock.calls.length).toBeLessThanOrEqual(generations);
    const gens = new Set(openStoreReader(dir).segments().map((s) => s.generation));
    gens.add(lastGeneration);
    expect(realReaddir(path.join(dir, 'tables')).sort()).toEqual([...gens].sort((x, y) => x - y).flatMap((g) => [`g${String(g).padStart(6, '0')}.frames`, `g${String(g).padStart(6, '0')}.stacks`]));
  });

  it('deletes at open the tables of a generation that no segment uses', () => {
    const dir = newDir();
    fill(dir, 3);
    // An older generation's tables with no segment left (a writer that died between deleting its last segment and them).
    for (const kind of ['frames', 'stacks']) fs.copyFileSync(path.join(dir, 'tables', `g000001.${kind}`), path.join(dir, 'tables', `g000000.${kind}`));
    const orphan = fs.statSync(path.join(dir, 'tables', 'g000000.frames')).size + fs.statSync(path.join(dir, 'tables', 'g000000.stacks')).size;
    const w = openStoreWriter(dir, { durable: false, retentionMs: 1e12 });
    const b = w.enforceBounds(T0);
    w.close();
    expect(b.deletedSegments).toBe(0);
    expect(b.deletedBytes).toBe(orphan);
    expect(fs.readdirSync(path.join(dir, 'tables')).sort()).toEqual(['g000001.frames', 'g000001.stacks']);
  });
});

describe('a full file system', () => {
  afterEach(() => vi.restoreAllMocks());

  /** Makes writes of new segments fail with ENOSPC while `full()` says so. */
  function diskFullFor(full: () => boolean) {
    const realOpen = fs.openSync;
    const segmentFds = new Set<number>();
    vi.spyOn(fs, 'openSync').mockImplementation(((p: fs.PathLike, ...rest: unknown[]) => {
      const fd = (realOpen as (...a: unknown[]) => number)(p, ...rest);
      if (String(p).endsWith('.seg')) segmentFds.add(fd);
      return fd;
    }) as typeof fs.openSync);
    const realWrite = fs.writeSync;
    vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, ...rest: unknown[]) => {
      if (segmentFds.has(fd) && full()) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return (realWrite as (...a: unknown[]) => number)(fd, ...rest);
    }) as typeof fs.writeSync);
  }

  /**
   * Appends the window after `index` earlier 10 s windows while `full()` says
   * the disk is full; the writer's clock is at the window's end.
   */
  function appendWhileFull(dir: string, full: () => boolean, index: number, samples: number) {
    diskFullFor(full);
    const warnings: string[] = [];
    const startMs = T0 + index * 10_000;
    const w = openStoreWriter(dir, { durable: false, onWarning: (m) => warnings.push(m), now: () => startMs + 10_000 });
    let result: AppendResult | undefined;
    let error: unknown;
    try {
      result = w.appendSegment({ startMs, endMs: startMs + 10_000, profile: makeProfile(startMs, samples, index + 1) });
    } catch (e) {
      error = e;
    }
    w.close();
    vi.restoreAllMocks();
    return { result, error, warnings };
  }

  it('evicts the oldest segments to make room, and writes the new one', async () => {
    const dir = newDir();
    const files = fill(dir, 40, 2000);
    let failures = 1;
    const { result, warnings } = appendWhileFull(dir, () => failures-- > 0, 40, 200);
    const left = segmentFiles(dir);
    expect(left).toContain(result!.file);
    expect(left).not.toContain(files[0]);
    // Only what made room went, oldest first: the newest of the older segments stay.
    expect(left).toContain(files[39]);
    expect(left.length).toBeGreaterThan(30);
    expect(tempFiles(dir)).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/is full: evicted the (oldest segment|\d+ oldest segments)/)]);
    const { warnings: readWarnings } = await readAll(dir);
    expect(readWarnings).toEqual([]);
  });

  it('counts the room a small segment frees in whole blocks, and evicts no more than it needs', () => {
    const dir = newDir();
    const files = fill(dir, 40, 5);
    expect(fs.statSync(path.join(dir, 'segments', files[0]!)).size).toBeLessThan(1024);
    let failures = 1;
    expect(appendWhileFull(dir, () => failures-- > 0, 40, 5).error).toBeUndefined();
    // 16 KiB of room: four segments of one 4 KiB block each, not the eighty that their bytes would add up to.
    const left = segmentFiles(dir);
    expect(left).not.toContain(files[3]);
    expect(left).toContain(files[4]);
    expect(left).toHaveLength(37);
  });

  it('fails with a clear error when nothing is left to evict, leaving the store as it was', async () => {
    const dir = newDir();
    fill(dir, 3);
    const before = await readAll(dir);
    const { error } = appendWhileFull(dir, () => true, 3, 200);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(`no space left on the file system of the store ${dir}`);
    expect((error as UserError).hint).toMatch(/free space there/);
    // Making room took the older segments; nothing half-written is left, and the tables still read.
    expect(segmentFiles(dir)).toEqual([]);
    expect(tempFiles(dir)).toEqual([]);
    const after = await readAll(dir);
    expect(after.warnings).toEqual([]);
    expect(before.profile.samples.length).toBeGreaterThan(0);
  });

  it('starts new tables when no segment is left to evict, dropping the frames of the evicted ones', async () => {
    const dir = newDir();
    fill(dir, 3);
    const oldTables = path.join(dir, 'tables', 'g000001.frames');
    // Full until the old tables go.
    const { result, warnings } = appendWhileFull(dir, () => fs.existsSync(oldTables), 3, 200);
    expect(result!.generation).toBe(2);
    expect(fs.readdirSync(path.join(dir, 'tables')).sort()).toEqual(['g000002.frames', 'g000002.stacks']);
    expect(warnings.at(-1)).toMatch(/no segment is left: started new tables to make room/);
    const { profile, warnings: readWarnings } = await readAll(dir);
    expect(profile.samples).toHaveLength(200);
    expect(readWarnings).toEqual([]);
  });

  it('takes the writer lock on a full file system', () => {
    const dir = newDir();
    fill(dir, 1);
    const lock = path.join(dir, 'writer.lock');
    const w = openStoreWriter(dir, { durable: false });
    expect(fs.readlinkSync(lock)).toBe(String(process.pid));
    w.close();
    expect(fs.existsSync(lock)).toBe(false);
  });
});

describe('a store removed while it is written', () => {
  it('starts it again, with new tables, and goes on writing', async () => {
    const dir = newDir();
    const warnings: string[] = [];
    const w = openStoreWriter(dir, { durable: false, onWarning: (m) => warnings.push(m), now: () => T0 + 60_000 });
    w.appendSegment({ startMs: T0, endMs: T0 + 10_000, profile: makeProfile(T0, 100, 1) });
    fs.rmSync(dir, { recursive: true });
    const r = w.appendSegment({ startMs: T0 + 10_000, endMs: T0 + 20_000, profile: makeProfile(T0 + 10_000, 100, 2) });
    expect(r.generation).toBe(2);
    expect(w.enforceBounds().sizeBytes).toBeGreaterThan(0);
    expect(warnings).toEqual([`the store ${dir} was removed while being written: started it again, with new tables`]);
    // The lock came back with it: a second writer is refused.
    expect(() => openStoreWriter(dir, { durable: false })).toThrow(/already being written by pid/);
    w.close();
    const { profile, warnings: readWarnings } = await readAll(dir);
    expect(profile.samples).toHaveLength(100);
    expect(readWarnings).toEqual([]);
  });

  it('stops when another writer took the store meanwhile', () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false });
    w.appendSegment({ startMs: T0, endMs: T0 + 10_000, profile: makeProfile(T0, 100, 1) });
    fs.rmSync(dir, { recursive: true });
    fs.mkdirSync(dir);
    fs.symlinkSync(String(process.ppid), path.join(dir, 'writer.lock')); // a live process: the test runner's parent
    expect(() => w.appendSegment({ startMs: T0 + 10_000, endMs: T0 + 20_000, profile: makeProfile(T0 + 10_000, 100, 2) })).toThrow(/already being written by pid/);
    w.close();
    expect(fs.readlinkSync(path.join(dir, 'writer.lock'))).toBe(String(process.ppid));
  });

  it('does not turn a removed table into a file of zeros', () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false });
    w.appendSegment({ startMs: T0, endMs: T0 + 10_000, profile: makeProfile(T0, 100, 1) });
    fs.rmSync(path.join(dir, 'tables', 'g000001.frames'));
    w.appendSegment({ startMs: T0 + 10_000, endMs: T0 + 20_000, profile: makeProfile(T0 + 10_000, 100, 2, 20, makeFrames(60, 'other')) });
    w.close();
    expect(fs.existsSync(path.join(dir, 'tables', 'g000001.frames'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'tables', 'g000002.frames'))).toBe(true);
  });
});

describe('permissions', () => {
  it('creates nothing world-writable: directories 0755, files 0644, whatever the umask', () => {
    const dir = path.join(newDir(), 'store');
    const old = process.umask(0o077);
    try {
      fill(dir, 2);
      writeAgentStatus(dir, { pid: process.pid, updatedMs: Date.now(), startedMs: Date.now(), hz: 99, flushMs: 10_000, samplesPerSecond: 198, lostPerSecond: 0, cpuPercent: 0.4, rssBytes: 5e7, maxSizeBytes: 1 << 30, retentionMs: 7 * 86_400_000 });
    } finally {
      process.umask(old);
    }
    const walk = (p: string): string[] => [p, ...(fs.statSync(p).isDirectory() ? fs.readdirSync(p).flatMap((f) => walk(path.join(p, f))) : [])];
    const entries = walk(dir);
    expect(entries.length).toBeGreaterThan(6);
    for (const p of entries) {
      const st = fs.statSync(p);
      expect(st.mode & 0o002, p).toBe(0);
      expect(st.mode & 0o777, p).toBe(st.isDirectory() ? 0o755 : 0o644);
    }
  });
});

describe('agent status', () => {
  it('round-trips and tells a live agent from a stale one', () => {
    const dir = newDir();
    const now = Date.now();
    // This process plays the agent: it started when node did.
    const startedMs = Math.round(performance.timeOrigin);
    const status = { pid: process.pid, updatedMs: now, startedMs, hz: 99, flushMs: 10_000, samplesPerSecond: 198, lostPerSecond: 0.5, cpuPercent: 0.4, rssBytes: 5e7, maxSizeBytes: 1 << 30, retentionMs: 7 * 86_400_000, otlpAddress: '127.0.0.1:4318' };
    writeAgentStatus(dir, status);
    expect(readAgentStatus(dir, now)).toEqual({ ...status, running: true, stale: false });
    expect(readAgentStatus(dir, now + 3_600_000)!.running).toBe(false);
    // An agent that cannot rewrite its status (a full file system) but still holds the writer lock runs on.
    const w = openStoreWriter(dir, { durable: false });
    expect(readAgentStatus(dir, now + 3_600_000)).toMatchObject({ running: true, stale: true });
    // An agent that died left its lock and status, and its pid now names a program that started long before.
    writeAgentStatus(dir, { ...status, startedMs: startedMs + 3_600_000 });
    expect(readAgentStatus(dir, now + 3_600_000)).toMatchObject({ running: false, stale: false });
    writeAgentStatus(dir, status);
    w.close();
    expect(readAgentStatus(dir, now + 3_600_000)).toMatchObject({ running: false, stale: false });
    fs.writeFileSync(path.join(dir, 'agent-status.json'), '{"pid": ');
    expect(readAgentStatus(dir)).toBeUndefined();
  });
});
