// The statistical test behind `profctl diff --fail-on-regression`: is the
// change in one function's share of the samples more than sampling noise?
// Pure arithmetic over sample counts; it knows nothing of profiles, and it
// must not be fed nanoseconds or bytes (see src/query/diff-sample-counts.ts
// for how counts are obtained) — a test over "1.8e9 samples" finds every
// wiggle significant.
//
// The model. A sampling profiler takes n independent samples; each lands in
// function f with probability p_f (its true self share). Baseline and current
// are two such runs: k_b of n_b samples in f, and k_c of n_c. "No change" is
// p_f equal in both runs. That is a 2×2 table (in f / elsewhere × baseline /
// current), and the exact test for it is Fisher's: given the margins, the
// number of f-samples that fell in the current run follows a hypergeometric
// law (N = n_b + n_c balls, K = k_b + k_c of them f-samples, n_c drawn). It is
// exact at the small counts a short CI run gives (a few hundred samples; a
// function that is new has k_b = 0), where the normal approximation of the
// two-proportion z-test is not trustworthy, and it needs no continuity
// fiddling at large counts. It assumes samples are independent draws, which
// timer-driven sampling of a steady workload approximates; a bursty workload
// makes any such test optimistic, which is why a regression must also exceed
// an effect size (PCT points) before it fails a build.
//
// The p-value is two-sided (twice the smaller tail, capped at 1) because
// which direction is looked at is chosen after seeing the data. Many
// functions are tested at once, so the p-values are adjusted with Holm's
// step-down method, which controls the chance of even one false alarm across
// all of them (family-wise error rate) at alpha, and is never less powerful
// than Bonferroni.

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: about 15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) {
    // Reflection keeps the series in its accurate range.
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** ln C(n, k). */
export function logChoose(n: number, k: number): number {
  if (k < 0 || k > n) return -Infinity;
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** A hypergeometric law: `draws` balls taken from `population`, `successes` of which are marked. */
interface Hypergeometric {
  population: number;
  successes: number;
  draws: number;
}

function support(h: Hypergeometric): [number, number] {
  return [Math.max(0, h.draws - (h.population - h.successes)), Math.min(h.draws, h.successes)];
}

function logPmf(h: Hypergeometric, x: number): number {
  return logChoose(h.successes, x) + logChoose(h.population - h.successes, h.draws - x) - logChoose(h.population, h.draws);
}

/**
 * Sums pmf(x) for x from `start` stepping by `step` (+1 or -1) while the
 * terms shrink, which holds when `start` is on the far side of the mode.
 * Terms are summed relative to the first one, so p-values far below the
 * smallest double (an obvious regression over millions of samples) come out
 * as 0 rather than NaN.
 */
function monotoneTail(h: Hypergeometric, start: number, step: 1 | -1): number {
  const [lo, hi] = support(h);
  const { population: N, successes: K, draws: n } = h;
  let relative = 1;
  let sum = 1;
  for (let x = start; step === 1 ? x < hi : x > lo; x += step) {
    // pmf(x+1)/pmf(x) and pmf(x-1)/pmf(x), from the factorials.
    const ratio =
      step === 1 ? ((K - x) * (n - x)) / ((x + 1) * (N - K - n + x + 1)) : (x * (N - K - n + x)) / ((K - x + 1) * (n - x + 1));
    relative *= ratio;
    sum += relative;
    if (relative < sum * 1e-17) break;
  }
  return Math.min(1, Math.exp(logPmf(h, start) + Math.log(sum)));
}

/** P(X >= k) for X hypergeometric. */
export function hypergeometricUpperTail(h: Hypergeometric, k: number): number {
  const [lo, hi] = support(h);
  if (k <= lo) return 1;
  if (k > hi) return 0;
  const mode = Math.floor(((h.draws + 1) * (h.successes + 1)) / (h.population + 2));
  if (k > mode) return monotoneTail(h, k, 1);
  return Math.max(0, 1 - monotoneTail(h, k - 1, -1));
}

/** P(X <= k) for X hypergeometric. */
export function hypergeometricLowerTail(h: Hypergeometric, k: number): number {
  return Math.max(0, Math.min(1, 1 - hypergeometricUpperTail(h, k + 1)));
}

/** Counts of one function in two runs. */
export interface ShareCounts {
  baselineHits: number;
  baselineSamples: number;
  currentHits: number;
  currentSamples: number;
}

function lawOf(c: ShareCounts): Hypergeometric {
  return {
    population: c.baselineSamples + c.currentSamples,
    successes: c.baselineHits + c.currentHits,
    draws: c.currentSamples,
  };
}

function checkCounts(c: ShareCounts): void {
  for (const [name, v] of Object.entries(c)) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a whole count, got ${v}`);
  }
  if (c.baselineHits > c.baselineSamples || c.currentHits > c.currentSamples) {
    throw new RangeError('a function cannot have more samples than its profile');
  }
}

/** One-sided Fisher exact p-value that the share grew from baseline to current. */
export function fisherGrowthPValue(c: ShareCounts): number {
  checkCounts(c);
  return hypergeometricUpperTail(lawOf(c), c.currentHits);
}

/** One-sided Fisher exact p-value that the share shrank from baseline to current. */
export function fisherShrinkPValue(c: ShareCounts): number {
  checkCounts(c);
  return hypergeometricLowerTail(lawOf(c), c.currentHits);
}

/** Two-sided Fisher exact p-value (doubling the smaller tail), for a change either way. */
export function fisherTwoSidedPValue(c: ShareCounts): number {
  if (c.baselineSamples === 0 || c.currentSamples === 0) return 1;
  return Math.min(1, 2 * Math.min(fisherGrowthPValue(c), fisherShrinkPValue(c)));
}

/**
 * Holm's step-down adjustment: the i-th smallest of m p-values is multiplied
 * by (m - i), made non-decreasing, and capped at 1. An adjusted p-value below
 * alpha rejects its hypothesis with family-wise error rate at most alpha.
 * Returned in the order given.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}
