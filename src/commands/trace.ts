// profctl trace [ID]: without an id, the traces of a window, slowest first,
// with the CPU samples the join attributes to each and its hottest function;
// with an id, that trace as a waterfall. Both end with the next command.
import { UserError, ExitCode } from '../errors.js';
import { parseDuration, parsePositiveInt, parseTimeRange } from './units.js';
import { openSpanSource, readTimedSamples, samplingPeriodMs, spansAroundTrace } from './data-sources.js';
import { optionList } from './select-profile.js';
import { joinSamplesToSpans, selectTraceSamples, describeAttribution, normalizeId } from '../query/join.js';
import { spanExtent, summarizeTraces, waterfall } from '../query/traces.js';
import { shellQuote } from '../slo/next-command.js';
import { traceListJson, traceListTable, waterfallJson, waterfallText, formatDuration } from '../render/trace-view.js';

interface TraceOptions {
  traceId?: string;
  fromMs: number;
  toMs: number;
  services: string[];
  minDurationMs: number;
  limit: number;
  json: boolean;
  includeAmbiguous: boolean;
}

export function parseTraceOptions(args: string[], o: Record<string, unknown>): TraceOptions {
  let traceId: string | undefined;
  if (args[0] !== undefined) {
    traceId = normalizeId(args[0], 16);
    if (!traceId) throw new UserError(`'${args[0]}' is not a trace id`, 'give 32 hex digits (or the base64 form of 16 bytes)');
  }
  const { fromMs, toMs } = parseTimeRange(o.since, o.until);
  return {
    traceId,
    fromMs,
    toMs,
    services: optionList(o.service),
    minDurationMs: o.minDuration !== undefined ? parseDuration(String(o.minDuration), '--min-duration') : 0,
    limit: parsePositiveInt(o.limit ?? '20', '--limit', { allowZero: true }),
    json: o.json === true,
    includeAmbiguous: o.includeAmbiguous === true,
  };
}

const width = () => process.stdout.columns ?? 120;

export async function run(args: string[], options: Record<string, unknown>): Promise<number> {
  const opts = parseTraceOptions(args, options);
  const source = await openSpanSource(options);
  if (opts.traceId) return showTrace(opts, options, source);

  // Every span of the window takes part in the join (a request of another
  // service in the same process owns its samples too); rows are filtered after.
  const spans = await source.spansInRange(opts.fromMs, opts.toMs);
  if (spans.length === 0) {
    const what = opts.services.length ? ` of ${opts.services.join(', ')}` : '';
    process.stderr.write(`profctl: no spans${what} between ${new Date(opts.fromMs).toISOString()} and ${new Date(opts.toMs).toISOString()} in ${source.description}\n`);
    if (opts.json) process.stdout.write(traceListJson([]) + '\n');
    return ExitCode.ok;
  }
  const { fromMs: from, toMs: to } = spanExtent(spans);
  const profile = await readTimedSamples(options, from, to);
  const join = joinSamplesToSpans(profile, spans);
  let traces = summarizeTraces(spans, profile, join).filter((t) => t.durationMs >= opts.minDurationMs);
  if (opts.services.length) {
    traces = traces.filter((t) => opts.services.includes(t.service));
    if (traces.length === 0) process.stderr.write(`profctl: no traces of ${opts.services.join(', ')} in that window (spans of other services: ${[...new Set(spans.map((s) => s.service))].slice(0, 5).join(', ')})\n`);
  }
  traces.sort((a, b) => b.durationMs - a.durationMs);
  const shown = opts.limit ? traces.slice(0, opts.limit) : traces;
  if (opts.json) {
    process.stdout.write(traceListJson(shown) + '\n');
    return ExitCode.ok;
  }
  process.stdout.write(traceListTable(shown, width()));
  if (traces.length > shown.length) process.stderr.write(`profctl: showing ${shown.length} of ${traces.length} traces (--limit 0 for all)\n`);
  if (shown[0]) process.stderr.write(`next: ${flameCommand(shown[0].traceId, options)}\n`);
  return ExitCode.ok;
}

async function showTrace(opts: TraceOptions, options: Record<string, unknown>, source: Awaited<ReturnType<typeof openSpanSource>>): Promise<number> {
  const traceId = opts.traceId!;
  // The whole source, whatever --since says (it has a default): a trace id names its own time.
  const traceSpans = await source.trace(traceId);
  if (traceSpans.length === 0) {
    throw new UserError(`trace ${traceId} not found in ${source.description}`, 'list the traces of a window with `profctl trace --since 1h`, or point --spans at the source that has it');
  }
  const { fromMs: from, toMs: to } = spanExtent(traceSpans);
  const profile = await readTimedSamples(options, from, to);
  const join = joinSamplesToSpans(profile, await spansAroundTrace(source, traceSpans));
  const sel = selectTraceSamples(profile, join, { traceId, includeAmbiguous: opts.includeAmbiguous });
  const rows = waterfall(traceSpans, profile, join);
  if (opts.json) {
    process.stdout.write(waterfallJson(traceId, rows, sel.counts) + '\n');
    return ExitCode.ok;
  }
  process.stdout.write(`trace ${traceId}  ${formatDuration(to - from)}  ${traceSpans.length} spans\n`);
  process.stdout.write(waterfallText(rows, width()));
  process.stderr.write(`${describeAttribution(sel)}\n`);
  const period = samplingPeriodMs(profile);
  const total = sel.counts.exact + sel.counts.thread + sel.counts.process + sel.counts.ambiguous;
  if (total === 0 && to - from < period) {
    process.stderr.write(`profctl: this trace lasted ${formatDuration(to - from)}, shorter than the sampling period (${formatDuration(period)}): no CPU sample fell inside it\n`);
  }
  process.stderr.write(`next: ${flameCommand(traceId, options)}\n`);
  return ExitCode.ok;
}

/** The walk's next command, reading the same profiles and spans as this one (as `slo` does for `trace`). */
export function flameCommand(traceId: string, options: Record<string, unknown>): string {
  const parts = ['profctl', 'flame', '--trace-id', traceId];
  for (const file of optionList(options.input)) parts.push('--input', shellQuote(file));
  if (typeof options.inputFormat === 'string') parts.push('--input-format', options.inputFormat);
  if (typeof options.store === 'string') parts.push('--store', shellQuote(options.store));
  if (typeof options.spans === 'string') parts.push('--spans', shellQuote(options.spans));
  if (options.includeAmbiguous === true) parts.push('--include-ambiguous');
  return parts.join(' ');
}
