// Durations as SLO definitions and Prometheus spell them: "300ms", "5m",
// "1h30m", "30d", and OpenSLO's shorthand ("4w", "1M", "1Q", "1Y", treated as
// rolling lengths of 30, 90 and 365 days). Parsing and formatting only: this
// module knows nothing about SLOs or clocks.

const unitMs: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  M: 30 * 86_400_000,
  Q: 90 * 86_400_000,
  Y: 365 * 86_400_000,
  y: 365 * 86_400_000,
};

/** Milliseconds of a duration string, or undefined when it is not one. A bare number is seconds. */
export function parseDurationMs(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text * 1000 : undefined;
  const s = text.trim();
  if (s === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|M|Q|Y|y)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(part)) {
    if (m.index !== consumed) return undefined;
    total += Number(m[1]) * unitMs[m[2]!]!;
    consumed += m[0].length;
  }
  return consumed === s.length ? total : undefined;
}

/**
 * The shortest exact spelling of a duration in Prometheus units ("5m",
 * "1h30m", "30d"), which is also how windows are named in --json output.
 */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ];
  let rest = Math.round(ms);
  let out = '';
  for (const [name, size] of units) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${name}`;
      rest %= size;
    }
  }
  return out;
}

/**
 * A span of time for people, to two units at most: "961ms", "6.98s",
 * "12m30s", "5h1m", "3d5h". For ages and uptimes, where the exact form
 * ("3d5h1m1s250ms") says more than anyone reads.
 */
export function formatRoughDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 59_995) return `${(ms / 1000).toFixed(2)}s`; // not "60.00s"
  const unit = ms < 3_600_000 ? 1000 : ms < 86_400_000 ? 60_000 : 3_600_000;
  return formatDuration(Math.round(ms / unit) * unit);
}

/** A latency for people: "300ms", "1.5s". */
export function formatLatency(ms: number): string {
  if (ms < 1000) return `${Math.round(ms * 100) / 100}ms`;
  if (ms % 60_000 === 0) return formatDuration(ms);
  return `${Math.round(ms / 10) / 100}s`;
}
