// Reading a process's identity and memory layout from /proc: its mappings
// (/proc/PID/maps), its start time (field 22 of /proc/PID/stat, which with the
// pid names a process uniquely: pids are reused, start times are not) and its
// pid inside its own pid namespace (the last NSpid field of /proc/PID/status,
// which names its perf map).
//
// Parsing is pure and separate from reading so it can be tested on text. It
// must not open binaries or resolve symbols.

import { readFileSync, statSync, type Stats } from 'node:fs';

export interface Mapping {
  start: number;
  end: number;
  /** 'r-xp' etc. */
  perms: string;
  /** File offset of `start`. */
  offset: number;
  /** Device as "major:minor" (hex, as maps prints it). */
  dev: string;
  inode: number;
  /** Path or pseudo-name ([vdso], [heap], [anon:...]); '' for anonymous memory. */
  path: string;
  /** The file was deleted (or replaced) after being mapped. */
  deleted: boolean;
}

const DELETED = ' (deleted)';

/** Parses /proc/PID/maps text; lines that do not parse are skipped. Sorted by start. */
export function parseMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$/.exec(line);
    if (!m) continue;
    let path = m[7]!;
    const deleted = path.endsWith(DELETED);
    if (deleted) path = path.slice(0, -DELETED.length);
    out.push({
      start: parseInt(m[1]!, 16),
      end: parseInt(m[2]!, 16),
      perms: m[3]!,
      offset: parseInt(m[4]!, 16),
      dev: m[5]!,
      inode: Number(m[6]!),
      path,
      deleted,
    });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Index of the mapping holding addr in a start-sorted list, or -1. */
export function findMapping(maps: readonly Mapping[], addr: number): number {
  let lo = 0;
  let hi = maps.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const m = maps[mid]!;
    if (addr < m.start) hi = mid - 1;
    else if (addr >= m.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** Field 22 (starttime, in clock ticks since boot) of /proc/PID/stat text. */
export function parseStartTime(statText: string): string | undefined {
  // comm (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const close = statText.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = statText.slice(close + 2).split(' ');
  // fields[0] is field 3 (state), so field 22 is fields[19].
  return fields[19];
}

/** The pid in the innermost pid namespace, from /proc/PID/status text. */
export function parseNsPid(statusText: string): number | undefined {
  const m = /^NSpid:\s*(.*)$/m.exec(statusText);
  if (!m) return undefined;
  const ids = m[1]!.trim().split(/\s+/);
  const last = Number(ids[ids.length - 1]);
  return Number.isInteger(last) && last > 0 ? last : undefined;
}

export function readStartTime(procRoot: string, pid: number): string | undefined {
  try {
    return parseStartTime(readFileSync(`${procRoot}/${pid}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
}

/**
 * When the machine booted, in ms since the epoch, from /proc/uptime (10 ms
 * steps); undefined without it. With a process's start time (clock ticks
 * since boot, 100 a second on Linux) it gives the process's wall-clock start.
 */
export function readBootWallMs(procRoot: string): number | undefined {
  try {
    const uptime = Number.parseFloat(readFileSync(`${procRoot}/uptime`, 'latin1'));
    return Number.isFinite(uptime) ? Date.now() - uptime * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Clock ticks a second in /proc/PID/stat (USER_HZ: 100 on every Linux architecture). */
const USER_HZ = 100;

/** A process's start (field 22 of /proc/PID/stat, in clock ticks since boot) as wall-clock milliseconds. */
export function startWallMs(bootWallMs: number, ticks: number): number {
  return bootWallMs + (ticks * 1000) / USER_HZ;
}

export function readMaps(procRoot: string, pid: number): Mapping[] | undefined {
  try {
    return parseMaps(readFileSync(`${procRoot}/${pid}/maps`, 'utf8'));
  } catch {
    return undefined;
  }
}

export function readNsPid(procRoot: string, pid: number): number {
  try {
    return parseNsPid(readFileSync(`${procRoot}/${pid}/status`, 'latin1')) ?? pid;
  } catch {
    return pid;
  }
}

/** The process (thread group) a pid or thread id belongs to, from /proc/ID/status; undefined when there is none. */
export function readTgid(procRoot: string, id: number): number | undefined {
  try {
    const m = /^Tgid:\s*(\d+)/m.exec(readFileSync(`${procRoot}/${id}/status`, 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Executable code lives in these; data mappings never appear in stacks. */
export function isExecutable(m: Mapping): boolean {
  return m.perms[2] === 'x';
}

/** A mapping backed by a file on disk (not [vdso], [heap], anonymous memory or memfd). */
export function isFileBacked(m: Mapping): boolean {
  return m.inode !== 0 && m.path.startsWith('/');
}

/**
 * stat(2), or undefined when the path cannot be stat'ed. Paths under a gone
 * process's /proc/PID are, and the agent names a short-lived process's
 * samples after it has gone: a missing path costs no exception.
 */
export function statIfPresent(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}
