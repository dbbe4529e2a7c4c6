// The store's single writer: turns one flush window of samples and spans into
// a segment file, appending any frame or stack it has not seen before to the
// shared tables first (durably, so no segment ever names an entry that is not
// on disk), and enforces the size cap and retention.
//
// One writer per store at a time (a pid lock file); readers take no lock.
// Bounds policy: segments older than the retention, then the oldest segments
// while the store is over its cap, are deleted whole (no downsampling: a
// segment is already an aggregate plus about 2 bytes of time and row per sample,
// so merging windows would save little). Tables are never rewritten in place:
// the writer starts a new table generation when the current one is a day old
// or larger than an eighth of the cap, and a generation's tables are deleted
// once no segment uses them, so stale stacks leave with the last segment that
// needed them.
// It must not read segments back or decide what a query sees.

import fs from 'node:fs';
import path from 'node:path';
import type { ColumnarProfile, Frame, Labels, Profile, SampleContext, ValueType } from '../profile/model.js';
import type { Span } from '../spans/model.js';
import { UserError, ExitCode } from '../errors.js';
import type { Codec, SampleTuple, ValueMode } from './segment-codec.js';
import { encodeSegment } from './segment-codec.js';
import { encodeSpans } from './span-codec.js';
import { TableGeneration, openGenerationForWrite, startGeneration } from './table-generation.js';
import {
  LOCK_FILE,
  SEGMENTS_DIR,
  TABLES_DIR,
  TEMP_PREFIX,
  ensureDir,
  fsyncDir,
  listSegments,
  makeDir,
  parseSegmentFileName,
  parseSegmentHourDir,
  parseTableFileName,
  readLockPid,
  segmentFileName,
  segmentHourDir,
  tableFileName,
  writeFileAtomic,
} from './layout.js';
import { SegmentIndex } from './segment-index.js';

/** A sample handed over without an interned profile: frames leaf first. */
export interface StoredSample {
  timeMs: number;
  pid?: number;
  tid?: number;
  thread?: string;
  process?: string;
  labels?: Labels;
  values: number[];
  frames: Frame[];
}

export interface SegmentData {
  /** The flush window. */
  startMs: number;
  endMs: number;
  /** The window's samples in columns (the agent's capture window)… */
  columns?: ColumnarProfile;
  /** …or as a Profile (samples carry timeMs, pid, tid, thread, process, labels)… */
  profile?: Profile;
  /** …or as plain samples with their frames (then sampleTypes says what values mean). */
  samples?: StoredSample[];
  sampleTypes?: ValueType[];
  /** Spans received during the window. */
  spans?: Span[];
}

export interface StoreWriterOptions {
  /** Size cap of the whole store (segments and tables). Default 1 GiB. */
  maxSizeBytes?: number;
  /** Data older than this is deleted. Default 7 days. */
  retentionMs?: number;
  /** Section compression. Default deflate: as small as brotli here at a third of the write CPU (bench/RESULTS.md). */
  codec?: Codec;
  level?: number;
  /** Sample time resolution in µs; default 1000 (1 ms). */
  timeResolutionUs?: number;
  /** fsync files and directories. Only tests and the bench generator turn this off. */
  durable?: boolean;
  /** Start a new table generation when the tables pass this size. Default maxSizeBytes / 8. */
  maxTableBytes?: number;
  /** Start a new table generation after this long. Default 24 h. */
  generationMaxAgeMs?: number;
  onWarning?: (msg: string) => void;
  /** Clock, for tests. */
  now?: () => number;
}

export interface AppendResult {
  file: string;
  bytes: number;
  samples: number;
  spans: number;
  newFrames: number;
  newStacks: number;
  generation: number;
}

export interface BoundsResult {
  deletedSegments: number;
  deletedBytes: number;
  sizeBytes: number;
}

export interface StoreWriter {
  readonly dir: string;
  appendSegment(data: SegmentData): AppendResult;
  enforceBounds(nowMs?: number): BoundsResult;
  close(): void;
}

const DAY_MS = 86_400_000;
/** The block size files are allocated in, on the file systems a store lives on (ext4, xfs, tmpfs). */
const DISK_BLOCK = 4096;

// Locks this process holds: its own pid in a lock file is then a live writer, not a leftover.
const heldLocks = new Set<string>();

