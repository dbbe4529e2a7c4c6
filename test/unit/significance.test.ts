// The statistical test of `profctl diff` against values worked out by hand
// (small Fisher tables, Holm's adjustment) and against exact rational sums.
import { describe, expect, it } from 'vitest';
import {
  fisherGrowthPValue,
  fisherShrinkPValue,
  fisherTwoSidedPValue,
  holmAdjust,
  hypergeometricUpperTail,
  logChoose,
  logGamma,
} from '../../src/query/significance.js';

function choose(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let r = 1n;
  for (let i = 0; i < k; i++) r = (r * BigInt(n - i)) / BigInt(i + 1);
  return r;
}

/** P(X >= k) exactly, as a ratio of big integers, then divided once. */
function exactUpperTail(population: number, successes: number, draws: number, k: number): number {
  let num = 0n;
  for (let x = Math.max(k, 0); x <= Math.min(draws, successes); x++) num += choose(successes, x) * choose(population - successes, draws - x);
  const den = choose(population, draws);
  // Scale so the division keeps 15+ digits.
  const scale = 10n ** 30n;
  return Number((num * scale) / den) / 1e30;
}

describe('logGamma and logChoose', () => {
  it('match factorials', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(logChoose(10, 3)).toBeCloseTo(Math.log(120), 10);
    expect(logChoose(3, 4)).toBe(-Infinity);
  });
});

describe('Fisher exact test on a 2x2 table', () => {
  it('the tea-tasting table: 1 of 4 in baseline, 3 of 4 in current', () => {
    const c = { baselineHits: 1, baselineSamples: 4, currentHits: 3, currentSamples: 4 };
    // P(X >= 3) = [C(4,3)C(4,1) + C(4,4)C(4,0)] / C(8,4) = 17/70
    expect(fisherGrowthPValue(c)).toBeCloseTo(17 / 70, 12);
    // P(X <= 3) = 1 - C(4,4)C(4,0)/C(8,4) = 69/70
    expect(fisherShrinkPValue(c)).toBeCloseTo(69 / 70, 12);
    expect(fisherTwoSidedPValue(c)).toBeCloseTo(34 / 70, 12);
  });

  it('a function new in current: 0 of 10, then 5 of 10', () => {
    const c = { baselineHits: 0, baselineSamples: 10, currentHits: 5, currentSamples: 10 };
    // All 5 hits fell in current: C(10,5) C(10,0) / C(20,5) = 252/15504
    expect(fisherGrowthPValue(c)).toBeCloseTo(252 / 15504, 12);
    expect(fisherShrinkPValue(c)).toBe(1);
  });

  it('equal counts are no evidence either way', () => {
    expect(fisherTwoSidedPValue({ baselineHits: 3, baselineSamples: 10, currentHits: 3, currentSamples: 10 })).toBe(1);
    expect(fisherTwoSidedPValue({ baselineHits: 5000, baselineSamples: 100000, currentHits: 5000, currentSamples: 100000 })).toBe(1);
  });

  it('matches the exact rational tail over every k of mid-sized tables', () => {
    for (const [N, K, n] of [
      [60, 17, 25],
      [200, 150, 90],
      [41, 1, 20],
      [300, 12, 280],
    ] as const) {
      for (let k = 0; k <= Math.min(K, n) + 1; k++) {
        const got = hypergeometricUpperTail({ population: N, successes: K, draws: n }, k);
        const want = exactUpperTail(N, K, n, k);
        expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 + 1e-9 * want);
      }
    }
  });

  it('stays finite and tiny for an obvious regression over millions of samples', () => {
    const p = fisherGrowthPValue({ baselineHits: 0, baselineSamples: 1_000_000, currentHits: 100_000, currentSamples: 1_000_000 });
    expect(Number.isNaN(p)).toBe(false);
    expect(p).toBeLessThan(1e-300);
    const q = fisherGrowthPValue({ baselineHits: 50_000, baselineSamples: 1_000_000, currentHits: 50_400, currentSamples: 1_000_000 });
    // z ≈ 400 / sqrt(2 · 1e6 · 0.0502 · 0.9498) ≈ 1.29: one-sided ≈ 0.098
    expect(q).toBeGreaterThan(0.08);
    expect(q).toBeLessThan(0.12);
  });

  it('refuses counts that are not whole or exceed their profile', () => {
    expect(() => fisherGrowthPValue({ baselineHits: 1.5, baselineSamples: 4, currentHits: 1, currentSamples: 4 })).toThrow(RangeError);
    expect(() => fisherGrowthPValue({ baselineHits: 5, baselineSamples: 4, currentHits: 1, currentSamples: 4 })).toThrow(RangeError);
  });
});

describe('Holm adjustment', () => {
  it('multiplies the i-th smallest by (m - i) and keeps the order monotone', () => {
    // sorted: 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → max so far: 0.06
    const adj = holmAdjust([0.01, 0.04, 0.03]);
    expect(adj[0]).toBeCloseTo(0.03, 12);
    expect(adj[1]).toBeCloseTo(0.06, 12);
    expect(adj[2]).toBeCloseTo(0.06, 12);
  });
  it('caps at 1 and handles no tests', () => {
    expect(holmAdjust([0.5, 0.5])).toEqual([1, 1]);
    expect(holmAdjust([])).toEqual([]);
  });
});
