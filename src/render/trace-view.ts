// Renders `profctl trace`: the list of traces in a window (slowest first) and
// one trace as a waterfall of its spans, each with its own CPU samples and
// hottest function, plus the --json shape. Draws what it is given; the join
// and the ordering happen in src/query/.
import Table from 'cli-table3';
import type { TraceSummary, WaterfallRow } from '../query/traces.js';
import { colors } from './color.js';

const NO_BORDER = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
};

export function formatDuration(ms: number): string {
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)}m`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)}s`;
  if (ms >= 1 || ms === 0) return `${ms.toFixed(ms >= 100 || ms === 0 ? 0 : 1)}ms`;
  return `${(ms * 1000).toFixed(0)}µs`;
}

function cut(s: string, width: number): string {
  return s.length <= width ? s : `${s.slice(0, Math.max(0, width - 1))}…`;
}

function attributionNote(t: TraceSummary): string {
  const c = t.counts;
  const parts: string[] = [];
  if (c.exact) parts.push('exact');
  if (c.thread) parts.push('thread');
  if (c.process) parts.push('process');
  return parts.length === 1 ? `(${parts[0]})` : parts.length ? '(mixed)' : '';
}

/** `{"traces": [...]}`: the stable --json shape of the list. */
export function traceListJson(traces: TraceSummary[]): string {
  return JSON.stringify(
    {
      traces: traces.map((t) => ({
        traceId: t.traceId,
        root: t.root,
        service: t.service,
        startTime: new Date(t.startMs).toISOString(),
        durationMs: Number(t.durationMs.toFixed(3)),
        spans: t.spans,
        samples: t.samples,
        attribution: t.counts,
        hottest: t.hottest ?? null,
      })),
    },
    null,
    2,
  );
}

export function traceListTable(traces: TraceSummary[], width: number): string {
  const c = colors();
  const table = new Table({
    head: ['TRACE ID', 'ROOT', 'SERVICE', 'START', 'DURATION', 'SPANS', 'CPU SAMPLES', 'HOTTEST'].map((h) => c.bold(h)),
    chars: NO_BORDER,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    colAligns: ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'left'],
  });
  const hotWidth = Math.max(12, width - 32 - 2 - 20 - 12 - 10 - 9 - 6 - 18 - 14);
  for (const t of traces) {
    table.push([
      t.traceId,
      cut(t.root, 20),
      cut(t.service, 12),
      new Date(t.startMs).toLocaleTimeString('en-GB', { hour12: false }),
      formatDuration(t.durationMs),
      String(t.spans),
      t.samples ? `${t.samples} ${attributionNote(t)}` : c.dim('0'),
      t.hottest ? cut(t.hottest, hotWidth) : c.dim('-'),
    ]);
  }
  return table.toString().split('\n').map((l) => l.replace(/\s+$/, '')).join('\n') + '\n';
}

/** One trace as a waterfall: offset, a bar on a shared time axis, name, samples, hottest. */
export function waterfallText(rows: WaterfallRow[], width: number): string {
  const c = colors();
  if (rows.length === 0) return '';
  const total = rows.reduce((m, r) => Math.max(m, r.offsetMs + r.durationMs), 1e-9);
  const barWidth = Math.max(10, Math.min(50, Math.floor(width * 0.35)));
  const lines: string[] = [];
  lines.push(c.bold(`${'OFFSET'.padStart(9)}  ${'DURATION'.padStart(9)}  ${'TIMELINE'.padEnd(barWidth)}  SPAN`));
  for (const r of rows) {
    const from = Math.min(barWidth - 1, Math.floor((r.offsetMs / total) * barWidth));
    const len = Math.max(1, Math.round((r.durationMs / total) * barWidth));
    const bar = ' '.repeat(from) + '█'.repeat(Math.min(len, barWidth - from));
    const color = r.span.status === 'error' ? c.red : r.samples > 0 ? c.yellow : c.cyan;
    const name = `${'  '.repeat(r.depth)}${r.span.name}`;
    const svc = r.depth === 0 || r.span.service !== rows[0]!.span.service ? c.dim(` [${r.span.service}]`) : '';
    const cpu = r.samples ? `  ${r.samples} samples${r.hottest ? `, hottest ${r.hottest}` : ''}` : '';
    lines.push(`${formatDuration(r.offsetMs).padStart(9)}  ${formatDuration(r.durationMs).padStart(9)}  ${color(bar.padEnd(barWidth))}  ${name}${svc}${c.dim(cpu)}`);
  }
  return lines.join('\n') + '\n';
}

/** --json for one trace. */
export function waterfallJson(traceId: string, rows: WaterfallRow[], counts: object): string {
  return JSON.stringify(
    {
      traceId,
      attribution: counts,
      spans: rows.map((r) => ({
        spanId: r.span.spanId,
        parentSpanId: r.span.parentSpanId ?? null,
        name: r.span.name,
        service: r.span.service,
        depth: r.depth,
        offsetMs: Number(r.offsetMs.toFixed(3)),
        durationMs: Number(r.durationMs.toFixed(3)),
        status: r.span.status,
        samples: r.samples,
        hottest: r.hottest ?? null,
      })),
    },
    null,
    2,
  );
}
