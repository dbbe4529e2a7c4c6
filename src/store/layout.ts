// Where things live inside a store directory, how segment files are named,
// and the durable-write primitives (temp file + fsync + rename + fsync of the
// directory). Every file and directory gets an explicit mode so a root agent
// with a strict umask still leaves a store that on-call users can read, and
// nothing is ever world-writable.
// It must not encode or decode segment contents.

import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';

export const DEFAULT_STORE_DIR = '/var/lib/profctl';
export const DIR_MODE = 0o755;
export const FILE_MODE = 0o644;

export const SEGMENTS_DIR = 'segments';
export const TABLES_DIR = 'tables';
export const STATUS_FILE = 'agent-status.json';
export const LOCK_FILE = 'writer.lock';
/**
 * The writer's pid in the writer lock: the lock is a symlink whose target is
 * the pid (made atomically, and kept in the inode, so it can be taken on a
 * full file system); a plain file holding the pid is read too. undefined when
 * there is no lock or it names no pid.
 */
export function readLockPid(lock: string): number | undefined {
  let text: string;
  try {
    text = fs.readlinkSync(lock);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') return undefined;
    try {
      text = fs.readFileSync(lock, 'utf8');
    } catch {
      return undefined;
    }
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Eight random hex digits, to keep apart names that are otherwise equal.
 * From the Web Crypto global, which node loads when first used: readers, which
 * never make a name, do not pay for loading node:crypto (10-15 ms).
 */
function randomHex8(): string {
  return globalThis.crypto.getRandomValues(new Uint32Array(1))[0]!.toString(16).padStart(8, '0');
}

/** Temp files start with this; listings skip them. */
export const TEMP_PREFIX = '.tmp-';
export const SEGMENT_SUFFIX = '.seg';

/**
 * The store directory: `--store DIR`, else $PROFCTL_STORE, else
 * /var/lib/profctl — the same answer for `sudo profctl agent` and for an
 * on-call running `profctl top` as themselves (sudo keeps neither HOME nor
 * most of the environment, so a per-user default would split them).
 */
export function resolveStoreDir(flag?: string): string {
  // An empty --store is an unset variable in a script, not a wish for the default.
  if (flag === '') throw new UserError('--store: empty path', 'pass --store DIR, or leave it out for $PROFCTL_STORE or /var/lib/profctl');
  if (flag !== undefined) return path.resolve(flag);
  const env = process.env.PROFCTL_STORE;
  if (env !== undefined && env !== '') return path.resolve(env);
  return DEFAULT_STORE_DIR;
}

export interface SegmentName {
  /** The file name, or its path relative to the segments directory once listed. */
  file: string;
  /** Earliest time of anything in the segment (window start, samples, spans). */
  fromMs: number;
  /** Latest time of anything in the segment. */
  toMs: number;
  /** Table generation whose frame and stack ids the segment uses. */
  generation: number;
}

const SEGMENT_RE = /^(\d{13,16})-(\d{13,16})-g(\d{1,9})-([0-9a-f]{1,16})\.seg$/;

/**
 * File name of a segment covering [fromMs, toMs] that uses table generation
 * `generation`. Everything a listing needs (time range for selection and
 * eviction, generation for table cleanup) is in the name, so neither opens a
 * file; the random suffix keeps equal windows apart.
 */
export function segmentFileName(fromMs: number, toMs: number, generation: number): string {
  const from = String(Math.max(0, Math.floor(fromMs))).padStart(13, '0');
  const to = String(Math.max(0, Math.ceil(toMs))).padStart(13, '0');
  return `${from}-${to}-g${generation}-${randomHex8()}${SEGMENT_SUFFIX}`;
}

/** A segment's times and generation from its file name; `file` is set to `relative` (its path under segments/) when given. */
export function parseSegmentFileName(name: string, relative = name): SegmentName | undefined {
  const m = SEGMENT_RE.exec(name);
  if (!m) return undefined;
  const fromMs = Number(m[1]);
  const toMs = Number(m[2]);
  if (!(toMs >= fromMs)) return undefined;
  return { file: relative, fromMs, toMs, generation: Number(m[3]) };
}

/**
 * Segments live in one directory per UTC hour of their end time, named like
 * `2026-11-28T14`: a window ending now lists the directories of the hours it
 * touches, not a week's 60,000 names (at 10 s windows). Keyed by the end, a
 * directory whose hour is over before the window starts holds nothing the
 * window needs; one after the window may (a segment's spans can start long
 * before it ends), so those are listed. Segments directly in `segments/`
 * (stores written before the hour directories) are read and evicted too.
 */
export function segmentHourDir(toMs: number): string {
  const d = new Date(Math.floor(toMs / HOUR_MS) * HOUR_MS);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${String(d.getUTCFullYear()).padStart(4, '0')}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}T${p2(d.getUTCHours())}`;
}

const HOUR_MS = 3_600_000;
const HOUR_DIR_RE = /^(\d{4,6})-(\d\d)-(\d\d)T(\d\d)$/;

/** The start of the hour an hour directory holds segment ends of; undefined for other names. */
export function parseSegmentHourDir(name: string): number | undefined {
  const m = HOUR_DIR_RE.exec(name);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
  return segmentHourDir(ms) === name ? ms : undefined;
}

/** What a listing met that is not a segment: a temp file of a write, or a stray name. */
export type ListingOddity = (file: string, kind: 'temp' | 'stray') => void;

/**
 * The segments under `segmentsDir` that may overlap [fromMs, toMs] by their
 * names, oldest first, each with `file` relative to `segmentsDir`
 * (`2026-11-28T14/<name>.seg`, or `<name>.seg` in the old flat layout). An hour
 * directory removed while being listed (eviction) counts as empty.
 */
export function listSegments(segmentsDir: string, fromMs = -Infinity, toMs = Infinity, odd: ListingOddity = () => {}): SegmentName[] {
  const out: SegmentName[] = [];
  const { hours, flat } = readSegmentsDir(segmentsDir, odd);
  for (const s of flat) if (s.toMs >= fromMs && s.fromMs <= toMs) out.push(s);
  for (const { name, startMs } of hours) {
    if (startMs + HOUR_MS <= fromMs) continue;
    for (const s of readHourDir(segmentsDir, name, odd)) if (s.toMs >= fromMs && s.fromMs <= toMs) out.push(s);
  }
  return sortSegments(out);
}

/**
 * Every segment, latest end first, listing one hour directory at a time as
 * the caller goes back: a search that stops early (a trace lookup) lists
 * only the hours it reached. Old flat-layout segments come in their place.
 */
export function* segmentsNewestFirst(segmentsDir: string, odd: ListingOddity = () => {}): Generator<SegmentName> {
  const { hours, flat } = readSegmentsDir(segmentsDir, odd);
  const byEnd = (a: SegmentName, b: SegmentName) => b.toMs - a.toMs;
  flat.sort(byEnd);
  hours.sort((a, b) => b.startMs - a.startMs);
  let f = 0;
  for (const { name, startMs } of hours) {
    while (f < flat.length && flat[f]!.toMs >= startMs + HOUR_MS) yield flat[f++]!;
    const inHour = readHourDir(segmentsDir, name, odd).sort(byEnd);
    for (const s of inHour) {
      while (f < flat.length && flat[f]!.toMs >= s.toMs) yield flat[f++]!;
      yield s;
    }
  }
  while (f < flat.length) yield flat[f++]!;
}

/** The top of segments/: its hour directories (unsorted) and the segments directly in it. */
function readSegmentsDir(segmentsDir: string, odd: ListingOddity): { hours: { name: string; startMs: number }[]; flat: SegmentName[] } {
  const hours: { name: string; startMs: number }[] = [];
  const flat: SegmentName[] = [];
  for (const entry of fs.readdirSync(segmentsDir)) {
    const startMs = parseSegmentHourDir(entry);
    if (startMs !== undefined) {
      hours.push({ name: entry, startMs });
      continue;
    }
    const seg = parseSegmentFileName(entry);
    if (seg) flat.push(seg);
    else odd(`${segmentsDir}/${entry}`, entry.startsWith(TEMP_PREFIX) ? 'temp' : 'stray');
  }
  return { hours, flat };
}

/** The segments of one hour directory, unsorted; none when it was removed meanwhile. */
function readHourDir(segmentsDir: string, hour: string, odd: ListingOddity): SegmentName[] {
  const dir = `${segmentsDir}/${hour}`;
  let files: string[];
  try {
    files = fs.readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    if (code === 'ENOTDIR') {
      odd(dir, 'stray');
      return [];
    }
    throw err;
  }
  const out: SegmentName[] = [];
  for (const f of files) {
    const seg = parseSegmentFileName(f, `${hour}/${f}`);
    if (seg) out.push(seg);
    else odd(`${dir}/${f}`, f.startsWith(TEMP_PREFIX) ? 'temp' : 'stray');
  }
  return out;
}

/** The store's order of segments: by start, then end, then name for a stable order. */
export function compareSegments(a: SegmentName, b: SegmentName): number {
  return a.fromMs - b.fromMs || a.toMs - b.toMs || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
}

/** Segments sorted oldest first (compareSegments). */
export function sortSegments<T extends SegmentName>(list: T[]): T[] {
  return list.sort(compareSegments);
}

export function tableFileName(generation: number, kind: 'frames' | 'stacks'): string {
  return `g${String(generation).padStart(6, '0')}.${kind}`;
}

export function parseTableFileName(file: string): { generation: number; kind: 'frames' | 'stacks' } | undefined {
  const m = /^g(\d{6,})\.(frames|stacks)$/.exec(file);
  if (!m) return undefined;
  return { generation: Number(m[1]), kind: m[2] as 'frames' | 'stacks' };
}

/** Creates a directory (and parents) with mode 0755 whatever the umask. */
export function ensureDir(dir: string): void {
  if (fs.existsSync(dir)) return;
  ensureDir(path.dirname(dir));
  makeDir(dir);
}

/**
 * Creates one directory with mode 0755 whatever the umask; true when it made
 * it, false when it was there. Its parent must exist (ENOENT otherwise: a
 * store removed under its writer is not quietly made again here).
 */
export function makeDir(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { mode: DIR_MODE });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  }
  fs.chmodSync(dir, DIR_MODE);
  return true;
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Writes `data` to `dir/name` so that readers see either nothing or the whole
 * file: write a temp file in the same directory, fsync, rename, fsync the dir.
 */
export function writeFileAtomic(dir: string, name: string, data: Uint8Array | string, durable = true): void {
  const temp = path.join(dir, `${TEMP_PREFIX}${process.pid}-${randomHex8()}-${name}`);
  const fd = fs.openSync(temp, 'wx', FILE_MODE);
  try {
    fs.fchmodSync(fd, FILE_MODE);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done);
    if (durable) fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(temp, path.join(dir, name));
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
  if (durable) fsyncDir(dir);
}
