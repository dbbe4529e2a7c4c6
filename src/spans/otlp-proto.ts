// Decodes OTLP trace protobuf (ExportTraceServiceRequest, which has the same
// layout as TracesData) into the span model. Field numbers follow
// opentelemetry/proto/trace/v1/trace.proto and common/v1/common.proto.
// Only what profctl uses is kept: ids, names, kinds, times, status, the
// resource's service.name and process.pid, the span's thread.id, and scalar
// attributes. Malformed input raises WireError; callers turn it into a 400.
import { WireReader, WireWriter, WireError, WireType } from './protobuf-wire.js';
import type { Span, SpanKind, SpanStatus } from './model.js';

const kinds: SpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const statuses: SpanStatus[] = ['unset', 'ok', 'error'];

type Scalar = string | number | boolean;

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

function anyValue(r: WireReader): Scalar | undefined {
  let v: Scalar | undefined;
  while (!r.done()) {
    const { field, type } = r.tag();
    if (field === 1 && type === WireType.Bytes) v = r.string();
    else if (field === 2 && type === WireType.Varint) v = r.varint() !== 0;
    else if (field === 3 && type === WireType.Varint) v = Number(r.varintBig());
    else if (field === 4 && type === WireType.Fixed64) v = r.double();
    else r.skip(type);
  }
  return v;
}

function keyValue(r: WireReader): [string, Scalar | undefined] {
  let key = '';
  let value: Scalar | undefined;
  while (!r.done()) {
    const { field, type } = r.tag();
    if (field === 1 && type === WireType.Bytes) key = r.string();
    else if (field === 2 && type === WireType.Bytes) value = anyValue(r.sub());
    else r.skip(type);
  }
  return [key, value];
}

function resourceAttributes(r: WireReader): Record<string, Scalar> {
  const attrs: Record<string, Scalar> = {};
  while (!r.done()) {
    const { field, type } = r.tag();
    if (field === 1 && type === WireType.Bytes) {
      const [k, v] = keyValue(r.sub());
      if (v !== undefined) attrs[k] = v;
    } else r.skip(type);
  }
  return attrs;
}

function nanosToMs(n: bigint): number {
  // Keep µs precision: split to avoid losing bits in a Number of ns.
  return Number(n / 1000n) / 1000;
}

function status(r: WireReader): SpanStatus {
  let code = 0;
  while (!r.done()) {
    const { field, type } = r.tag();
    if (field === 3 && type === WireType.Varint) code = r.varint();
    else r.skip(type);
  }
  return statuses[code] ?? 'unset';
}

function span(r: WireReader, resource: Record<string, Scalar>): Span | undefined {
  let traceId = '';
  let spanId = '';
  let parent = '';
  let name = '';
  let kind = 0;
  let start = 0n;
  let end = 0n;
  let st: SpanStatus = 'unset';
  const attributes: Record<string, Scalar> = {};
  while (!r.done()) {
    const { field, type } = r.tag();
    switch (field) {
      case 1:
        if (type !== WireType.Bytes) throw new WireError('span trace_id has the wrong wire type');
        traceId = hex(r.bytes());
        break;
      case 2:
        if (type !== WireType.Bytes) throw new WireError('span span_id has the wrong wire type');
        spanId = hex(r.bytes());
        break;
      case 4:
        if (type !== WireType.Bytes) throw new WireError('span parent_span_id has the wrong wire type');
        parent = hex(r.bytes());
        break;
      case 5:
        if (type !== WireType.Bytes) throw new WireError('span name has the wrong wire type');
        name = r.string();
        break;
      case 6:
        if (type !== WireType.Varint) throw new WireError('span kind has the wrong wire type');
        kind = r.varint();
        break;
      case 7:
        if (type !== WireType.Fixed64) throw new WireError('span start time has the wrong wire type');
        start = r.fixed64();
        break;
      case 8:
        if (type !== WireType.Fixed64) throw new WireError('span end time has the wrong wire type');
        end = r.fixed64();
        break;
      case 9:
        if (type === WireType.Bytes) {
          const [k, v] = keyValue(r.sub());
          if (v !== undefined) attributes[k] = v;
        } else r.skip(type);
        break;
      case 15:
        if (type === WireType.Bytes) st = status(r.sub());
        else r.skip(type);
        break;
      default:
        r.skip(type);
    }
  }
  return makeSpan({ traceId, spanId, parent, name, kind: kinds[kind] ?? 'unspecified', startMs: nanosToMs(start), endMs: nanosToMs(end), status: st, attributes, resource });
}