function acquireLock(dir: string): string {
  const lock = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // A symlink to the pid: made atomically, and it needs no data block on a full file system.
      fs.symlinkSync(String(process.pid), lock);
      heldLocks.add(lock);
      return lock;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') {
        throw new UserError(`cannot write to the store ${dir}: permission denied`, 'the store belongs to root: run with sudo, or pass --store DIR', ExitCode.permission);
      }
      if (code === 'EROFS') throw readOnly(dir);
      if (isDiskFull(err)) throw noSpace(dir);
      if (code !== 'EEXIST') throw err;
      const pid = readLockPid(lock);
      const live = pid === process.pid ? heldLocks.has(lock) : pid !== undefined && processAlive(pid);
      if (live) {
        throw new UserError(`the store ${dir} is already being written by pid ${pid}`, 'stop that agent first, or pass --store DIR (or -o FILE for record)');
      }
      fs.rmSync(lock, { force: true }); // left by a writer that died
    }
  }
  throw new UserError(`cannot take the writer lock ${lock}`);
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How values are kept: one shared value vector (the usual case), or per sample as integers or floats. */
function chooseValueMode(c: ColumnarProfile, nTypes: number): ValueMode {
  if (!c.sampleValues) return { kind: 'unit', unit: Array.from({ length: nTypes }, (_, t) => c.values[t] ?? 0) };
  const ints = c.sampleValues.every((v) => v.every((x) => Number.isSafeInteger(x)));
  return ints ? { kind: 'int' } : { kind: 'float' };
}

function tupleKey(s: SampleContext): string {
  return JSON.stringify([s.pid, s.tid, s.thread, s.process, s.labels ?? null]);
}

/**
 * A Profile's samples as columns. Contexts are found without a string key per
 * sample: by tid, then by the other fields' identity (profiles share name
 * strings and labels objects between samples); equal contexts that are not
 * identical meet again under their JSON key.
 */
function columnsFromProfile(profile: Profile, defaultTimeMs: number): ColumnarProfile {
  const { samples, ...rest } = profile;
  const contexts: SampleContext[] = [];
  const byKey = new Map<string, number>();
  const byTid = new Map<number | undefined, { pid?: number; thread?: string; process?: string; labels?: Labels; id: number }[]>();
  const contextOf = (s: Profile['samples'][number]): number => {
    let seen = byTid.get(s.tid);
    if (!seen) byTid.set(s.tid, (seen = []));
    for (const e of seen) if (e.pid === s.pid && e.thread === s.thread && e.process === s.process && e.labels === s.labels) return e.id;
    const c: SampleContext = {};
    if (s.pid !== undefined) c.pid = s.pid;
    if (s.tid !== undefined) c.tid = s.tid;
    if (s.thread !== undefined) c.thread = s.thread;
    if (s.process !== undefined) c.process = s.process;
    if (s.labels && Object.keys(s.labels).length) c.labels = s.labels;
    const key = tupleKey(c);
    let id = byKey.get(key);
    if (id === undefined) {
      id = contexts.length;
      contexts.push(c);
      byKey.set(key, id);
    }
    // A thread with many traces (one per request) would make the scan long: keep it for the first few.
    if (seen.length < 16) seen.push({ pid: s.pid, thread: s.thread, process: s.process, labels: s.labels, id });
    return id;
  };
  const count = samples.length;
  const stack = new Int32Array(count);
  const time = new Float64Array(count);
  const context = new Int32Array(count);
  const first = samples[0]?.values ?? [];
  let same = true;
  for (let i = 0; i < count; i++) {
    const s = samples[i]!;
    if (!(s.stack >= 0 && s.stack < profile.stacks.length)) throw new Error(`sample names stack ${s.stack}, the profile has ${profile.stacks.length}`);
    stack[i] = s.stack;
    time[i] = s.timeMs ?? defaultTimeMs;
    context[i] = contextOf(s);
    if (same && s.values !== first && (s.values.length !== first.length || s.values.some((v, t) => v !== first[t]))) same = false;
  }
  return { ...rest, count, stack, time, context, contexts, values: first, ...(same ? {} : { sampleValues: samples.map((s) => s.values) }) };
}

function profileFromSamples(samples: StoredSample[], sampleTypes: ValueType[]): Profile {
  const frames: Frame[] = [];
  const frameIds = new Map<Frame, number>();
  const stacks: number[][] = [];
  const out: Profile['samples'] = [];
  for (const s of samples) {
    const stack = s.frames.map((f) => {
      let id = frameIds.get(f);
      if (id === undefined) {
        id = frames.length;
        frames.push(f);
        frameIds.set(f, id);
      }
      return id;
    });
    stacks.push(stack);
    out.push({ stack: stacks.length - 1, values: s.values, labels: s.labels, timeMs: s.timeMs, pid: s.pid, tid: s.tid, thread: s.thread, process: s.process });
  }
  return { sampleTypes, frames, stacks, samples: out };
}

