// Traces as the on-call sees them: per trace its root, service, duration,
// span count, CPU samples attributed by the join and the hottest function;
// per span of one trace its own samples and hottest function. Pure passes
// over spans, a profile and a join result.
import type { Profile } from '../profile/model.js';
import type { Span } from '../spans/model.js';
import { Kind, type JoinResult, type AttributionCounts } from './join.js';

export interface TraceSummary {
  traceId: string;
  root: string;
  service: string;
  startMs: number;
  durationMs: number;
  spans: number;
  samples: number;
  counts: AttributionCounts;
  /** The function with the most samples (see hottestFrameOf), if any. */
  hottest?: string;
}

/** The root span of a trace: no parent within the trace, earliest start, longest. */
export function rootSpan(spans: Span[]): Span | undefined {
  const ids = new Set(spans.map((s) => s.spanId));
  const roots = spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
  const pool = roots.length ? roots : spans;
  return pool.reduce<Span | undefined>((best, s) => (!best || s.startMs < best.startMs || (s.startMs === best.startMs && s.endMs > best.endMs) ? s : best), undefined);
}

/**
 * The time window spans cover: earliest start to latest end. A loop, not
 * Math.min(...spans): a day of spans is more arguments than a call may take.
 */
export function spanExtent(spans: readonly Span[]): { fromMs: number; toMs: number } {
  let fromMs = Infinity;
  let toMs = -Infinity;
  for (const s of spans) {
    if (s.startMs < fromMs) fromMs = s.startMs;
    if (s.endMs > toMs) toMs = s.endMs;
  }
  return { fromMs, toMs };
}

export function groupByTrace(spans: Span[]): Map<string, Span[]> {
  const m = new Map<string, Span[]>();
  for (const s of spans) {
    let l = m.get(s.traceId);
    if (!l) m.set(s.traceId, (l = []));
    l.push(s);
  }
  return m;
}

function emptyCounts(): AttributionCounts {
  return { exact: 0, thread: 0, process: 0, ambiguous: 0 };
}

/** Which trace (and span) each attributed sample belongs to; ambiguous samples belong to none. */
function sampleOwners(join: JoinResult): { trace: (string | undefined)[]; span: Int32Array } {
  const n = join.kind.length;
  const trace: (string | undefined)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const k = join.kind[i];
    if (k === Kind.Exact) trace[i] = join.exactTrace.get(i)?.traceId;
    else if (k === Kind.Thread || k === Kind.Process) trace[i] = join.spans[join.span[i]!]!.traceId;
  }
  return { trace, span: join.span };
}

class LeafCounter {
  private counts = new Map<string, Map<number, number>>();
  add(key: string, frame: number, value: number): void {
    let m = this.counts.get(key);
    if (!m) this.counts.set(key, (m = new Map()));
    m.set(frame, (m.get(frame) ?? 0) + value);
  }
  hottest(key: string, profile: Profile): string | undefined {
    const m = this.counts.get(key);
    if (!m) return undefined;
    let best = -1;
    let bestV = -Infinity;
    for (const [f, v] of m) if (v > bestV) [best, bestV] = [f, v];
    return best >= 0 ? profile.frames[best]!.name : undefined;
  }
}

/**
 * The function a sample counts for when naming a trace's or span's hottest
 * function: its first user-space frame from the leaf, so time in system calls
 * and interrupt paths (irqentry_exit_to_user_mode, …) counts for the code that
 * was running; an all-kernel stack counts for its kernel leaf.
 */
export function hottestFrameOf(profile: Profile, stack: number): number | undefined {
  const frames = profile.stacks[stack]!;
  for (const f of frames) if (profile.frames[f]!.kind !== 'kernel') return f;
  return frames[0];
}

const kindKey: Record<number, keyof AttributionCounts> = { [Kind.Exact]: 'exact', [Kind.Thread]: 'thread', [Kind.Process]: 'process' };

/** One row per trace that has spans; samples and hottest from the join. */
export function summarizeTraces(spans: Span[], profile: Profile, join: JoinResult): TraceSummary[] {
  const owners = sampleOwners(join);
  const perTrace = new Map<string, { samples: number; counts: AttributionCounts }>();
  const leaves = new LeafCounter();
  profile.samples.forEach((s, i) => {
    const t = owners.trace[i];
    if (t === undefined) return;
    let e = perTrace.get(t);
    if (!e) perTrace.set(t, (e = { samples: 0, counts: emptyCounts() }));
    e.samples++;
    e.counts[kindKey[join.kind[i]!]!]++;
    const hot = hottestFrameOf(profile, s.stack);
    if (hot !== undefined) leaves.add(t, hot, 1);
  });
  const out: TraceSummary[] = [];
  for (const [traceId, list] of groupByTrace(spans)) {
    const root = rootSpan(list)!;
    const { fromMs: start, toMs: end } = spanExtent(list);
    const e = perTrace.get(traceId);
    out.push({
      traceId,
      root: root.name,
      service: root.service,
      startMs: start,
      durationMs: end - start,
      spans: list.length,
      samples: e?.samples ?? 0,
      counts: e?.counts ?? emptyCounts(),
      hottest: leaves.hottest(traceId, profile),
    });
  }
  return out;
}

export interface WaterfallRow {
  span: Span;
  depth: number;
  /** Start relative to the trace's start. */
  offsetMs: number;
  durationMs: number;
  /** Samples attributed to this span itself (not its children). */
  samples: number;
  hottest?: string;
}

/** Spans of one trace in tree order (children after their parent, by start time). */
export function waterfall(spans: Span[], profile: Profile, join: JoinResult): WaterfallRow[] {
  if (spans.length === 0) return [];
  const start = spanExtent(spans).fromMs;
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, Span[]>();
  const roots: Span[] = [];
  for (const s of spans) {
    if (s.parentSpanId && ids.has(s.parentSpanId)) {
      let l = children.get(s.parentSpanId);
      if (!l) children.set(s.parentSpanId, (l = []));
      l.push(s);
    } else roots.push(s);
  }
  const bySpanId = new Map(spans.map((s) => [s.spanId, s]));
  const own = new Map<Span, number>();
  const leaves = new LeafCounter();
  profile.samples.forEach((smp, i) => {
    let span: Span | undefined;
    const k = join.kind[i];
    if (k === Kind.Thread || k === Kind.Process) span = join.spans[join.span[i]!];
    else if (k === Kind.Exact) {
      const e = join.exactTrace.get(i);
      span = e?.spanId ? bySpanId.get(e.spanId) : join.span[i]! >= 0 ? join.spans[join.span[i]!] : undefined;
    }
    if (!span || !bySpanId.has(span.spanId)) return;
    own.set(span, (own.get(span) ?? 0) + 1);
    const hot = hottestFrameOf(profile, smp.stack);
    if (hot !== undefined) leaves.add(span.spanId, hot, 1);
  });
  const rows: WaterfallRow[] = [];
  const visit = (s: Span, depth: number, seen: Set<string>) => {
    if (seen.has(s.spanId)) return;
    seen.add(s.spanId);
    rows.push({ span: s, depth, offsetMs: s.startMs - start, durationMs: s.endMs - s.startMs, samples: own.get(s) ?? 0, hottest: leaves.hottest(s.spanId, profile) });
    for (const c of (children.get(s.spanId) ?? []).sort((a, b) => a.startMs - b.startMs)) visit(c, depth + 1, seen);
  };
  const seen = new Set<string>();
  for (const r of roots.sort((a, b) => a.startMs - b.startMs)) visit(r, 0, seen);
  return rows;
}
