// The agent's status file, rewritten atomically at every flush so that
// `profctl status` (run by anyone) can tell whether an agent is running and
// how it is doing without talking to it.
// It must not compute the figures; the agent hands them over.

import fs from 'node:fs';
import path from 'node:path';
import { LOCK_FILE, STATUS_FILE, ensureDir, readLockPid, writeFileAtomic } from './layout.js';
import { processAlive } from './writer.js';
import { readBootWallMs, readStartTime, startWallMs } from '../symbolize/proc-maps.js';

export interface AgentStatus {
  pid: number;
  /** When this status was written, ms since the epoch. */
  updatedMs: number;
  startedMs: number;
  hz: number;
  flushMs: number;
  engine?: string;
  samplesPerSecond: number;
  lostPerSecond: number;
  /** The agent's own CPU use, percent of one core. */
  cpuPercent: number;
  rssBytes: number;
  maxSizeBytes: number;
  retentionMs: number;
  /** OTLP/HTTP receiver address, when on. */
  otlpAddress?: string;
  /** Totals since the agent started. */
  samplesTotal?: number;
  lostTotal?: number;
  spansReceived?: number;
  /** Samples and spans waiting for a store that refused their write (its file system full, an I/O error). */
  unwritten?: number;
}

export interface AgentStatusRead extends AgentStatus {
  /**
   * The agent's pid exists, and the status is recent (written within three
   * flush intervals) or that pid still holds the store's writer lock.
   */
  running: boolean;
  /** Running, but its status has not been rewritten for three flush intervals (a store it cannot write). */
  stale: boolean;
}

/** Writes the status file (temp + rename; no fsync: it is rewritten every flush). */
export function writeAgentStatus(dir: string, status: AgentStatus): void {
  ensureDir(dir);
  writeFileAtomic(dir, STATUS_FILE, `${JSON.stringify(status, null, 2)}\n`, false);
}

/** The last status the agent wrote, or undefined when there is none or it cannot be parsed. */
export function readAgentStatus(dir: string, nowMs = Date.now()): AgentStatusRead | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, STATUS_FILE), 'utf8');
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const s = parsed as Partial<AgentStatus>;
  if (typeof s !== 'object' || s === null || typeof s.pid !== 'number' || typeof s.updatedMs !== 'number') return undefined;
  const status = s as AgentStatus;
  const fresh = nowMs - status.updatedMs <= 3 * Math.max(1000, status.flushMs ?? 10_000);
  // A full file system stops the status file too, not the agent: its lock says it is still there.
  const running =
    processAlive(status.pid) && (fresh || (readLockPid(path.join(dir, LOCK_FILE)) === status.pid && startedAround(status.pid, status.startedMs)));
  return { ...status, running, stale: running && !fresh };
}

/**
 * The process with this pid started shortly before the agent said it started:
 * an agent that died leaves its lock and status behind, and its pid may since
 * name another program. True when /proc cannot tell.
 */
function startedAround(pid: number, startedMs: number): boolean {
  const ticks = Number(readStartTime('/proc', pid));
  const boot = readBootWallMs('/proc');
  if (!Number.isFinite(ticks) || boot === undefined) return true;
  const startMs = startWallMs(boot, ticks);
  return startMs <= startedMs + 2000 && startMs >= startedMs - 300_000;
}
