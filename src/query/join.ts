// Joins CPU samples to spans: for every sample, which span (and so which
// trace) was running on its thread when it was taken. Pure functions over the
// profile and span models; nothing here reads files or draws.
//
// Each sample is attributed one of four ways (DESIGN.md, "Correlation"):
//   exact      the sample carries its trace context (pprof labels trace_id,
//              span_id, Pyroscope's profile_id, or ids the BPF program read
//              from the thread's OpenTelemetry context);
//   thread     spans carry thread.id and the process pid: the innermost span
//              on the sample's thread whose [start, end] holds its time;
//   process    spans carry only the pid: the sample belongs to a span when the
//              spans covering its time form one chain of nested spans;
//   ambiguous  several concurrent chains could own it; left out of --trace-id
//              views unless asked for, and counted.
import type { Profile, Sample } from '../profile/model.js';
import type { Span } from '../spans/model.js';
import { normalizeId } from '../spans/otlp-json.js';

export { normalizeId };

export const enum Kind {
  None = 0,
  Exact = 1,
  Thread = 2,
  Process = 3,
  Ambiguous = 4,
}

export const kindNames = ['none', 'exact', 'thread-time', 'process-time', 'ambiguous'] as const;

export interface JoinResult {
  spans: Span[];
  /** Per sample: how it was attributed. */
  kind: Uint8Array;
  /** Per sample: index into spans of its span, or -1 (exact samples whose span is unknown). */
  span: Int32Array;
  /** Per sample with exact attribution: its trace id (from the labels). */
  exactTrace: Map<number, { traceId?: string; spanId?: string }>;
  /** Per ambiguous sample: the candidate spans. */
  candidates: Map<number, number[]>;
}

export interface JoinOptions {
  /** Widen every span by this much on both sides (e.g. half a sampling period). */
  padMs?: number;
}

function labelId(s: Sample, key: string, bytes: 16 | 8): string | undefined {
  const v = s.labels?.[key];
  return typeof v === 'string' ? normalizeId(v, bytes) : undefined;
}

interface Group {
  spans: number[]; // indices, sorted by start
  maxEnd: Float64Array; // prefix max of end over the sorted order
}

function buildGroups(spans: Span[], keyOf: (s: Span) => string | undefined): Map<string, Group> {
  const lists = new Map<string, number[]>();
  spans.forEach((s, i) => {
    const k = keyOf(s);
    if (k === undefined) return;
    let l = lists.get(k);
    if (!l) lists.set(k, (l = []));
    l.push(i);
  });
  const groups = new Map<string, Group>();
  for (const [k, l] of lists) {
    l.sort((a, b) => spans[a]!.startMs - spans[b]!.startMs);
    const maxEnd = new Float64Array(l.length);
    let m = -Infinity;
    l.forEach((idx, j) => {
      m = Math.max(m, spans[idx]!.endMs);
      maxEnd[j] = m;
    });
    groups.set(k, { spans: l, maxEnd });
  }
  return groups;
}

/**
 * Spans of a group whose [start - pad, end + pad] holds t. When some of them
 * hold t itself, only those: padding is for samples that fall just outside
 * every span, and must not let the neighbour that starts right after a span
 * on the same thread (the "innermost" by start time) take that span's samples.
 */
function covering(g: Group, spans: Span[], t: number, pad: number): number[] {
  const l = g.spans;
  let lo = 0;
  let hi = l.length; // first index with start - pad > t
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[l[mid]!]!.startMs - pad <= t) lo = mid + 1;
    else hi = mid;
  }
  const out: number[] = [];
  for (let j = lo - 1; j >= 0 && g.maxEnd[j]! + pad >= t; j--) {
    if (spans[l[j]!]!.endMs + pad >= t) out.push(l[j]!);
  }
  if (pad > 0 && out.length > 1) {
    const holding = out.filter((i) => spans[i]!.startMs <= t && t <= spans[i]!.endMs);
    if (holding.length) return holding;
  }
  return out;
}

/** Ancestor span ids of a span, itself included, by parent links. */
function ancestry(spans: Span[], byId: Map<string, number>, i: number): Set<number> {
  const seen = new Set<number>();
  let cur: number | undefined = i;
  while (cur !== undefined && !seen.has(cur)) {
    seen.add(cur);
    const p: string | undefined = spans[cur]!.parentSpanId;
    cur = p ? byId.get(`${spans[cur]!.traceId}/${p}`) : undefined;
  }
  return seen;
}

/** The innermost of covering spans: latest start, then shortest. */
function innermost(spans: Span[], c: number[]): number {
  let best = c[0]!;
  for (const i of c) {
    const a = spans[i]!;
    const b = spans[best]!;
    if (a.startMs > b.startMs || (a.startMs === b.startMs && a.endMs < b.endMs)) best = i;
  }
  return best;
}

