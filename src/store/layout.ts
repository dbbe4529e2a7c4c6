// Where things live inside a store directory, how segment files are named,
// and the durable-write primitives (temp file + fsync + rename + fsync of the
// directory). Every file and directory gets an explicit mode so a root agent
// with a strict umask still leaves a store that on-call users can read, and
// nothing is ever world-writable.
// It must not encode or decode segment contents.

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
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
  return `${from}-${to}-g${generation}-${randomBytes(4).toString('hex')}${SEGMENT_SUFFIX}`;
}

export function parseSegmentFileName(file: string): SegmentName | undefined {
  const m = SEGMENT_RE.exec(file);
  if (!m) return undefined;
  const fromMs = Number(m[1]);
  const toMs = Number(m[2]);
  if (!(toMs >= fromMs)) return undefined;
  return { file, fromMs, toMs, generation: Number(m[3]) };
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
  try {
    fs.mkdirSync(dir, { mode: DIR_MODE });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return;
  }
  fs.chmodSync(dir, DIR_MODE);
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
  const temp = path.join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}-${name}`);
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
