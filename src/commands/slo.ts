// profctl slo — burn rates of every SLO, which page, since when, and the next
// command. Finds the definitions, picks each SLO's SLI source (local spans
// from --spans FILE or the store; Prometheus), evaluates them side by side
// (one failing source never stops the others), renders the table or --json,
// and exits 1 when any SLO pages. --watch redraws until Ctrl-C.
import { ExitCode, UserError } from '../errors.js';
import { renderSloTable, sloJson, type SloRow } from '../render/slo-table.js';
import { findConfigFile, readSloDefinitions } from '../slo/config-file.js';
import type { SloDefinition } from '../slo/definition.js';
import { parseDurationMs } from '../slo/duration.js';
import { evaluateSlo, type SliMeasure } from '../slo/evaluate.js';
import { nextCommand } from '../slo/next-command.js';
import { prometheusMeasure } from '../slo/prometheus-sli.js';
import { spansMeasure } from '../slo/spans-sli.js';
import { burnWindowMs } from '../slo/burn-rate.js';
import { OtlpFileSpanSource } from '../spans/file-source.js';
import type { SpanSource } from '../spans/model.js';
import { openStoreReader, resolveStoreDir, type StoreReader } from '../store/index.js';

interface SloOptions {
  config?: string;
  store?: string;
  spans?: string;
  watch?: string | true;
  json?: boolean;
}

const defaultWatchMs = 30_000;

/** Spans from the agent's store; its reader is opened on first use, so Prometheus-only configs never touch it. */
function storeSpanSource(dir: string, warn: (m: string) => void): SpanSource {
  let reader: StoreReader | undefined;
  const open = (): StoreReader => {
    try {
      return (reader ??= openStoreReader(dir, { onWarning: warn }));
    } catch (e) {
      // This SLO's row shows the problem and what to do; the other SLOs go on.
      if (e instanceof UserError) throw new Error(`${e.message} (start the agent, or pass --store DIR or --spans FILE)`);
      throw e;
    }
  };
  return {
    description: `store ${dir}`,
    spansInRange: (fromMs, toMs, opts = {}) => open().readSpans({ fromMs, toMs, services: opts.services }),
    trace: (traceId) => open().readSpans({ traceIds: [traceId] }),
  };
}

function spanSourceFor(opts: SloOptions, warn: (m: string) => void): SpanSource {
  if (opts.spans && opts.spans !== 'store') return new OtlpFileSpanSource(opts.spans, warn);
  return storeSpanSource(resolveStoreDir(opts.store), warn);
}

function measureFor(slo: SloDefinition, spans: () => SpanSource, nowMs: number): SliMeasure {
  if (slo.sli.kind === 'prometheus') return prometheusMeasure(slo.sli);
  // History for "burning since" reaches back over the SLO window (and 3d, the longest alert window).
  const lookbackMs = Math.max(slo.windowMs, burnWindowMs['3d']) + burnWindowMs['1h'];
  return spansMeasure(spans(), slo, nowMs, lookbackMs);
}

async function evaluateAll(slos: SloDefinition[], opts: SloOptions, warn: (m: string) => void): Promise<{ rows: SloRow[]; nowMs: number }> {
  const nowMs = Date.now();
  let source: SpanSource | undefined;
  const spans = (): SpanSource => (source ??= spanSourceFor(opts, warn));
  // An unreadable --spans file is a usage error (exit 2), not a per-SLO failure.
  if (opts.spans && opts.spans !== 'store' && slos.some((s) => s.sli.kind === 'spans')) await spans().spansInRange(0, 0);
  const evaluations = await Promise.all(slos.map((slo) => evaluateSlo(slo, measureFor(slo, spans, nowMs), nowMs)));
  const dataFlags = { spans: opts.spans && opts.spans !== 'store' ? opts.spans : undefined, store: opts.store };
  return { rows: evaluations.map((e) => ({ evaluation: e, next: nextCommand(e, nowMs, dataFlags) })), nowMs };
}

function exitCodeOf(rows: SloRow[]): number {
  return rows.some((r) => !r.evaluation.error && r.evaluation.status === 'page') ? ExitCode.checkFailed : ExitCode.ok;
}

function watchIntervalMs(watch: string | true): number {
  if (watch === true) return defaultWatchMs;
  const ms = parseDurationMs(watch);
  if (ms === undefined || ms < 1000) throw new UserError(`--watch: cannot read "${watch}" as an interval of at least 1s`, 'give a duration such as 10s, 1m (default 30s)');
  return ms;
}

export async function run(_args: string[], options: Record<string, unknown>): Promise<number> {
  const opts = options as SloOptions;
  const file = findConfigFile({ config: opts.config });
  const slos = readSloDefinitions(file);
  // A bad line in a span file is worth one note, not one per redraw.
  const warned = new Set<string>();
  const warn = (m: string): void => {
    if (warned.has(m)) return;
    warned.add(m);
    process.stderr.write(`profctl: warning: ${m}\n`);
  };
  const render = (rows: SloRow[], nowMs: number, compact: boolean): string =>
    opts.json ? `${JSON.stringify(sloJson(rows), null, compact ? undefined : 2)}\n` : renderSloTable(rows, nowMs);

  if (opts.watch === undefined) {
    const { rows, nowMs } = await evaluateAll(slos, opts, warn);
    process.stdout.write(render(rows, nowMs, false));
    return exitCodeOf(rows);
  }

  const intervalMs = watchIntervalMs(opts.watch);
  const tty = process.stdout.isTTY === true;
  let stopped = false;
  let wake: (() => void) | undefined;
  const stop = (): void => {
    stopped = true;
    wake?.();
  };
  process.once('SIGINT', stop);
  try {
    while (!stopped) {
      const { rows, nowMs } = await evaluateAll(slos, opts, warn);
      if (stopped) break;
      const stamp = `profctl slo — ${new Date(nowMs).toTimeString().slice(0, 8)} — every ${intervalMs / 1000}s, Ctrl-C to stop`;
      // On a terminal: home, clear, redraw. Elsewhere (a log, a pipe) append, so history is kept.
      if (tty) process.stdout.write(`\x1b[H\x1b[2J${stamp}\n${render(rows, nowMs, false)}`);
      else process.stdout.write(opts.json ? render(rows, nowMs, true) : `--- ${new Date(nowMs).toISOString()}\n${render(rows, nowMs, false)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    process.removeListener('SIGINT', stop);
  }
  return ExitCode.interrupted;
}
