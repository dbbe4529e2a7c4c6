// --trace-id and --span-id on the reading commands (flame, top, export,
// diff): find the trace's spans in the span source, read only the samples of
// the trace's time range (from --input or the store's overlapping segments),
// and keep the samples the join attributes to it. Prints how many samples
// each kind of attribution gave, and says plainly when the trace was too
// short to be sampled.
import { UserError } from '../errors.js';
import type { Profile } from '../profile/model.js';
import type { Span } from '../spans/model.js';
import { joinSamplesToSpans, selectTraceSamples, describeAttribution, normalizeId } from '../query/join.js';
import { spanExtent } from '../query/traces.js';
import { openSpanSource, readTimedSamples, samplingPeriodMs, spansAroundTrace, warnOnStderr } from './data-sources.js';
import { optionList } from './select-profile.js';
import { parseTimeRange } from './units.js';

export interface TraceFilter {
  traceId?: string;
  spanId?: string;
}

export function parseTraceFilter(options: Record<string, unknown>): TraceFilter | undefined {
  const t = typeof options.traceId === 'string' ? options.traceId : undefined;
  const s = typeof options.spanId === 'string' ? options.spanId : undefined;
  if (t === undefined && s === undefined) return undefined;
  const traceId = t !== undefined ? normalizeId(t, 16) : undefined;
  if (t !== undefined && !traceId) throw new UserError(`--trace-id ${t}: not a trace id`, 'give 32 hex digits (or base64 of 16 bytes)');
  const spanId = s !== undefined ? normalizeId(s, 8) : undefined;
  if (s !== undefined && !spanId) throw new UserError(`--span-id ${s}: not a span id`, 'give 16 hex digits (or base64 of 8 bytes)');
  return { ...(traceId ? { traceId } : {}), ...(spanId ? { spanId } : {}) };
}

/** The spans of the selection, from --spans or the store; none when no source has them. */
async function findSpans(options: Record<string, unknown>, f: TraceFilter): Promise<Span[]> {
  const explicit = typeof options.spans === 'string';
  const hasInput = optionList(options.input).length > 0;
  let source;
  try {
    source = await openSpanSource(options);
    // The whole source, whatever --since says: a trace id names its own time.
    if (f.traceId) return await spansAroundTrace(source, await source.trace(f.traceId));
    // A span id alone: look in the --since/--until window of the store or a
    // backend; a span file is small enough to search whole.
    const { OtlpFileSpanSource } = await import('../spans/file-source.js');
    const isFile = source instanceof OtlpFileSpanSource;
    const { fromMs, toMs } = isFile ? { fromMs: -Infinity, toMs: Infinity } : parseTimeRange(options.since, options.until);
    const inRange = await source.spansInRange(fromMs, toMs);
    const span = inRange.find((s) => s.spanId === f.spanId);
    return span ? spansAroundTrace(source, inRange.filter((s) => s.traceId === span.traceId)) : [];
  } catch (e) {
    // Profiles whose samples carry their trace ids (pprof labels) need no span
    // data: without --spans, a missing store is no error for them.
    if (!explicit && hasInput && e instanceof UserError) return [];
    throw e;
  }
}

/** The profile of one trace or span subtree, and the note on how it was attributed. */
export async function selectTraceProfile(options: Record<string, unknown>, f: TraceFilter, readInputs: () => Promise<Profile>): Promise<Profile> {
  const spans = await findSpans(options, f);
  let profile: Profile;
  let spanRange: { fromMs: number; toMs: number } | undefined;
  const own = spans.filter((s) => (f.traceId ? s.traceId === f.traceId : s.traceId === spans[0]!.traceId));
  if (own.length) {
    spanRange = spanExtent(own);
    const { fromMs, toMs } = spanRange;
    profile = await readTimedSamples(options, fromMs, toMs);
  } else {
    if (optionList(options.input).length === 0) {
      const what = f.traceId ? `trace ${f.traceId}` : `span ${f.spanId}`;
      throw new UserError(`${what}: no spans found in ${typeof options.spans === 'string' ? options.spans : 'the store'}`, 'check the id (profctl trace lists the traces of a window), or point --spans at the source that has it');
    }
    profile = await readInputs();
  }
  const join = joinSamplesToSpans(profile, spans);
  const sel = selectTraceSamples(profile, join, { ...f, includeAmbiguous: options.includeAmbiguous === true });
  process.stderr.write(`profctl: ${f.traceId ? `trace ${f.traceId}` : `span ${f.spanId}`}: ${describeAttribution(sel)}\n`);
  const total = sel.counts.exact + sel.counts.thread + sel.counts.process + sel.counts.ambiguous;
  if (total === 0 && spanRange) {
    const period = samplingPeriodMs(profile);
    const lasted = spanRange.toMs - spanRange.fromMs;
    if (lasted < period) warnOnStderr(`the trace lasted ${lasted.toFixed(2)} ms, shorter than the sampling period (${period.toFixed(1)} ms): no CPU sample fell inside it`);
    else warnOnStderr(`no CPU samples fell inside the trace's ${spans.length} spans (${lasted.toFixed(1)} ms): it was waiting, not running, or its process was not sampled`);
  }
  return sel.profile;
}
