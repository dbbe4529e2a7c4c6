// The --json shape of `profctl diff`, built explicitly field by field so that
// it stays stable whatever the diff pass grows internally. It formats nothing
// for people and decides nothing; the shape is documented here and in the
// man page:
//
// {
//   "baseline": {"total": n, "unit": "nanoseconds", "sampleType": "cpu",
//                "samples": n, "countSource": "count-type"|"period"|"records"},
//   "current":  {same fields},
//   "alpha": 0.05,                 // family-wise error rate of "significant"
//   "failOnRegression": 2 | null,  // the threshold in points, when given
//   "totalRows": n,                // functions in either profile (rows may be limited)
//   "rows": [{
//     "function", "module",
//     "status": "new"|"gone"|"both",
//     "baselineSelf", "currentSelf", "baselineTotal", "currentTotal",   // in unit
//     "baselineSelfPct", "currentSelfPct", "deltaSelfPct",              // percent / points
//     "baselineTotalPct", "currentTotalPct", "deltaTotalPct",
//     "baselineSelfSamples", "currentSelfSamples",                      // counts tested
//     "pValue",        // Holm-adjusted two-sided Fisher exact p of the self-share change
//     "rawPValue",     // the same before adjustment
//     "significant",   // pValue < alpha
//     "regression"     // significant growth above failOnRegression (0 when not given)
//   }],
//   "regressions": [rows, same shape, every one, not limited]
// }
// Rows are sorted by deltaSelfPct (largest growth first), then deltaTotalPct.

import type { DiffSideSummary, FunctionDiff, ProfileDiff } from '../query/diff.js';

export interface DiffReport {
  diff: ProfileDiff;
  /** Rows to show, already limited and ordered. */
  rows: FunctionDiff[];
  regressions: FunctionDiff[];
  failOnRegression?: number;
}

function sideJson(s: DiffSideSummary) {
  return { total: s.total, unit: s.unit, sampleType: s.sampleType, samples: s.samples, countSource: s.countSource };
}

function rowJson(r: FunctionDiff, regressions: Set<FunctionDiff>) {
  return {
    function: r.function,
    module: r.module,
    status: r.status,
    baselineSelf: r.baselineSelf,
    currentSelf: r.currentSelf,
    baselineTotal: r.baselineTotal,
    currentTotal: r.currentTotal,
    baselineSelfPct: r.baselineSelfPct,
    currentSelfPct: r.currentSelfPct,
    deltaSelfPct: r.deltaSelfPct,
    baselineTotalPct: r.baselineTotalPct,
    currentTotalPct: r.currentTotalPct,
    deltaTotalPct: r.deltaTotalPct,
    baselineSelfSamples: r.baselineSelfSamples,
    currentSelfSamples: r.currentSelfSamples,
    pValue: r.pValue,
    rawPValue: r.rawPValue,
    significant: r.significant,
    regression: regressions.has(r),
  };
}

export function renderDiffJson(report: DiffReport): string {
  const regs = new Set(report.regressions);
  const out = {
    baseline: sideJson(report.diff.baseline),
    current: sideJson(report.diff.current),
    alpha: report.diff.alpha,
    failOnRegression: report.failOnRegression ?? null,
    totalRows: report.diff.rows.length,
    rows: report.rows.map((r) => rowJson(r, regs)),
    regressions: report.regressions.map((r) => rowJson(r, regs)),
  };
  return JSON.stringify(out, null, 2) + '\n';
}
