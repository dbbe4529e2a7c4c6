// Where a reading command gets its spans and its time-stamped samples: the
// --spans option (the store by default, an OTLP JSON file, or a Jaeger or
// Tempo URL) and --input files or the store for samples. Commands reach
// across stages here so the stages themselves stay independent.
import type { Profile } from '../profile/model.js';
import type { Span, SpanSource } from '../spans/model.js';
import { readProfileFile } from '../profile/read-file.js';
import { mergeProfiles } from '../query/merge.js';
import { optionList } from './select-profile.js';
import { spanExtent } from '../query/traces.js';

export function warnOnStderr(message: string): void {
  process.stderr.write(`profctl: warning: ${message}\n`);
}

/** A SpanSource over the local store's spans (received by the agent's OTLP receiver). */
class StoreSpanSource implements SpanSource {
  readonly description: string;
  constructor(private readonly dir: string) {
    this.description = `the store at ${dir}`;
  }
  private async reader() {
    const { openStoreReader } = await import('../store/index.js');
    return openStoreReader(this.dir, { onWarning: warnOnStderr });
  }
  async spansInRange(fromMs: number, toMs: number, opts: { services?: string[] } = {}): Promise<Span[]> {
    return (await this.reader()).readSpans({ fromMs, toMs, ...(opts.services?.length ? { services: opts.services } : {}) });
  }
  /**
   * Every span of one trace. The store has no index by trace id, so this
   * reads the segments newest first (on-call traces are nearly always
   * recent), skipping without decoding those whose span bytes do not hold
   * the id, and stops below the trace's start: a segment's name covers every
   * span in it, and a span of the trace ends after the trace began. Found
   * spans set that start; without the root among them, or with clocks apart
   * between hosts, it is widened (a minute, or twice what was found). Only
   * the hours it goes back through are listed.
   */
  async trace(traceId: string): Promise<Span[]> {
    const reader = await this.reader();
    const byId = new Map<string, Span>();
    let stopBelow = -Infinity;
    for (const seg of reader.segmentsNewestFirst()) {
      if (seg.toMs < stopBelow) break;
      const spans = await reader.readSpans({ traceIds: [traceId] }, [seg]);
      if (spans.length === 0) continue;
      for (const sp of spans) byId.set(sp.spanId, sp);
      const found = [...byId.values()];
      const { fromMs: start, toMs: end } = spanExtent(found);
      const hasRoot = found.some((sp) => !sp.parentSpanId);
      stopBelow = start - (hasRoot ? TRACE_CLOCK_SLACK_MS : Math.max(TRACE_CLOCK_SLACK_MS, 2 * (end - start)));
    }
    return [...byId.values()].sort((a, b) => a.startMs - b.startMs);
  }
}

/** How far the clocks of the hosts that send one trace's spans may be apart. */
const TRACE_CLOCK_SLACK_MS = 60_000;

export async function storeDir(options: Record<string, unknown>): Promise<string> {
  const { resolveStoreDir } = await import('../store/index.js');
  return resolveStoreDir(typeof options.store === 'string' ? options.store : undefined);
}

/** The span source named by --spans: 'store' (default), jaeger+http://…, tempo+http://…, or an OTLP JSON file. */
export async function openSpanSource(options: Record<string, unknown>): Promise<SpanSource> {
  const spec = typeof options.spans === 'string' ? options.spans : 'store';
  if (spec === 'store') return new StoreSpanSource(await storeDir(options));
  const { remoteSpanSource } = await import('../spans/remote-sources.js');
  const remote = remoteSpanSource(spec);
  if (remote) return remote;
  const { OtlpFileSpanSource } = await import('../spans/file-source.js');
  return new OtlpFileSpanSource(spec, warnOnStderr);
}

/**
 * Samples with their times for [fromMs, toMs]: from --input files (e.g. a
 * pprof written by `record -o`, whose samples carry timestamps) or from the
 * store, which opens only the segments overlapping the range.
 */
export async function readTimedSamples(options: Record<string, unknown>, fromMs: number, toMs: number): Promise<Profile> {
  const files = optionList(options.input);
  if (files.length) {
    const profiles: Profile[] = [];
    for (const f of files) profiles.push(await readProfileFile(f, { perfScript: { perSample: true } }));
    const merged = mergeProfiles(profiles);
    return { ...merged, samples: merged.samples.filter((s) => s.timeMs === undefined || (s.timeMs >= fromMs && s.timeMs <= toMs)) };
  }
  const { openStoreReader } = await import('../store/index.js');
  return openStoreReader(await storeDir(options), { onWarning: warnOnStderr }).readProfile({ fromMs, toMs, aggregate: false });
}

/** The sampling period in ms, from the profile (pprof period) or the default rate. */
export function samplingPeriodMs(profile: Profile): number {
  const p = profile.period;
  const unit = profile.periodType?.unit;
  if (p && unit === 'nanoseconds') return p / 1e6;
  if (p && unit === 'microseconds') return p / 1e3;
  if (p && unit === 'milliseconds') return p;
  return 1000 / 99;
}

/**
 * The spans a join needs to attribute one trace's samples fairly: the trace's
 * own spans and every other span that overlaps them. Joining with the trace
 * alone would hand it samples that a concurrent request in the same process
 * or thread owned (or made ambiguous).
 */
export async function spansAroundTrace(source: SpanSource, traceSpans: Span[]): Promise<Span[]> {
  if (traceSpans.length === 0) return traceSpans;
  const { fromMs, toMs } = spanExtent(traceSpans);
  const seen = new Set(traceSpans.map((s) => `${s.traceId}/${s.spanId}`));
  const out = [...traceSpans];
  for (const s of await source.spansInRange(fromMs, toMs)) {
    const key = `${s.traceId}/${s.spanId}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(s);
    }
  }
  return out;
}

