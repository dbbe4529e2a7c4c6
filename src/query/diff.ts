// The per-function comparison behind `profctl diff`: each function's self and
// total share of its profile in a baseline and a current run, the change in
// percentage points, and whether the change in self share is more than
// sampling noise. A pure pass over two already-selected profiles; it neither
// reads files, filters, nor formats, and it reuses aggregateFunctions so that
// its numbers are the ones `profctl top` prints.
//
// Shares, not raw values: each profile is normalised by its own total, so a
// 30-second run compares with a 10-second one. Functions are matched by name
// (pprof's function granularity), so a rebuilt binary at a new path still
// lines up with its baseline.

import type { Profile } from '../profile/model.js';
import { aggregateFunctions, type FunctionRow } from './aggregate.js';
import { sampleCountColumn, type CountSource } from './diff-sample-counts.js';
import { fisherTwoSidedPValue, holmAdjust } from './significance.js';

/** Family-wise error rate for calling a change significant. */
export const DEFAULT_ALPHA = 0.05;

export interface DiffInput {
  profile: Profile;
  typeIndex: number;
}

export interface DiffSideSummary {
  /** Sum of the chosen sample type, in `unit`. */
  total: number;
  unit: string;
  sampleType: string;
  /** Number of samples the significance test counts (see diff-sample-counts.ts). */
  samples: number;
  countSource: CountSource;
}

/** 'new': no sample in the baseline has it; 'gone': none in current has it. */
export type DiffStatus = 'new' | 'gone' | 'both';

export interface FunctionDiff {
  function: string;
  module: string;
  status: DiffStatus;
  baselineSelf: number;
  currentSelf: number;
  baselineTotal: number;
  currentTotal: number;
  /** Shares in percent of each profile's total; deltas in percentage points. */
  baselineSelfPct: number;
  currentSelfPct: number;
  deltaSelfPct: number;
  baselineTotalPct: number;
  currentTotalPct: number;
  deltaTotalPct: number;
  /** Samples whose leaf is this function, in each run. */
  baselineSelfSamples: number;
  currentSelfSamples: number;
  /** Two-sided Fisher exact p-value of the self-share change. */
  rawPValue: number;
  /** rawPValue after Holm's adjustment over every function with self samples. */
  pValue: number;
  /** pValue < alpha. */
  significant: boolean;
}

export interface ProfileDiff {
  baseline: DiffSideSummary;
  current: DiffSideSummary;
  alpha: number;
  /** Sorted by growth: self-share change first, then total-share change, then current share, then name. */
  rows: FunctionDiff[];
}

interface Side {
  summary: DiffSideSummary;
  byFunction: Map<string, FunctionRow>;
  selfSamples: Map<string, number>;
}

function pct(part: number, whole: number): number {
  return whole > 0 ? (100 * part) / whole : 0;
}

function aggregateSide(input: DiffInput): Side {
  const { profile, typeIndex } = input;
  const type = profile.sampleTypes[typeIndex];
  if (!type) throw new RangeError(`no sample type at index ${typeIndex}`);
  const values = aggregateFunctions(profile, typeIndex, 'function');
  const counts = sampleCountColumn(profile, typeIndex);
  const countRows = counts.countIndex === typeIndex && counts.profile === profile ? values : aggregateFunctions(counts.profile, counts.countIndex, 'function');
  const byFunction = new Map(values.rows.map((r) => [r.key, r]));
  const selfSamples = new Map(countRows.rows.map((r) => [r.key, Math.round(r.self)]));
  return {
    summary: {
      total: values.total,
      unit: type.unit,
      sampleType: type.type,
      samples: Math.round(countRows.total),
      countSource: counts.source,
    },
    byFunction,
    selfSamples,
  };
}

function compareRows(a: FunctionDiff, b: FunctionDiff): number {
  // Among equal changes (identical inputs: all zero) the hottest come first.
  return (
    b.deltaSelfPct - a.deltaSelfPct ||
    b.deltaTotalPct - a.deltaTotalPct ||
    b.currentSelfPct - a.currentSelfPct ||
    b.currentTotalPct - a.currentTotalPct ||
    b.baselineSelfPct - a.baselineSelfPct ||
    (a.function < b.function ? -1 : a.function > b.function ? 1 : 0)
  );
}

export function diffProfiles(baseline: DiffInput, current: DiffInput, opts: { alpha?: number } = {}): ProfileDiff {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const base = aggregateSide(baseline);
  const cur = aggregateSide(current);
  const names = new Set([...base.byFunction.keys(), ...cur.byFunction.keys()]);

  const rows: FunctionDiff[] = [];
  for (const name of names) {
    const b = base.byFunction.get(name);
    const c = cur.byFunction.get(name);
    const baselineSelf = b?.self ?? 0;
    const currentSelf = c?.self ?? 0;
    const baselineTotal = b?.total ?? 0;
    const currentTotal = c?.total ?? 0;
    const baselineSelfPct = pct(baselineSelf, base.summary.total);
    const currentSelfPct = pct(currentSelf, cur.summary.total);
    const baselineTotalPct = pct(baselineTotal, base.summary.total);
    const currentTotalPct = pct(currentTotal, cur.summary.total);
    rows.push({
      function: name,
      module: c?.module || b?.module || '',
      status: !b ? 'new' : !c ? 'gone' : 'both',
      baselineSelf,
      currentSelf,
      baselineTotal,
      currentTotal,
      baselineSelfPct,
      currentSelfPct,
      deltaSelfPct: currentSelfPct - baselineSelfPct,
      baselineTotalPct,
      currentTotalPct,
      deltaTotalPct: currentTotalPct - baselineTotalPct,
      // Clamped: a count column merged from a profile lacking it can trail the values.
      baselineSelfSamples: Math.min(base.selfSamples.get(name) ?? 0, base.summary.samples),
      currentSelfSamples: Math.min(cur.selfSamples.get(name) ?? 0, cur.summary.samples),
      rawPValue: 1,
      pValue: 1,
      significant: false,
    });
  }

  // The family: every function that has self samples on either side. A
  // function with none anywhere carries no evidence and is not a test.
  const tested = rows.filter((r) => r.baselineSelfSamples + r.currentSelfSamples > 0);
  for (const r of tested) {
    r.rawPValue = fisherTwoSidedPValue({
      baselineHits: r.baselineSelfSamples,
      baselineSamples: base.summary.samples,
      currentHits: r.currentSelfSamples,
      currentSamples: cur.summary.samples,
    });
  }
  const adjusted = holmAdjust(tested.map((r) => r.rawPValue));
  tested.forEach((r, i) => {
    r.pValue = adjusted[i]!;
    r.significant = r.pValue < alpha;
  });

  rows.sort(compareRows);
  return { baseline: base.summary, current: cur.summary, alpha, rows };
}

/**
 * Functions whose self share grew by more than `thresholdPct` points with a
 * significant change: what fails `--fail-on-regression`. Without a
 * threshold, every significant growth.
 */
export function findRegressions(diff: ProfileDiff, thresholdPct = 0): FunctionDiff[] {
  const { baseline, current } = diff;
  // The test ran on counts, the threshold on values; both must point up.
  const countsGrew = (r: FunctionDiff) => r.currentSelfSamples * baseline.samples > r.baselineSelfSamples * current.samples;
  return diff.rows.filter((r) => r.significant && r.deltaSelfPct > thresholdPct && countsGrew(r));
}
