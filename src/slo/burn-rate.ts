// Burn-rate arithmetic of the SRE Workbook's multiwindow, multi-burn-rate
// alerts, as pure functions: no I/O, no clocks.
//
// Burn rate over a window = (bad / total) / (1 - objective). A window with no
// traffic burns at 0 (not NaN) and is flagged so the table can say so.
//
// The Workbook's table is for a 30-day SLO:
//   page    1h and 5m  both > 14.4×   (2% of the budget spent in 1h)
//   page    6h and 30m both > 6×      (5% of the budget in 6h)
//   ticket  1d and 2h  both > 3×      (10% of the budget in 1d)
//   ticket  3d and 6h  both > 1×      (10% of the budget in 3d)
// Scaling to an SLO window W: the windows stay as they are and each threshold
// is the burn rate that spends the same fraction of the budget over the long
// window: threshold = fraction × W / long window. For W = 30d that gives back
// 14.4, 6, 3 and 1; for W = 7d it gives 3.36, 1.4, 0.7 and 0.233.
// A condition fires only when the burn is strictly above its threshold (as the
// Workbook's `>`): a burn exactly at the threshold does not fire.

export const burnWindows = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;
export type BurnWindow = (typeof burnWindows)[number];

export const burnWindowMs: Record<BurnWindow, number> = {
  '5m': 5 * 60_000,
  '30m': 30 * 60_000,
  '1h': 3_600_000,
  '2h': 2 * 3_600_000,
  '6h': 6 * 3_600_000,
  '1d': 86_400_000,
  '3d': 3 * 86_400_000,
};

export type Status = 'page' | 'ticket' | 'ok';
export const severity: Record<Status, number> = { ok: 0, ticket: 1, page: 2 };

export interface AlertRule {
  status: 'page' | 'ticket';
  long: BurnWindow;
  short: BurnWindow;
  /** Fraction of the error budget spent over the long window at the threshold. */
  budgetFraction: number;
}

export const alertRules: AlertRule[] = [
  { status: 'page', long: '1h', short: '5m', budgetFraction: 0.02 },
  { status: 'page', long: '6h', short: '30m', budgetFraction: 0.05 },
  { status: 'ticket', long: '1d', short: '2h', budgetFraction: 0.1 },
  { status: 'ticket', long: '3d', short: '6h', budgetFraction: 0.1 },
];

/** Bad and total events (or rates: only their ratio matters) in one window. */
export interface EventCounts {
  bad: number;
  total: number;
}

export function burnThreshold(rule: AlertRule, sloWindowMs: number): number {
  return (rule.budgetFraction * sloWindowMs) / burnWindowMs[rule.long];
}

/** Error ratio, clamped to [0, 1]; 0 when there was no traffic. */
export function errorRatio(c: EventCounts): number {
  if (!(c.total > 0)) return 0;
  return Math.min(1, Math.max(0, c.bad / c.total));
}

export function burnRate(c: EventCounts, objectivePercent: number): number {
  return errorRatio(c) / (1 - objectivePercent / 100);
}

export function hasTraffic(c: EventCounts): boolean {
  return c.total > 0;
}

/**
 * Fraction of the error budget left over the SLO window: 1 untouched, 0 spent,
 * negative when overspent. No traffic spends nothing.
 */
export function budgetRemaining(overWindow: EventCounts, objectivePercent: number): number {
  return 1 - burnRate(overWindow, objectivePercent);
}

// Relative slack so that a burn computed as exactly the threshold (which
// floating point may put a hair above) does not fire.
const thresholdSlack = 1e-9;

function above(rate: number, threshold: number): boolean {
  return rate > threshold * (1 + thresholdSlack);
}

/** The rules whose long and short windows both burn above the scaled threshold. */
export function firingRules(rates: Record<BurnWindow, number>, sloWindowMs: number): AlertRule[] {
  return alertRules.filter((r) => {
    const t = burnThreshold(r, sloWindowMs);
    return above(rates[r.long], t) && above(rates[r.short], t);
  });
}

export function statusOf(rates: Record<BurnWindow, number>, sloWindowMs: number): Status {
  const firing = firingRules(rates, sloWindowMs);
  if (firing.some((r) => r.status === 'page')) return 'page';
  if (firing.length > 0) return 'ticket';
  return 'ok';
}

export function burnRatesOf(counts: Record<BurnWindow, EventCounts>, objectivePercent: number): Record<BurnWindow, number> {
  const out = {} as Record<BurnWindow, number>;
  for (const w of burnWindows) out[w] = burnRate(counts[w], objectivePercent);
  return out;
}

/**
 * Steps back from `nowMs` by `stepMs` while `holds(t)` is true, no further
 * than `earliestMs`. Returns the earliest time at which it still held (now
 * when it holds only now), and whether the search ran out of history.
 */
export function stepBackWhile(nowMs: number, stepMs: number, earliestMs: number, holds: (tMs: number) => boolean): { sinceMs: number; reachedLimit: boolean } {
  let since = nowMs;
  for (let t = nowMs - stepMs; t >= earliestMs; t -= stepMs) {
    if (!holds(t)) return { sinceMs: since, reachedLimit: false };
    since = t;
  }
  return { sinceMs: since, reachedLimit: true };
}
