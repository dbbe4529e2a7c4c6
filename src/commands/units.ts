// Parsing of the units people type on the command line: durations (10s, 15m,
// 2h, 7d), sizes (512MiB, 1GB), and points in time for --since/--until
// (a duration ago, a local clock time, or RFC 3339). Every failure is a
// UserError that names the option and shows accepted forms.
import { UserError } from '../errors.js';
import { parseDurationMs } from '../slo/duration.js';

/** '10s', '1h30m', '250ms', '7d' → milliseconds. A bare number is refused: say the unit. */
export function parseDuration(text: string, option = 'duration'): number {
  const ms = /^\s*\d+(\.\d+)?\s*$/.test(text) ? undefined : parseDurationMs(text);
  if (ms === undefined) {
    throw new UserError(`${option}: cannot read '${text}' as a duration`, 'use a number with a unit: 500ms, 10s, 15m, 2h, 7d (or combined: 1h30m)');
  }
  return ms;
}

const sizeUnits: Record<string, number> = {
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  tib: 1024 ** 4,
};

/** '512MiB', '1GB', '2g', '1048576' → bytes. */
export function parseSize(text: string, option = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? sizeUnits[(m[2] || 'b').toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UserError(`${option}: cannot read '${text}' as a size`, 'use a number with a unit: 500MB, 1GiB, 2g');
  return Math.round(Number(m[1]) * unit);
}

/** Bytes as people read them: 512 B, 17.9 KiB, 1.0 GiB. */
export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** --hz: samples per second per CPU, 1 to 10000 (the sampler's own bound). */
export function parseHz(text: unknown): number {
  const hz = parsePositiveInt(text ?? '99', '--hz');
  if (hz > 10_000) throw new UserError(`--hz ${hz}: too high`, 'use at most 10000 samples per second per CPU (99 is the default)');
  return hz;
}

/** A positive integer option such as --hz or --limit. */
export function parsePositiveInt(text: unknown, option: string, opts: { allowZero?: boolean } = {}): number {
  const n = typeof text === 'number' ? text : Number(String(text).trim());
  if (!Number.isInteger(n) || n < 0 || (n === 0 && !opts.allowZero)) {
    throw new UserError(`${option}: expected a ${opts.allowZero ? 'non-negative' : 'positive'} whole number, got '${String(text)}'`);
  }
  return n;
}

/**
 * A point in time for --since/--until, in ms since the epoch:
 * - 'now'
 * - a duration ago: '15m', '2h', '1d'
 * - a local clock time: '02:10', '14:30:05' (today; yesterday if that is in the future)
 * - RFC 3339 / ISO 8601: '2026-11-25T02:10:00Z', '2026-11-25 02:10'
 * - epoch seconds or milliseconds ('1764037800')
 */
export function parseTimeSpec(text: string, option: string, nowMs: number = Date.now()): number {
  const s = text.trim();
  if (s === 'now') return nowMs;
  if (/^\d+(?:\.\d+)?\s*(ms|s|m|h|d|w)/.test(s) && !/^\d{4}-/.test(s) && !/^\d{1,2}:/.test(s)) {
    return nowMs - parseDuration(s, option);
  }
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (clock) {
    const [h, mi, se] = [Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0)];
    if (h > 23 || mi > 59 || se > 59) throw new UserError(`${option}: '${text}' is not a clock time`);
    const d = new Date(nowMs);
    d.setHours(h, mi, se, 0);
    let t = d.getTime();
    if (t > nowMs + 60_000) t -= 86_400_000;
    return t;
  }
  if (/^\d{9,13}$/.test(s)) {
    const n = Number(s);
    return s.length <= 10 ? n * 1000 : n;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) {
    const t = Date.parse(s.includes('T') || s.length === 10 ? s : s.replace(' ', 'T'));
    if (!Number.isNaN(t)) return t;
  }
  throw new UserError(`${option}: cannot read '${text}' as a time`, 'use 15m or 2h (ago), 02:10 (local clock), or RFC 3339 such as 2026-11-25T02:10:00Z');
}

/** --since/--until → [fromMs, toMs], checked. */
export function parseTimeRange(since: unknown, until: unknown, nowMs: number = Date.now()): { fromMs: number; toMs: number } {
  const fromMs = parseTimeSpec(String(since ?? '1h'), '--since', nowMs);
  const toMs = until === undefined ? nowMs : parseTimeSpec(String(until), '--until', nowMs);
  if (fromMs > toMs) throw new UserError(`--since (${new Date(fromMs).toISOString()}) is after --until (${new Date(toMs).toISOString()})`);
  return { fromMs, toMs };
}
