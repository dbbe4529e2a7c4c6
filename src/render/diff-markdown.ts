// `profctl diff --format markdown`: a pull-request comment. A one-line verdict
// first (what a reviewer reads), then the table, then one line on how to read
// it. GitHub-flavoured Markdown only; it must not emit ANSI colour or raw HTML.

import type { FunctionDiff } from '../query/diff.js';
import type { DiffReport } from './diff-json.js';
import { describeSide, formatDelta, formatPct, formatPValue, regressionSummary } from './diff-table.js';

/** A function name as inline code that survives pipes and backticks in the name. */
function codeCell(name: string): string {
  const escaped = name.replace(/\|/g, '\\|');
  const fence = name.includes('`') ? '`` ' : '`';
  return `${fence}${escaped}${fence.split('').reverse().join('')}`;
}

function flag(r: FunctionDiff, regs: Set<FunctionDiff>): string {
  if (regs.has(r)) return '🔺 regression';
  if (r.status === 'new') return 'new';
  if (r.status === 'gone') return 'gone';
  return '';
}

export function renderDiffMarkdown(report: DiffReport): string {
  const regs = new Set(report.regressions);
  const verdict = report.regressions.length > 0 ? '❌' : '✅';
  const lines: string[] = [];
  lines.push(`**profctl diff** ${verdict} ${regressionSummary(report)}.`);
  lines.push('');
  lines.push(`Baseline: ${describeSide(report.diff.baseline)}; current: ${describeSide(report.diff.current)}.`);
  lines.push('');
  lines.push('| | Function | Self (base) | Self (current) | Δ self | Total (base) | Total (current) | Δ total | p |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of report.rows) {
    const dSelf = formatDelta(r.deltaSelfPct);
    lines.push(
      [
        '',
        flag(r, regs),
        codeCell(r.function),
        formatPct(r.baselineSelfPct),
        formatPct(r.currentSelfPct),
        regs.has(r) ? `**${dSelf}**` : dSelf,
        formatPct(r.baselineTotalPct),
        formatPct(r.currentTotalPct),
        formatDelta(r.deltaTotalPct),
        formatPValue(r.pValue),
        '',
      ]
        .join(' | ')
        .trim(),
    );
  }
  lines.push('');
  const shown = report.rows.length < report.diff.rows.length ? `Showing ${report.rows.length} of ${report.diff.rows.length} functions. ` : '';
  lines.push(
    `_${shown}Shares are of each profile's total; Δ in percentage points. ` +
      `p: two-sided Fisher exact test on sample counts, Holm-adjusted over the functions with self samples; significant below ${report.diff.alpha}._`,
  );
  return lines.join('\n') + '\n';
}
