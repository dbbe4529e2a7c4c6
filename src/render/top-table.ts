// Renders `profctl top`: the table of self and total values per function (or
// module, or thread), values in the sample type's unit as
// people read them (ns → ms/s, bytes → kB/MB), and the stable --json shape.
// It draws what it is given: no sorting, filtering or truncation decisions.

import type { FunctionRow } from '../query/aggregate.js';
import type { ValueType } from '../profile/model.js';
import { colors } from './color.js';

const TIME_TO_NS: Record<string, number> = { nanoseconds: 1, microseconds: 1e3, milliseconds: 1e6, seconds: 1e9 };

function trimNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const digits = Math.abs(v) >= 100 ? 1 : 2;
  return v.toFixed(digits).replace(/\.?0+$/, '');
}

/** A value in its unit, scaled like pprof prints it: 970ms, 1.78s, 1184.27kB, 42. */
export function formatValue(value: number, unit: string): string {
  if (value === 0) return '0';
  const toNs = TIME_TO_NS[unit];
  if (toNs !== undefined) {
    const ns = value * toNs;
    const a = Math.abs(ns);
    if (a >= 1e9) return `${trimNumber(ns / 1e9)}s`;
    if (a >= 1e6) return `${trimNumber(ns / 1e6)}ms`;
    if (a >= 1e3) return `${trimNumber(ns / 1e3)}µs`;
    return `${trimNumber(ns)}ns`;
  }
  if (unit === 'bytes') {
    const a = Math.abs(value);
    // pprof's kB/MB are powers of 1024; keep the same so the numbers line up with it.
    if (a >= 1024 ** 3) return `${trimNumber(value / 1024 ** 3)}GB`;
    if (a >= 1024 ** 2) return `${trimNumber(value / 1024 ** 2)}MB`;
    if (a >= 1024) return `${trimNumber(value / 1024)}kB`;
    return `${trimNumber(value)}B`;
  }
  return trimNumber(value);
}

export function formatPercent(part: number, total: number): string {
  if (total === 0) return '0%';
  return `${((100 * part) / total).toFixed(2)}%`;
}

export interface TopReport {
  total: number;
  sampleType: ValueType;
  by: 'function' | 'module' | 'thread';
  /** Rows to show, already sorted and limited. */
  rows: FunctionRow[];
  /** How many rows there were before the limit. */
  rowCount: number;
}

/** The JSON shape of `profctl top --json` (documented in the man page; keep it stable). */
export function topJson(r: TopReport): string {
  const pct = (v: number) => (r.total === 0 ? 0 : (100 * v) / r.total);
  return JSON.stringify(
    {
      total: r.total,
      unit: r.sampleType.unit,
      sampleType: r.sampleType.type,
      rows: r.rows.map((row) => ({
        function: row.function,
        module: row.module,
        self: row.self,
        selfPct: pct(row.self),
        total: row.total,
        totalPct: pct(row.total),
      })),
    },
    null,
    2,
  );
}

/** The table as text, with a one-line summary above it. */
export function topTable(r: TopReport): string {
  const c = colors();
  const unit = r.sampleType.unit;
  const what = r.by === 'function' ? 'functions' : r.by === 'module' ? 'modules' : 'threads';
  const shown = r.rows.length < r.rowCount ? `showing ${r.rows.length} of ${r.rowCount} ${what}` : `${r.rowCount} ${what}`;
  const summary = `${r.sampleType.type} (${unit}): total ${formatValue(r.total, unit)}, ${shown}`;
  const nameHead = r.by === 'function' ? 'function' : r.by === 'module' ? 'module' : 'thread';
  const head = ['self', 'self%', 'total', 'total%', nameHead, r.by === 'thread' ? 'process' : 'module'].map((h) => c.bold(h));
  const rows = r.rows.map((row) => [
    formatValue(row.self, unit),
    formatPercent(row.self, r.total),
    formatValue(row.total, unit),
    formatPercent(row.total, r.total),
    row.function,
    r.by === 'module' ? '' : c.dim(row.module),
  ]);
  const lines = alignColumns([head, ...rows], 4, NAME_COLUMN_MAX);
  return `${summary}\n${lines.join('\n')}\n`;
}

/** Names wider than this overflow their column instead of widening it for every row. */
const NAME_COLUMN_MAX = 64;
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const visibleLength = (s: string): number => (s.includes('\x1b') ? s.replace(ANSI, '').length : s.length);

/**
 * Rows as lines, two spaces between columns: the columns before `nameCol`
 * right-aligned, the name column left-aligned and padded to its longest
 * entry up to `nameMax` (a longer name is written whole and pushes the rest
 * of its row along), the last column as it is. No trailing blanks.
 * Linear in the cells, with no call taking a column as arguments: piped,
 * `top` prints every function, and a week of a busy machine has hundreds of
 * thousands.
 */
function alignColumns(rows: string[][], nameCol: number, nameMax: number): string[] {
  const nCols = rows[0]!.length;
  const lengths = rows.map((row) => row.map(visibleLength));
  const widths = new Array<number>(nCols).fill(0);
  for (const row of lengths) for (let col = 0; col < nCols; col++) if (row[col]! > widths[col]!) widths[col] = row[col]!;
  widths[nameCol] = Math.min(widths[nameCol]!, nameMax);
  return rows.map((row, i) => {
    let line = '';
    for (let col = 0; col < nCols; col++) {
      const cell = row[col]!;
      const pad = ' '.repeat(Math.max(0, widths[col]! - lengths[i]![col]!));
      if (col > 0) line += '  ';
      line += col < nameCol ? pad + cell : col === nCols - 1 ? cell : cell + pad;
    }
    return line.trimEnd();
  });
}
