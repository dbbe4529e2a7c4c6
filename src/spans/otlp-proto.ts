// Decodes OTLP trace protobuf (ExportTraceServiceRequest, which has the same
// layout as TracesData) into the span model. Field numbers follow
// opentelemetry/proto/trace/v1/trace.proto and common/v1/common.proto.
// Only what profctl uses is kept: ids, names, kinds, times, status, the
// resource's service.name and process.pid, the span's thread.id, and scalar
// attributes. Malformed input raises WireError; callers turn it into a 400.
import { WireReader, WireWriter, WireError, WireType } from '../profile/protobuf-wire.js';
import type { Span, SpanKind, SpanStatus } from './model.js';
import { spanFromFields } from './span-fields.js';
import { normalizeId } from './otlp-json.js';

const kinds: SpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const statuses: SpanStatus[] = ['unset', 'ok', 'error'];

type Scalar = string | number | boolean;

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

function anyValue(r: WireReader): Scalar | undefined {
  let v: Scalar | undefined;
  while (!r.done()) {
    const t = r.tag();
    const field = t >>> 3;
    const type = t & 7;
    if (field === 1 && type === WireType.Len) v = r.string();
    else if (field === 2 && type === WireType.Varint) v = r.varint() !== 0;
    else if (field === 3 && type === WireType.Varint) v = r.varint();
    else if (field === 4 && type === WireType.Fixed64) v = r.double();
    else r.skip(type);
  }
  return v;
}

function keyValue(r: WireReader): [string, Scalar | undefined] {
  let key = '';
  let value: Scalar | undefined;
  while (!r.done()) {
    const t = r.tag();
    const field = t >>> 3;
    const type = t & 7;
    if (field === 1 && type === WireType.Len) key = r.string();
    else if (field === 2 && type === WireType.Len) value = anyValue(r.sub());
    else r.skip(type);
  }
  return [key, value];
}

function resourceAttributes(r: WireReader): Record<string, Scalar> {
  const attrs: Record<string, Scalar> = {};
  while (!r.done()) {
    const t = r.tag();
    const field = t >>> 3;
    const type = t & 7;
    if (field === 1 && type === WireType.Len) {
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
    const t = r.tag();
    const field = t >>> 3;
    const type = t & 7;
    if (field === 3 && type === WireType.Varint) code = r.varint();
    else r.skip(type);
  }
  return statuses[code] ?? 'unset';
}

/** A span field must come with the wire type its schema gives it. */
function need(type: number, want: number, field: string): void {
  if (type !== want) throw new WireError(`span ${field} has the wrong wire type`);
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
    const t = r.tag();
    const field = t >>> 3;
    const type = t & 7;
    switch (field) {
      case 1:
        need(type, WireType.Len, 'trace_id');
        traceId = hex(r.bytes());
        break;
      case 2:
        need(type, WireType.Len, 'span_id');
        spanId = hex(r.bytes());
        break;
      case 4:
        need(type, WireType.Len, 'parent_span_id');
        parent = hex(r.bytes());
        break;
      case 5:
        need(type, WireType.Len, 'name');
        name = r.string();
        break;
      case 6:
        need(type, WireType.Varint, 'kind');
        kind = r.varint();
        break;
      case 7:
        need(type, WireType.Fixed64, 'start time');
        start = r.fixed64();
        break;
      case 8:
        need(type, WireType.Fixed64, 'end time');
        end = r.fixed64();
        break;
      case 9:
        if (type === WireType.Len) {
          const [k, v] = keyValue(r.sub());
          if (v !== undefined) attributes[k] = v;
        } else r.skip(type);
        break;
      case 15:
        if (type === WireType.Len) st = status(r.sub());
        else r.skip(type);
        break;
      default:
        r.skip(type);
    }
  }
  return spanFromFields({
    traceId: normalizeId(traceId, 16),
    spanId: normalizeId(spanId, 8),
    parentSpanId: normalizeId(parent, 8),
    name,
    kind: kinds[kind] ?? 'unspecified',
    startMs: start ? nanosToMs(start) : undefined,
    endMs: end ? nanosToMs(end) : undefined,
    status: st,
    attributes,
    resource,
  });
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
    const t0 = top.tag();
    const field = t0 >>> 3;
    const type = t0 & 7;
    if (field !== 1 || type !== WireType.Len) {
      top.skip(type);
      continue;
    }
    const rs = top.sub();
    let resource: Record<string, Scalar> = {};
    const scopes: WireReader[] = [];
    while (!rs.done()) {
      const t = rs.tag();
      if (t >>> 3 === 1 && (t & 7) === WireType.Len) resource = resourceAttributes(rs.sub());
      else if ((t >>> 3 === 2 || t >>> 3 === 1000) && (t & 7) === WireType.Len) scopes.push(rs.sub());
      else rs.skip(t & 7);
    }
    for (const ss of scopes) {
      while (!ss.done()) {
        const t = ss.tag();
        if (t >>> 3 === 2 && (t & 7) === WireType.Len) {
          const s = span(ss.sub(), resource);
          if (s) spans.push(s);
          else rejected++;
        } else ss.skip(t & 7);
      }
    }
  }
  return { spans, rejected };
}

/** ExportTraceServiceResponse, with partial_success when some spans were rejected. */
export function encodeExportResponse(rejected: number, message: string): Uint8Array {
  if (rejected === 0) return new Uint8Array(0);
  const w = new WireWriter(256);
  w.message(1, (p) => {
    p.uintField(1, rejected);
    p.stringField(2, message);
  });
  return w.finish();
}

/** google.rpc.Status, the body of an OTLP/HTTP error reply in protobuf. */
export function encodeRpcStatus(code: number, message: string): Uint8Array {
  const w = new WireWriter(256);
  w.uintField(1, code);
  w.stringField(2, message);
  return w.finish();
}

export { WireError };
