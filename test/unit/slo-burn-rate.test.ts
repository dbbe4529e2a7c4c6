// Burn-rate arithmetic against hand-computed cases: the Workbook's 30-day
// table, its scaling to other windows, empty windows, no traffic, a burn
// exactly at the threshold, and stepping back to when a condition started.
import { describe, expect, it } from 'vitest';
import {
  alertRules,
  budgetRemaining,
  burnRate,
  burnRatesOf,
  burnThreshold,
  burnWindows,
  firingRules,
  hasTraffic,
  statusOf,
  stepBackWhile,
  type BurnWindow,
  type EventCounts,
} from '../../src/slo/burn-rate.js';

const day = 86_400_000;

function rates(partial: Partial<Record<BurnWindow, number>>): Record<BurnWindow, number> {
  return Object.fromEntries(burnWindows.map((w) => [w, partial[w] ?? 0])) as Record<BurnWindow, number>;
}

describe('burn rate', () => {
  it('is the error ratio over the error budget', () => {
    expect(burnRate({ bad: 1, total: 100 }, 99)).toBeCloseTo(1, 12);
    expect(burnRate({ bad: 5, total: 100 }, 99)).toBeCloseTo(5, 12);
    expect(burnRate({ bad: 1, total: 1000 }, 99.9)).toBeCloseTo(1, 12);
    expect(burnRate({ bad: 0, total: 1000 }, 99.9)).toBe(0);
    // All requests bad at 99.9%: 1 / 0.001
    expect(burnRate({ bad: 50, total: 50 }, 99.9)).toBeCloseTo(1000, 9);
  });

  it('is 0, not NaN, for a window with no traffic (an empty window)', () => {
    const empty: EventCounts = { bad: 0, total: 0 };
    expect(burnRate(empty, 99.9)).toBe(0);
    expect(hasTraffic(empty)).toBe(false);
    expect(hasTraffic({ bad: 0, total: 0.5 })).toBe(true); // rates, not counts, from Prometheus
  });

  it('clamps nonsense (bad > total, negative) into [0, 1] of errors', () => {
    expect(burnRate({ bad: 20, total: 10 }, 90)).toBeCloseTo(10, 12);
    expect(burnRate({ bad: -3, total: 10 }, 90)).toBe(0);
  });
});

describe('thresholds scaled to the SLO window', () => {
  it('give back the Workbook table for 30 days', () => {
    expect(alertRules.map((r) => [r.status, r.long, r.short])).toEqual([
      ['page', '1h', '5m'],
      ['page', '6h', '30m'],
      ['ticket', '1d', '2h'],
      ['ticket', '3d', '6h'],
    ]);
    expect(alertRules.map((r) => burnThreshold(r, 30 * day))).toEqual([14.4, 6, 3, 1].map((x) => expect.closeTo(x, 12)));
  });
  it('spend the same fraction of the budget for other windows', () => {
    // 7 days: 2% of a 7d budget in 1h is a burn of 0.02 * 168 = 3.36
    expect(alertRules.map((r) => burnThreshold(r, 7 * day))).toEqual([3.36, 1.4, 0.7, 0.7 / 3].map((x) => expect.closeTo(x, 12)));
    // 28 days (OpenSLO's usual 4w)
    expect(burnThreshold(alertRules[0]!, 28 * day)).toBeCloseTo(13.44, 12);
  });
});

describe('status', () => {
  const W = 30 * day;
  it('pages when 1h and 5m both burn above 14.4x', () => {
    expect(statusOf(rates({ '1h': 15, '5m': 20 }), W)).toBe('page');
    expect(firingRules(rates({ '1h': 15, '5m': 20 }), W).map((r) => r.long)).toEqual(['1h']);
  });
  it('needs both windows: a spike in 5m alone, or an old burn in 1h alone, does not page', () => {
    expect(statusOf(rates({ '1h': 10, '5m': 100 }), W)).toBe('ok');
    expect(statusOf(rates({ '1h': 20, '5m': 0 }), W)).toBe('ok');
  });
  it('pages when 6h and 30m both burn above 6x', () => {
    expect(statusOf(rates({ '6h': 7, '30m': 6.5 }), W)).toBe('page');
  });
  it('tickets on 1d/2h above 3x or 3d/6h above 1x', () => {
    expect(statusOf(rates({ '1d': 3.5, '2h': 4 }), W)).toBe('ticket');
    expect(statusOf(rates({ '3d': 1.2, '6h': 1.1 }), W)).toBe('ticket');
    expect(statusOf(rates({ '3d': 1.2, '6h': 0.9 }), W)).toBe('ok');
  });
  it('does not fire exactly at the threshold, computed from counts', () => {
    // 144 slow of 10000 at 99.9%: error ratio 0.0144, burn exactly 14.4
    const at = burnRate({ bad: 144, total: 10_000 }, 99.9);
    const counts = { bad: 144, total: 10_000 };
    const all = burnRatesOf(Object.fromEntries(burnWindows.map((w) => [w, counts])) as Record<BurnWindow, EventCounts>, 99.9);
    expect(at).toBeCloseTo(14.4, 9);
    // 14.4 is above the 6x, 3x and 1x thresholds, so it tickets and pages on 6h/30m — but not on 1h/5m:
    expect(firingRules(all, W).map((r) => r.long)).toEqual(['6h', '1d', '3d']);
    expect(statusOf(rates({ '1h': at, '5m': at }), W)).toBe('ok');
    const above = burnRate({ bad: 145, total: 10_000 }, 99.9);
    expect(statusOf(rates({ '1h': above, '5m': above }), W)).toBe('page');
    // Exactly 1x on 3d/6h (1 bad in 100 at 99%) does not ticket either.
    const one = burnRate({ bad: 1, total: 100 }, 99);
    expect(statusOf(rates({ '3d': one, '6h': one }), W)).toBe('ok');
  });
  it('scales with the window: 4x over 1h and 5m pages a 7-day SLO, not a 30-day one', () => {
    expect(statusOf(rates({ '1h': 4, '5m': 4 }), 7 * day)).toBe('page');
    expect(statusOf(rates({ '1h': 4, '5m': 4 }), 30 * day)).toBe('ok');
  });
  it('is ok with no traffic anywhere', () => {
    expect(statusOf(rates({}), W)).toBe('ok');
  });
});

describe('budget remaining', () => {
  it('is the unspent fraction of the budget over the window', () => {
    expect(budgetRemaining({ bad: 5, total: 10_000 }, 99.9)).toBeCloseTo(0.5, 12);
    expect(budgetRemaining({ bad: 10, total: 10_000 }, 99.9)).toBeCloseTo(0, 12);
    expect(budgetRemaining({ bad: 30, total: 10_000 }, 99.9)).toBeCloseTo(-2, 12);
  });
  it('is untouched with no traffic', () => {
    expect(budgetRemaining({ bad: 0, total: 0 }, 99.9)).toBe(1);
  });
});

describe('stepBackWhile', () => {
  const now = 1_000_000;
  it('finds the earliest step at which the condition still held', () => {
    const r = stepBackWhile(now, 10, 0, (t) => t >= now - 55);
    expect(r).toEqual({ sinceMs: now - 50, reachedLimit: false });
  });
  it('returns now when the condition holds only now', () => {
    expect(stepBackWhile(now, 10, 0, (t) => t === now)).toEqual({ sinceMs: now, reachedLimit: false });
  });
  it('says when it ran out of history', () => {
    expect(stepBackWhile(now, 10, now - 30, () => true)).toEqual({ sinceMs: now - 30, reachedLimit: true });
  });
});
