// Perf maps: the text files JIT runtimes write so that profilers can name
// generated code (/tmp/perf-<pid>.map: Node's --perf-basic-prof, JVM
// perf-map agents, .NET, LuaJIT...). One line per code object:
//
//   7ffb3c0060c0 310 JS:*hotLoop /srv/app/loop.js:1:17
//   START(hex)   SIZE(hex) NAME
//
// The file only grows; it is read incrementally (only the new tail) and a
// later entry for the same range replaces an earlier one, since runtimes
// reuse code memory. Also here: turning Node/V8's names into readable frames.
// A perf map outlives its process, so besides the path through the process's
// root (/proc/PID/root/tmp/...) a fallback path (the host's /tmp/perf-N.map)
// is read once the first is gone. For the same reason a file at that path may
// be an earlier process's, left behind under a pid now reused: a map last
// written before the process started is not read.
// It must not look at /proc beyond the files it is given.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Frame } from '../profile/model.js';
import { statIfPresent } from './proc-maps.js';

export interface PerfMapEntry {
  start: number;
  end: number;
  name: string;
}

/** Parses one perf-map line; undefined for a malformed one. */
export function parsePerfMapLine(line: string): PerfMapEntry | undefined {
  const m = /^\s*(?:0x)?([0-9a-fA-F]+)\s+(?:0x)?([0-9a-fA-F]+)\s+(.*?)\s*$/.exec(line);
  if (!m) return undefined;
  const start = parseInt(m[1]!, 16);
  const size = parseInt(m[2]!, 16);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(size)) return undefined;
  return { start, end: start + Math.max(size, 1), name: m[3] ?? '' };
}

/** Module name of every frame resolved through a perf map. */
export const JIT_MODULE = '[jit]';

// V8 tiers: ~ interpreted (Ignition), ^ baseline (Sparkplug), + Maglev, * TurboFan.
const V8_JS = /^(?:JS|LazyCompile|Function|Script|Eval):([~^+*]?)(.*)$/;
const SOURCE_POS = /^(.*?)\s*(\S+?):(\d+)(?::(\d+))?$/;

/**
 * A frame for a perf-map name. V8's JavaScript entries lose the "JS:" kind
 * and the tier marker, so a function keeps one name whether interpreted or
 * optimized; its script and line go to Frame.file/line. Other entries
 * (Builtin:..., BytecodeHandler:..., JVM names) are kept as written.
 */
export function perfMapFrame(rawName: string): Frame {
  const js = V8_JS.exec(rawName);
  if (js) {
    const isEval = rawName.startsWith('Eval:') || rawName.startsWith('Script:');
    const rest = js[2]!.trim();
    const pos = SOURCE_POS.exec(rest);
    if (pos && (pos[2]!.includes('/') || pos[2]!.includes(':') || pos[2]!.includes('.'))) {
      const fn = pos[1]!;
      const file = pos[2]!;
      const line = Number(pos[3]);
      const base = file.slice(file.lastIndexOf('/') + 1);
      const name = fn !== '' ? fn : `(${isEval ? 'eval' : 'anonymous'}) ${base}:${line}`;
      return { name, module: JIT_MODULE, kind: 'jit', file, line, rawName };
    }
    const name = rest !== '' ? rest : isEval ? '(eval)' : '(anonymous)';
    return { name, module: JIT_MODULE, kind: 'jit', rawName };
  }
  return { name: rawName === '' ? '[unknown jit]' : rawName, module: JIT_MODULE, kind: 'jit' };
}

/** How often a process without a perf map is looked at again on a miss. */
const MISSING_RETRY_MS = 1000;
/** How long a perf map must have been missing before a miss counts as final. */
const SETTLE_MISSING_MS = 2000;

/**
 * The file opened for reading, or undefined. Most processes have no perf map,
 * and a short-lived one is gone (its /proc/PID/root with it) by the time its
 * samples are named: a stat that finds nothing costs no exception, an open
 * that fails does.
 */
function openIfPresent(path: string): number | undefined {
  if (!statIfPresent(path)) return undefined;
  try {
    return openSync(path, 'r');
  } catch {
    return undefined;
  }
}

/** One process's perf map, read incrementally. */
export class PerfMap {
  private entries: PerfMapEntry[] = [];
  private sorted = true;
  private bytesRead = 0;
  private partial = '';
  private readonly frames = new Map<string, Frame>();
  /** Date.now() of the last read attempt. */
  lastRefresh = 0;
  /** Lines that did not parse; reported, not fatal. */
  badLines = 0;
  /** The file could be opened at the last read: the process writes a perf map. */
  available = false;
  /** Date.now() of the first failed open since the file was last readable (0: not missing). */
  private missingSince = 0;

