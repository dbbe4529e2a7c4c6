// The local SLI: requests are the root server spans of a service (spans with
// no parent, or server spans whose parent is not a span of the same service),
// counted at their end time. Bad = slower than the latency threshold, or, for
// an availability SLO, an error status. Counting is pure over a span list;
// the caller fetches spans from whichever SpanSource it was given.
import type { Span, SpanSource } from '../spans/model.js';
import type { EventCounts } from './burn-rate.js';
import type { SloDefinition } from './definition.js';
import type { SliMeasure } from './evaluate.js';

/** Request outcomes sorted by end time, with prefix sums for window counts. */
export interface RequestSeries {
  endMs: Float64Array;
  /** badBefore[i] = bad requests among the first i. */
  badBefore: Uint32Array;
}

export function rootServerSpans(spans: Span[], service: string): Span[] {
  const ofService = spans.filter((s) => s.service === service);
  const ids = new Set(ofService.map((s) => s.spanId));
  return ofService.filter((s) => !s.parentSpanId || (s.kind === 'server' && !ids.has(s.parentSpanId)));
}

export function isBadRequest(span: Span, slo: Pick<SloDefinition, 'latencyMs'>): boolean {
  if (slo.latencyMs !== undefined) return span.endMs - span.startMs > slo.latencyMs;
  return span.status === 'error';
}

export function requestSeries(spans: Span[], slo: Pick<SloDefinition, 'service' | 'latencyMs'>): RequestSeries {
  const roots = rootServerSpans(spans, slo.service).sort((a, b) => a.endMs - b.endMs);
  const endMs = new Float64Array(roots.length);
  const badBefore = new Uint32Array(roots.length + 1);
  roots.forEach((s, i) => {
    endMs[i] = s.endMs;
    badBefore[i + 1] = badBefore[i]! + (isBadRequest(s, slo) ? 1 : 0);
  });
  return { endMs, badBefore };
}

/** Index of the first request ending after tMs. */
function upperBound(a: Float64Array, tMs: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= tMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Requests that ended in (atMs - windowMs, atMs]. */
export function countsInWindow(series: RequestSeries, windowMs: number, atMs: number): EventCounts {
  const hi = upperBound(series.endMs, atMs);
  const lo = upperBound(series.endMs, atMs - windowMs);
  return { total: hi - lo, bad: series.badBefore[hi]! - series.badBefore[lo]! };
}

/** An SliMeasure over spans fetched once from a SpanSource, covering the longest window asked for. */
export function spansMeasure(source: SpanSource, slo: SloDefinition, nowMs: number, lookbackMs: number): SliMeasure {
  let loaded: Promise<RequestSeries> | undefined;
  const series = (): Promise<RequestSeries> =>
    (loaded ??= source.spansInRange(nowMs - lookbackMs, nowMs, { services: [slo.service] }).then((spans) => requestSeries(spans, slo)));
  return {
    async countsAt(windowsMs, atMs) {
      const s = await series();
      return windowsMs.map((w) => countsInWindow(s, w, atMs));
    },
    async history(windowsMs, fromMs, toMs, stepMs) {
      const s = await series();
      const times: number[] = [];
      const counts: EventCounts[][] = [];
      for (let t = fromMs; t <= toMs; t += stepMs) {
        times.push(t);
        counts.push(windowsMs.map((w) => countsInWindow(s, w, t)));
      }
      return { times, counts };
    },
  };
}
