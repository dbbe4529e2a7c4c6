// The one mapping from decoded OTLP span fields to the span model, shared by
// the JSON and protobuf decoders so both read service.name, process.pid and
// thread.id the same way and reject the same spans (missing or all-zero ids,
// missing times).
import type { Span, SpanKind, SpanStatus } from './model.js';

type Scalar = string | number | boolean;

export interface SpanFields {
  /** Lower-case hex, already checked; undefined when missing or invalid. */
  traceId: string | undefined;
  spanId: string | undefined;
  parentSpanId: string | undefined;
  name: string;
  kind: SpanKind;
  startMs: number | undefined;
  endMs: number | undefined;
  status: SpanStatus;
  attributes: Record<string, Scalar>;
  resource: Record<string, Scalar>;
}

function integerAttr(v: Scalar | undefined): number | undefined {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** A Span, or undefined when the ids or times make it unusable. */
export function spanFromFields(f: SpanFields): Span | undefined {
  if (!f.traceId || !f.spanId || f.startMs === undefined || f.endMs === undefined) return undefined;
  const span: Span = {
    traceId: f.traceId,
    spanId: f.spanId,
    name: f.name,
    service: typeof f.resource['service.name'] === 'string' ? (f.resource['service.name'] as string) : '',
    kind: f.kind,
    startMs: f.startMs,
    endMs: Math.max(f.startMs, f.endMs),
    status: f.status,
  };
  if (f.parentSpanId) span.parentSpanId = f.parentSpanId;
  const pid = integerAttr(f.resource['process.pid']);
  if (pid !== undefined) span.pid = pid;
  const tid = integerAttr(f.attributes['thread.id']);
  if (tid !== undefined) span.tid = tid;
  if (Object.keys(f.attributes).length > 0) span.attributes = f.attributes;
  return span;
}