export function openStoreWriter(dir: string, options: StoreWriterOptions = {}): StoreWriter {
  const maxSizeBytes = options.maxSizeBytes ?? 1024 ** 3;
  const retentionMs = options.retentionMs ?? 7 * DAY_MS;
  const durable = options.durable ?? true;
  const codec = options.codec ?? 'deflate';
  const warn = options.onWarning ?? (() => {});
  const now = options.now ?? Date.now;
  const maxTableBytes = options.maxTableBytes ?? Math.max(64 * 1024, Math.floor(maxSizeBytes / 8));
  const generationMaxAgeMs = options.generationMaxAgeMs ?? DAY_MS;

  try {
    ensureDir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new UserError(`cannot create the store ${dir}: permission denied`, 'the agent runs as root: use sudo, or pass --store DIR', ExitCode.permission);
    }
    if (code === 'EROFS') throw readOnly(dir);
    if (isDiskFull(err)) throw noSpace(dir);
    if (code === 'ENOTDIR' || code === 'EEXIST') throw notADirectory(dir);
    throw err;
  }
  if (!fs.statSync(dir).isDirectory()) throw notADirectory(dir);
  const lock = acquireLock(dir);
  const segmentsDir = path.join(dir, SEGMENTS_DIR);
  const tablesDir = path.join(dir, TABLES_DIR);
  let gen: TableGeneration;
  try {
    ensureDir(segmentsDir);
    ensureDir(tablesDir);
    // Temp files left by a writer that crashed mid-write: never renamed, never
    // visible (those among the segments go as the index is read, below).
    for (const d of [dir, tablesDir]) {
      for (const f of fs.readdirSync(d)) if (f.startsWith(TEMP_PREFIX)) fs.rmSync(path.join(d, f), { force: true });
    }
    // Hour directories a crash left empty between a segment's eviction and theirs.
    for (const f of fs.readdirSync(segmentsDir)) if (parseSegmentHourDir(f) !== undefined) removeIfEmpty(path.join(segmentsDir, f));
    gen = openGenerationForWrite(tablesDir, now(), durable, warn);
  } catch (err) {
    // A new store on a full file system: nothing of ours to make room with.
    heldLocks.delete(lock);
    fs.rmSync(lock, { force: true });
    if (isDiskFull(err)) throw noSpace(dir);
    throw err;
  }
  let closed = false;
  // The writer's own index of segments and their sizes, so enforcing bounds at
  // every flush costs no directory scan (only this writer adds or removes).
  const readIndex = () =>
    listSegments(segmentsDir, -Infinity, Infinity, (p, kind) => {
      if (kind === 'temp') fs.rmSync(p, { force: true });
    }).map((s) => ({ ...s, size: fileSize(path.join(segmentsDir, s.file)) }));
  const index = new SegmentIndex(readIndex());
  // Bytes of the table files of generations other than the current one (they
  // no longer grow), read from the directory again only when the current
  // generation has changed since: at open, after a restart, after a new generation.
  const olderTableBytes = new Map<number, number>();
  let tablesScannedFor = -1;

  let lastSegmentBytes = 0;

  /**
   * Writes a window's segment. A full file system (ENOSPC, EDQUOT) is the
   * store's cap for the moment: the oldest segments make room, as they would
   * for --max-size, and the write is tried again. Only when no segment is
   * left to evict does the write fail, with nothing half-written.
   */
  function appendSegment(data: SegmentData): AppendResult {
    if (closed) throw new Error('store writer is closed');
    let restarted = false;
    let newTables = false;
    for (let attempt = 0; ; attempt++) {
      try {
        const r = appendOnce(data);
        lastSegmentBytes = r.bytes;
        return r;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !restarted && storeRemoved()) {
          restarted = true;
          restart();
          continue;
        }
        if (!isDiskFull(err)) throw err;
        // Room for this segment and the tables' new entries, more with each try.
        const room = Math.max(16 * 1024, 2 * lastSegmentBytes) * 2 ** attempt;
        const freed = attempt < 6 ? trim(now(), room) : undefined;
        if (!freed?.deletedSegments) {
          // No segment left: the tables hold the frames of every segment gone. New ones hold only what is written next.
          if (index.length > 0 || newTables) throw noSpace(dir);
          newTables = true;
          for (const f of [gen.framesFile, gen.stacksFile]) fs.rmSync(f, { force: true });
          try {
            gen = startGeneration(tablesDir, gen.generation + 1, now(), durable);
          } catch (e) {
            // The next append finds the tables gone and starts them again.
            if (isDiskFull(e)) throw noSpace(dir);
            throw e;
          }
          warn(`the file system of the store ${dir} is full and no segment is left: started new tables to make room`);
          continue;
        }
        const n = freed.deletedSegments;
        warn(`the file system of the store ${dir} is full: evicted the ${n === 1 ? 'oldest segment' : `${n} oldest segments`} (${(freed.deletedBytes / 1024).toFixed(1)} KiB) to make room`);
      }
    }
  }

  /** The store's directories or the current tables are gone: someone removed the store while it was written. */
  function storeRemoved(): boolean {
    return ![segmentsDir, tablesDir, gen.framesFile, gen.stacksFile].every((p) => fs.existsSync(p));
  }

  /**
   * Starts the store again where it was removed: its directories, the writer
   * lock (unless another writer took the store meanwhile: then this one
   * stops with an error), a new table generation, the index of what is left.
   */
  function restart(): void {
    ensureDir(segmentsDir);
    ensureDir(tablesDir);
    if (readLockPid(lock) !== process.pid) {
      heldLocks.delete(lock);
      acquireLock(dir);
    }
    gen = startGeneration(tablesDir, gen.generation + 1, now(), durable);
    // Segments a partial removal left (a week of them: no spread into a call).
    index.reset(readIndex());
    tablesScannedFor = -1;
    warn(`the store ${dir} was removed while being written: started it again, with new tables`);
  }

  function appendOnce(data: SegmentData): AppendResult {
    const cols =
      data.columns ??
      columnsFromProfile(data.profile ?? profileFromSamples(data.samples ?? [], data.sampleTypes ?? [{ type: 'samples', unit: 'count' }]), data.startMs);
    if (gen.tableBytes() > maxTableBytes || now() - gen.createdMs > generationMaxAgeMs) {
      gen = startGeneration(tablesDir, gen.generation + 1, now(), durable);
    }
    const pending = gen.begin();
    const stackIds = new Int32Array(cols.stacks.length).fill(-1);
    const stack = new Int32Array(cols.count);
    let fromMs = data.startMs;
    let toMs = data.endMs;
    for (let i = 0; i < cols.count; i++) {
      const local = cols.stack[i]!;
      let global = stackIds[local]!;
      if (global < 0) global = stackIds[local] = pending.stackId(cols.stacks[local]!.map((f) => pending.frameId(cols.frames[f]!)));
      stack[i] = global;
      const timeMs = cols.time[i]!;
      if (timeMs < fromMs) fromMs = timeMs;
      if (timeMs > toMs) toMs = timeMs;
    }
    const spans = data.spans ?? [];
    for (const sp of spans) {
      if (sp.startMs < fromMs) fromMs = sp.startMs;
      if (sp.endMs > toMs) toMs = sp.endMs;
    }
    // A canonical context order makes META byte-identical between segments with the same threads.
    const order = cols.contexts.map((t, i) => ({ key: tupleKey(t), i })).sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    const renumber = new Int32Array(order.length);
    order.forEach((o, i) => (renumber[o.i] = i));
    const sortedTuples = order.map((o) => cols.contexts[o.i]!);
    const tuple = new Int32Array(cols.count);
    for (let i = 0; i < cols.count; i++) tuple[i] = renumber[cols.context[i]!]!;
    // Tables first, durably: the segment below may only name entries already on disk.
    const added = pending.commit();
    const bytes = encodeSegment({
      windowStartMs: data.startMs,
      windowEndMs: data.endMs,
      generation: gen.generation,
      stackCount: gen.stackCount,
      meta: {
        sampleTypes: cols.sampleTypes,
        defaultSampleType: cols.defaultSampleType,
        periodType: cols.periodType,
        period: cols.period,
        tuples: sortedTuples,
        valueMode: chooseValueMode(cols, cols.sampleTypes.length),
        timeUnitUs: options.timeResolutionUs ?? 1000,
      },
      samples: { count: cols.count, time: cols.time, tuple, stack, values: cols.sampleValues },
      spans: spans.length ? encodeSpans(spans, Math.floor(data.startMs)) : undefined,
      codec,
      level: options.level,
    });
    const name = parseSegmentFileName(segmentFileName(fromMs, toMs, gen.generation))!;
    const hour = segmentHourDir(name.toMs);
    const hourDir = path.join(segmentsDir, hour);
    if (!fs.existsSync(hourDir) && makeDir(hourDir) && durable) fsyncDir(segmentsDir);
    writeFileAtomic(hourDir, name.file, bytes, durable);
    const file = `${hour}/${name.file}`;
    index.add({ ...name, file, size: bytes.length });
    return { file, bytes: bytes.length, samples: cols.count, spans: spans.length, newFrames: added.frames, newStacks: added.stacks, generation: gen.generation };
  }

  function enforceBounds(nowMs = now()): BoundsResult {
    return trim(nowMs, 0);
  }

  /**
   * The table files' bytes by generation, from the directory, for the
   * generations before the current one; and the tables of any such generation
   * that no segment uses are deleted (a crash between a segment's deletion and
   * its tables', or a generation started but never used). Returns the bytes deleted.
   */
  function scanOlderTables(): number {
    olderTableBytes.clear();
    const files = fs.readdirSync(tablesDir).map((f) => ({ f, t: parseTableFileName(f) }));
    let deleted = 0;
    for (const { f, t } of files) {
      if (!t || t.generation === gen.generation) continue;
      const p = path.join(tablesDir, f);
      const n = fileSize(p);
      if (index.segmentsOf(t.generation) === 0) {
        fs.rmSync(p, { force: true });
        deleted += n;
      } else olderTableBytes.set(t.generation, (olderTableBytes.get(t.generation) ?? 0) + n);
    }
    tablesScannedFor = gen.generation;
    return deleted;
  }

  function tableBytes(): number {
    let n = gen.tableBytes();
    for (const b of olderTableBytes.values()) n += b;
    return n;
  }

  /**
   * Deletes what is past the retention or over the cap, oldest first, and
   * then at least `room` bytes more. Costs the segments it deletes: the
   * index keeps the totals.
   */
  function trim(nowMs: number, room: number): BoundsResult {
    let deletedBytes = tablesScannedFor === gen.generation ? 0 : scanOlderTables();
    let size = index.bytes + tableBytes();
    let deletedSegments = 0;
    // Room on disk: a file takes whole blocks, so a 300-byte segment frees 4 KiB.
    let freedOnDisk = 0;
    const cutoff = nowMs - retentionMs;
    for (let s = index.oldest(); s && (s.toMs < cutoff || size > maxSizeBytes || freedOnDisk < room); s = index.oldest()) {
      fs.rmSync(path.join(segmentsDir, s.file), { force: true });
      index.removeOldest();
      // An hour directory goes with its last segment; until then rmdir finds it not empty.
      const hour = path.dirname(s.file);
      if (hour !== '.' && path.dirname(index.oldest()?.file ?? '') !== hour) removeIfEmpty(path.join(segmentsDir, hour));
      size -= s.size;
      deletedSegments++;
      deletedBytes += s.size;
      freedOnDisk += Math.ceil(s.size / DISK_BLOCK) * DISK_BLOCK;
      // The last segment of an older generation takes that generation's
      // tables with it, at once: the cap check must not go on deleting newer
      // segments for bytes that are about to go anyway.
      if (s.generation !== gen.generation && index.segmentsOf(s.generation) === 0) {
        const tables = olderTableBytes.get(s.generation) ?? 0;
        olderTableBytes.delete(s.generation);
        for (const kind of ['frames', 'stacks'] as const) fs.rmSync(path.join(tablesDir, tableFileName(s.generation, kind)), { force: true });
        size -= tables;
        deletedBytes += tables;
      }
    }
    return { deletedSegments, deletedBytes, sizeBytes: size };
  }

  function close(): void {
    if (closed) return;
    closed = true;
    heldLocks.delete(lock);
    try {
      if (readLockPid(lock) === process.pid) fs.rmSync(lock, { force: true });
    } catch {
      // Already gone.
    }
  }

  return { dir, appendSegment, enforceBounds, close };
}

function notADirectory(dir: string): UserError {
  return new UserError(`cannot use ${dir} as the store: it or a part of its path is not a directory`, 'pass --store DIR naming a directory (it is created if missing)');
}

function readOnly(dir: string): UserError {
  return new UserError(`cannot write to the store ${dir}: read-only file system`, 'pass --store DIR on a writable file system', ExitCode.environment);
}

function noSpace(dir: string): UserError {
  return new UserError(`no space left on the file system of the store ${dir}`, 'free space there, or move the store with --store DIR', ExitCode.environment);
}

function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Removes a directory if it is empty; anything else (not empty, gone) leaves it. */
function removeIfEmpty(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // Not empty, or already gone.
  }
}

function fileSize(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}
