// Renders SLO evaluations: the aligned table of `profctl slo` (status
// coloured, "no traffic" said plainly, a `next:` line under each burning
// latency SLO, the error of an SLO whose source failed), and the stable
// --json shape. Draws only; computes no burn rates.
import { burnWindows, type BurnWindow } from '../slo/burn-rate.js';
import type { SloEvaluation } from '../slo/evaluate.js';
import { formatDuration, formatLatency } from '../slo/duration.js';
import { colors } from './color.js';

export interface SloRow {
  evaluation: SloEvaluation;
  /** The next command (null when the SLO is not a burning latency SLO). */
  next: string | null;
}

/** The documented --json shape: {"slos": [{name, service, objective, burnRates, budgetRemaining, status, burningSince, next, error?}]}. */
export interface SloJson {
  name: string;
  service: string;
  objective: number;
  burnRates: Record<BurnWindow, number | null>;
  budgetRemaining: number | null;
  status: 'page' | 'ticket' | 'ok';
  burningSince: string | null;
  next: string | null;
  error?: string;
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

export function sloJson(rows: SloRow[]): { slos: SloJson[] } {
  return {
    slos: rows.map(({ evaluation: e, next }) => {
      const burnRates = {} as Record<BurnWindow, number | null>;
      for (const w of burnWindows) burnRates[w] = e.burnRates ? round(e.burnRates[w]) : null;
      const out: SloJson = {
        name: e.slo.name,
        service: e.slo.service,
        objective: e.slo.objective,
        burnRates,
        budgetRemaining: e.budgetRemaining === null ? null : round(e.budgetRemaining),
        status: e.status,
        burningSince: e.burningSinceMs === null ? null : new Date(e.burningSinceMs).toISOString(),
        next,
      };
      if (e.error !== undefined) out.error = e.error;
      return out;
    }),
  };
}

export function objectiveText(e: SloEvaluation): string {
  const pct = `${e.slo.objective}%`;
  const window = formatDuration(e.slo.windowMs);
  return e.slo.latencyMs !== undefined ? `${pct} < ${formatLatency(e.slo.latencyMs)} /${window}` : `${pct} avail /${window}`;
}

function burnText(e: SloEvaluation, w: BurnWindow): string {
  if (!e.burnRates) return '-';
  if (e.noTraffic.includes(w)) return 'no traffic';
  const r = e.burnRates[w];
  return `${r >= 100 ? r.toFixed(0) : r.toFixed(1)}x`;
}

function budgetText(e: SloEvaluation): string {
  if (e.budgetRemaining === null) return '-';
  const pct = e.budgetRemaining * 100;
  return `${Math.abs(pct) >= 100 ? pct.toFixed(0) : pct.toFixed(1)}%`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** "02:14" today, "Mar 03 02:14" on another day; "≥" when burning at least since then. */
export function sinceText(e: SloEvaluation, nowMs: number): string {
  if (e.burningSinceMs === null) return '-';
  const t = new Date(e.burningSinceMs);
  const now = new Date(nowMs);
  const clock = `${pad2(t.getHours())}:${pad2(t.getMinutes())}`;
  const sameDay = t.toDateString() === now.toDateString();
  const text = sameDay ? clock : `${t.toLocaleString('en-US', { month: 'short' })} ${pad2(t.getDate())} ${clock}`;
  return e.burningSinceAtLimit ? `≥${text}` : text;
}

export function renderSloTable(rows: SloRow[], nowMs: number): string {
  const c = colors();
  const header = ['NAME', 'OBJECTIVE', 'BURN 5M', '1H', '6H', '3D', 'BUDGET LEFT', 'STATUS', 'BURNING SINCE'];
  const cells = rows.map(({ evaluation: e }) => {
    const status = e.error ? 'ERROR' : e.status.toUpperCase();
    return [e.slo.name, objectiveText(e), burnText(e, '5m'), burnText(e, '1h'), burnText(e, '6h'), burnText(e, '3d'), budgetText(e), status, e.error ? '-' : sinceText(e, nowMs)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const paint = (status: string, text: string): string => {
    if (status === 'PAGE') return c.red.bold(text);
    if (status === 'TICKET') return c.yellow.bold(text);
    if (status === 'OK') return c.green(text);
    return c.magenta(text);
  };
  const line = (r: string[], statusCell?: string): string =>
    r
      .map((cell, i) => {
        const padded = i === r.length - 1 ? cell : cell.padEnd(widths[i]!);
        return i === 7 && statusCell ? paint(statusCell, padded) : padded;
      })
      .join('  ')
      .trimEnd();
  const out = [c.bold(line(header))];
  rows.forEach((row, i) => {
    const r = cells[i]!;
    out.push(line(r, r[7]));
    if (row.evaluation.error) out.push(`  ${c.magenta('error:')} ${row.evaluation.error}`);
    if (row.next) out.push(`  next: ${c.cyan(row.next)}`);
  });
  return `${out.join('\n')}\n`;
}