  constructor(
    readonly path: string,
    /** Read when `path` cannot be opened (the process is gone, its /proc/PID/root with it). */
    readonly fallbackPath?: string,
    /** Wall-clock ms before which no map of this process can have been written (its start, less a margin). */
    readonly notBeforeMs?: number,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  /**
   * refresh(), at most once per interval: lookups of JIT code without a perf
   * map (node without --perf-basic-prof) must not cost a file open per frame.
   */
  refreshIfStale(minIntervalMs = 50): boolean {
    const now = Date.now();
    if (now - this.lastRefresh < minIntervalMs) return false;
    return this.refresh();
  }

  /**
   * After a lookup missed: re-reads when the map was last read before the
   * sample was taken (code that ran then was written to the map before it
   * ran), and otherwise at most once per interval.
   */
  refreshForMiss(sampleTimeMs: number | undefined, minIntervalMs = 50): boolean {
    // No perf map at all (most processes): a stack with a garbage frame from a
    // binary without frame pointers misses every time; look again once a second,
    // not with an open() per sample.
    if (this.settledMissing) return this.refreshIfStale(MISSING_RETRY_MS);
    if (sampleTimeMs !== undefined && this.lastRefresh < sampleTimeMs + 20) return this.refresh();
    return this.refreshIfStale(minIntervalMs);
  }

  /** Reads whatever was appended since the last call. False when the file cannot be read. */
  refresh(): boolean {
    this.lastRefresh = Date.now();
    const fd = openIfPresent(this.path) ?? (this.fallbackPath === undefined ? undefined : openIfPresent(this.fallbackPath));
    if (fd === undefined) return this.missing();
    try {
      const stat = fstatSync(fd);
      // Another process's, which had this pid before: its names would be wrong here.
      if (this.notBeforeMs !== undefined && stat.mtimeMs < this.notBeforeMs) return this.missing();
      this.available = true;
      this.missingSince = 0;
      const size = stat.size;
      if (size < this.bytesRead) {
        // Truncated: a new process with this pid, or the runtime restarted the file.
        this.entries = [];
        this.bytesRead = 0;
        this.partial = '';
      }
      if (size === this.bytesRead) return true;
      const buf = Buffer.allocUnsafe(size - this.bytesRead);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, this.bytesRead + got);
        if (n === 0) break;
        got += n;
      }
      this.bytesRead += got;
      this.addText(buf.toString('utf8', 0, got));
      return true;
    } finally {
      closeSync(fd);
    }
  }

  private missing(): false {
    this.available = false;
    if (this.missingSince === 0) this.missingSince = this.lastRefresh;
    return false;
  }

  /**
   * The process has had no perf map for a while: it does not write one. (A
   * runtime that has just started may not have created its file yet, so the
   * first seconds of a process do not count.)
   */
  get settledMissing(): boolean {
    return !this.available && this.missingSince > 0 && Date.now() - this.missingSince >= SETTLE_MISSING_MS;
  }

  /** Adds perf-map text; an incomplete last line waits for the next read. */
  addText(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      const e = parsePerfMapLine(line);
      if (!e) {
        this.badLines++;
        continue;
      }
      const last = this.entries[this.entries.length - 1];
      if (last && e.start < last.start) this.sorted = false;
      this.entries.push(e);
    }
  }

  private ensureSorted(): void {
    if (this.sorted) return;
    // Stable sort keeps file order among equal starts, so the latest entry is last.
    this.entries.sort((a, b) => a.start - b.start);
    this.sorted = true;
  }

  /** The entry holding addr, preferring the one written last among overlapping entries. */
  lookup(addr: number): PerfMapEntry | undefined {
    this.ensureSorted();
    const es = this.entries;
    let lo = 0;
    let hi = es.length - 1;
    let i = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (es[mid]!.start <= addr) {
        i = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // Overlaps are rare (reused code memory); look back a little for an enclosing entry.
    for (let k = i; k >= 0 && k > i - 64; k--) {
      const e = es[k]!;
      if (addr < e.end) return e;
    }
    return undefined;
  }

  /** A frame for addr, or undefined when no entry holds it. Frames are shared: do not mutate. */
  frameAt(addr: number): Frame | undefined {
    const e = this.lookup(addr);
    if (!e) return undefined;
    let f = this.frames.get(e.name);
    if (!f) {
      f = perfMapFrame(e.name);
      this.frames.set(e.name, f);
    }
    return f;
  }
}