/** Builds a Span from decoded fields, or undefined when the ids are not valid OTLP ids. */
export function makeSpan(f: {
  traceId: string;
  spanId: string;
  parent: string;
  name: string;
  kind: SpanKind;
  startMs: number;
  endMs: number;
  status: SpanStatus;
  attributes: Record<string, Scalar>;
  resource: Record<string, Scalar>;
}): Span | undefined {
  if (!/^[0-9a-f]{32}$/.test(f.traceId) || /^0+$/.test(f.traceId)) return undefined;
  if (!/^[0-9a-f]{16}$/.test(f.spanId) || /^0+$/.test(f.spanId)) return undefined;
  const s: Span = {
    traceId: f.traceId,
    spanId: f.spanId,
    name: f.name,
    service: typeof f.resource['service.name'] === 'string' ? (f.resource['service.name'] as string) : '',
    kind: f.kind,
    startMs: f.startMs,
    endMs: Math.max(f.endMs, f.startMs),
    status: f.status,
  };
  if (/^[0-9a-f]{16}$/.test(f.parent) && !/^0+$/.test(f.parent)) s.parentSpanId = f.parent;
  const pid = Number(f.resource['process.pid']);
  if (Number.isInteger(pid) && pid > 0) s.pid = pid;
  const tid = Number(f.attributes['thread.id']);
  if (Number.isInteger(tid) && tid > 0) s.tid = tid;
  if (Object.keys(f.attributes).length > 0) s.attributes = f.attributes;
  return s;
}

export interface DecodedSpans {
  spans: Span[];
  /** Spans dropped for invalid ids. */
  rejected: number;
}

/** Decodes an ExportTraceServiceRequest / TracesData message. */
export function decodeOtlpTraces(buf: Uint8Array): DecodedSpans {
  const spans: Span[] = [];
  let rejected = 0;
  const top = new WireReader(buf);
  while (!top.done()) {
    const { field, type } = top.tag();
    if (field !== 1 || type !== WireType.Bytes) {
      top.skip(type);
      continue;
    }
    const rs = top.sub();
    let resource: Record<string, Scalar> = {};
    const scopes: WireReader[] = [];
    while (!rs.done()) {
      const t = rs.tag();
      if (t.field === 1 && t.type === WireType.Bytes) resource = resourceAttributes(rs.sub());
      else if ((t.field === 2 || t.field === 1000) && t.type === WireType.Bytes) scopes.push(rs.sub());
      else rs.skip(t.type);
    }
    for (const ss of scopes) {
      while (!ss.done()) {
        const t = ss.tag();
        if (t.field === 2 && t.type === WireType.Bytes) {
          const s = span(ss.sub(), resource);
          if (s) spans.push(s);
          else rejected++;
        } else ss.skip(t.type);
      }
    }
  }
  return { spans, rejected };
}

/** ExportTraceServiceResponse, with partial_success when some spans were rejected. */
export function encodeExportResponse(rejected: number, message: string): Uint8Array {
  if (rejected === 0) return new Uint8Array(0);
  const partial = new WireWriter().varint(1, rejected).string(2, message);
  return new WireWriter().message(1, partial).finish();
}

/** google.rpc.Status, the body of an OTLP/HTTP error reply in protobuf. */
export function encodeRpcStatus(code: number, message: string): Uint8Array {
  return new WireWriter().varint(1, code).string(2, message).finish();
}

export { WireError };
