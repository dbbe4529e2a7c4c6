// The terminal report of `profctl diff`: a summary line and a cli-table3 table
// of per-function shares in both runs and their change, growth in red, shrink
// in blue (the colours of the differential flame graph), regressions marked.
// It renders a finished report; it computes no shares and decides no
// regressions. Also home of the small number formats diff-markdown shares.

import Table from 'cli-table3';
import type { DiffSideSummary, FunctionDiff } from '../query/diff.js';
import type { DiffReport } from './diff-json.js';
import { colors } from './color.js';

const timeUnits: Array<[string, number]> = [
  ['h', 3600e9],
  ['min', 60e9],
  ['s', 1e9],
  ['ms', 1e6],
  ['µs', 1e3],
  ['ns', 1],
];
const byteUnits: Array<[string, number]> = [
  ['GiB', 2 ** 30],
  ['MiB', 2 ** 20],
  ['KiB', 2 ** 10],
  ['B', 1],
];

function scaled(value: number, units: Array<[string, number]>): string {
  for (const [name, size] of units) {
    if (Math.abs(value) >= size || size === 1) {
      const v = value / size;
      return `${Number.isInteger(v) ? v : v.toFixed(Math.abs(v) >= 100 ? 0 : 2)}${name === 'min' || name === 'h' ? ' ' : ''}${name}`;
    }
  }
  return String(value);
}

/** A value in a sample type's unit, as people read it: 1.78s, 12.50MiB, 1234. */
export function formatQuantity(value: number, unit: string): string {
  const toNs: Record<string, number> = { nanoseconds: 1, microseconds: 1e3, milliseconds: 1e6, seconds: 1e9 };
  if (toNs[unit] !== undefined) return scaled(value * toNs[unit]!, timeUnits);
  if (unit === 'bytes') return scaled(value, byteUnits);
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

export function formatPct(pct: number): string {
  return `${pct.toFixed(2)}%`;
}

/** A change in percentage points, signed: +1.25, -0.40, 0.00. */
export function formatDelta(points: number): string {
  const r = Number(points.toFixed(2));
  return r > 0 ? `+${r.toFixed(2)}` : r < 0 ? r.toFixed(2) : '0.00';
}

export function formatPValue(p: number): string {
  if (p < 0.001) return '<0.001';
  if (p >= 1) return '1';
  return p.toFixed(3);
}

export function describeSide(s: DiffSideSummary): string {
  return `${formatQuantity(s.total, s.unit)} ${s.sampleType} (${s.samples} samples)`;
}

/** One sentence on what the check concluded. */
export function regressionSummary(report: DiffReport): string {
  const t = report.failOnRegression;
  const over = t !== undefined ? ` over +${t} points` : '';
  const n = report.regressions.length;
  if (n === 0) return `no significant self-share growth${over} (alpha ${report.diff.alpha}, Holm-adjusted)`;
  const list = report.regressions
    .slice(0, 3)
    .map((r) => `${r.function} ${formatDelta(r.deltaSelfPct)} points`)
    .join(', ');
  return `${n} significant regression${n === 1 ? '' : 's'}${over}: ${list}${n > 3 ? ', …' : ''}`;
}

function statusTag(r: FunctionDiff): string {
  return r.status === 'new' ? ' (new)' : r.status === 'gone' ? ' (gone)' : '';
}

export function renderDiffTable(report: DiffReport): string {
  const c = colors();
  const regs = new Set(report.regressions);
  const paint = (points: number, text: string) => (points > 0 && text !== '0.00' ? c.red(text) : points < 0 && text !== '0.00' ? c.blue(text) : text);
  const table = new Table({
    head: ['Δ SELF', 'SELF BASE', 'SELF NOW', 'Δ TOTAL', 'TOTAL BASE', 'TOTAL NOW', 'P', 'FUNCTION'].map((h) => c.bold(h)),
    colAligns: ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 2 },
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '',
      right: '', 'right-mid': '', middle: '',
    },
  });
  for (const r of report.rows) {
    const dSelf = formatDelta(r.deltaSelfPct);
    const dTotal = formatDelta(r.deltaTotalPct);
    const flag = regs.has(r) ? c.red.bold(' ◀ regression') : '';
    table.push([
      paint(r.deltaSelfPct, dSelf),
      formatPct(r.baselineSelfPct),
      formatPct(r.currentSelfPct),
      paint(r.deltaTotalPct, dTotal),
      formatPct(r.baselineTotalPct),
      formatPct(r.currentTotalPct),
      r.significant ? c.bold(formatPValue(r.pValue)) : formatPValue(r.pValue),
      `${r.function}${c.dim(statusTag(r))}${flag}`,
    ]);
  }
  const header = [
    `baseline ${describeSide(report.diff.baseline)}  →  current ${describeSide(report.diff.current)}`,
    regressionSummary(report),
  ];
  // cli-table3 pads the last column; trailing blanks only get in the way of diffs and copy-paste.
  const body = table.toString().split('\n').map((l) => l.replace(/\s+$/, '')).join('\n');
  return `${header.join('\n')}\n\n${body}\n`;
}
