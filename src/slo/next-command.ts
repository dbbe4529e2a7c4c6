// The next step of the walk for a burning latency SLO: the exact
// `profctl trace` command that lists the slowest traces of the service since
// a little before the burn started. Pure: times in, a command string out.
import type { SloEvaluation } from './evaluate.js';

/** How far before the start of the burn the trace window opens: the shortest alert window. */
export const traceLeadMs = 5 * 60_000;

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * A --since value that `profctl trace` reads: a local clock time (02:09) when
 * it falls earlier on the same local day as now, else RFC 3339 in UTC.
 * Rounded down to the minute so the window never starts late.
 */
export function sinceArgument(sinceMs: number, nowMs: number): string {
  const t = new Date(Math.floor(sinceMs / 60_000) * 60_000);
  const now = new Date(nowMs);
  const sameDay = t.getFullYear() === now.getFullYear() && t.getMonth() === now.getMonth() && t.getDate() === now.getDate();
  if (sameDay && t.getTime() <= nowMs) return `${pad(t.getHours())}:${pad(t.getMinutes())}`;
  return t.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A word as the shell reads it back: bare when safe, else in single quotes. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Extra flags that make the next command read the same data (e.g. --spans FILE). */
export interface DataFlags {
  spans?: string;
  store?: string;
}

export function nextCommand(e: SloEvaluation, nowMs: number, data: DataFlags = {}): string | null {
  if (e.error || e.status === 'ok' || e.slo.latencyMs === undefined || e.burningSinceMs === null) return null;
  const parts = ['profctl', 'trace', '--service', shellQuote(e.slo.service), '--since', sinceArgument(e.burningSinceMs - traceLeadMs, nowMs), '--until', 'now', '--slowest'];
  if (e.slo.sli.kind === 'spans') {
    if (data.spans) parts.push('--spans', shellQuote(data.spans));
    if (data.store) parts.push('--store', shellQuote(data.store));
  }
  return parts.join(' ');
}