export function joinSamplesToSpans(profile: Profile, spans: Span[], opts: JoinOptions = {}): JoinResult {
  const pad = opts.padMs ?? 0;
  const n = profile.samples.length;
  const kind = new Uint8Array(n);
  const span = new Int32Array(n).fill(-1);
  const exactTrace = new Map<number, { traceId?: string; spanId?: string }>();
  const candidates = new Map<number, number[]>();

  const byId = new Map<string, number>();
  const bySpanId = new Map<string, number>();
  spans.forEach((s, i) => {
    byId.set(`${s.traceId}/${s.spanId}`, i);
    bySpanId.set(s.spanId, i);
  });
  const threads = buildGroups(spans, (s) => (s.pid !== undefined && s.tid !== undefined ? `${s.pid}/${s.tid}` : undefined));
  const processes = buildGroups(spans, (s) => (s.pid !== undefined && s.tid === undefined ? String(s.pid) : undefined));

  profile.samples.forEach((s, i) => {
    const traceId = labelId(s, 'trace_id', 16);
    const spanId = labelId(s, 'span_id', 8) ?? labelId(s, 'profile_id', 8);
    if (traceId || spanId) {
      kind[i] = Kind.Exact;
      const known = spanId !== undefined ? bySpanId.get(spanId) : undefined;
      if (known !== undefined && (!traceId || spans[known]!.traceId === traceId)) span[i] = known;
      exactTrace.set(i, { traceId: traceId ?? (known !== undefined ? spans[known]!.traceId : undefined), spanId });
      return;
    }
    if (s.pid === undefined || s.timeMs === undefined) return;
    const t = s.timeMs;
    if (s.tid !== undefined) {
      const g = threads.get(`${s.pid}/${s.tid}`);
      if (g) {
        const c = covering(g, spans, t, pad);
        if (c.length) {
          kind[i] = Kind.Thread;
          span[i] = innermost(spans, c);
          return;
        }
      }
    }
    const g = processes.get(String(s.pid));
    if (!g) return;
    const c = covering(g, spans, t, pad);
    if (c.length === 0) return;
    const inner = innermost(spans, c);
    const chain = ancestry(spans, byId, inner);
    if (c.every((x) => chain.has(x))) {
      kind[i] = Kind.Process;
      span[i] = inner;
    } else {
      kind[i] = Kind.Ambiguous;
      candidates.set(i, c);
    }
  });
  return { spans, kind, span, exactTrace, candidates };
}

export interface AttributionCounts {
  exact: number;
  thread: number;
  process: number;
  ambiguous: number;
}

export interface TraceSelection {
  profile: Profile;
  counts: AttributionCounts;
  /** Ambiguous samples that could belong to the selection but were left out. */
  ambiguousLeftOut: number;
}

/** The span and all its descendants, as span indices. */
export function spanSubtree(spans: Span[], traceId: string | undefined, spanId: string): Set<number> {
  const children = new Map<string, number[]>();
  let root = -1;
  spans.forEach((s, i) => {
    if (traceId !== undefined && s.traceId !== traceId) return;
    if (s.spanId === spanId) root = i;
    if (s.parentSpanId) {
      const k = s.parentSpanId;
      let l = children.get(k);
      if (!l) children.set(k, (l = []));
      l.push(i);
    }
  });
  const out = new Set<number>();
  if (root < 0) return out;
  const stack = [root];
  while (stack.length) {
    const i = stack.pop()!;
    if (out.has(i)) continue;
    out.add(i);
    for (const c of children.get(spans[i]!.spanId) ?? []) stack.push(c);
  }
  return out;
}

/**
 * The samples of one trace (or one span and its descendants), with how many
 * came from each kind of attribution.
 */
export function selectTraceSamples(
  profile: Profile,
  join: JoinResult,
  sel: { traceId?: string; spanId?: string; includeAmbiguous?: boolean },
): TraceSelection {
  const { spans } = join;
  const subtree = sel.spanId !== undefined ? spanSubtree(spans, sel.traceId, sel.spanId) : undefined;
  // Span ids of the selection; a span id seen only on samples (no span data) still selects itself.
  const subtreeIds = subtree ? new Set([...subtree].map((x) => spans[x]!.spanId).concat(sel.spanId!)) : undefined;
  const spanMatches = (i: number) => {
    if (i < 0) return false;
    if (subtree) return subtree.has(i);
    return spans[i]!.traceId === sel.traceId;
  };
  const counts: AttributionCounts = { exact: 0, thread: 0, process: 0, ambiguous: 0 };
  let ambiguousLeftOut = 0;
  const kept: Sample[] = [];
  profile.samples.forEach((s, i) => {
    switch (join.kind[i]) {
      case Kind.Exact: {
        const e = join.exactTrace.get(i)!;
        const ok = subtreeIds ? e.spanId !== undefined && subtreeIds.has(e.spanId) : e.traceId === sel.traceId;
        if (ok) {
          counts.exact++;
          kept.push(s);
        }
        return;
      }
      case Kind.Thread:
        if (spanMatches(join.span[i]!)) {
          counts.thread++;
          kept.push(s);
        }
        return;
      case Kind.Process:
        if (spanMatches(join.span[i]!)) {
          counts.process++;
          kept.push(s);
        }
        return;
      case Kind.Ambiguous:
        if ((join.candidates.get(i) ?? []).some(spanMatches)) {
          if (sel.includeAmbiguous) {
            counts.ambiguous++;
            kept.push(s);
          } else ambiguousLeftOut++;
        }
        return;
    }
  });
  return { profile: { ...profile, samples: kept }, counts, ambiguousLeftOut };
}

/** One line for stderr: how the samples of a trace view were attributed. */
export function describeAttribution(sel: TraceSelection): string {
  const c = sel.counts;
  const total = c.exact + c.thread + c.process + c.ambiguous;
  let line = `samples: ${total} (exact ${c.exact}, thread-time ${c.thread}, process-time ${c.process}, ambiguous ${c.ambiguous})`;
  if (sel.ambiguousLeftOut) line += `; ${sel.ambiguousLeftOut} ambiguous samples left out (--include-ambiguous to add them)`;
  return line;
}
