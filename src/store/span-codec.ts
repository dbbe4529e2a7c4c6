// Encoding of received spans inside a segment's SPANS section. Pure.
//
// Layout: base time (f64 ms), a string table (names, services, attribute
// keys and string values), a count, then one record per span: flags, kind,
// status, trace/span/parent ids (raw bytes when they are the usual lower-case
// hex, else strings), name and service as string ids, start as signed
// microseconds from the base, duration in microseconds, pid, tid, attributes.
// It must not read files or filter spans.

import type { Span, SpanKind, SpanStatus } from '../spans/model.js';
import { ByteReader, ByteWriter, DecodeError } from './binary.js';

const KINDS: SpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUSES: SpanStatus[] = ['unset', 'ok', 'error'];

const F_PARENT = 1;
const F_PID = 2;
const F_TID = 4;
const F_ATTRS = 8;
const F_HEX_IDS = 16;

const HEX_RE = /^[0-9a-f]*$/;

function isHexId(id: string, len: number): boolean {
  return id.length === len && HEX_RE.test(id);
}

export function encodeSpans(spans: Span[], baseMs: number): Uint8Array {
  const strings: string[] = [];
  const ids = new Map<string, number>();
  const s = (v: string): number => {
    let id = ids.get(v);
    if (id === undefined) {
      id = strings.length;
      strings.push(v);
      ids.set(v, id);
    }
    return id;
  };
  const body = new ByteWriter(spans.length * 48 + 16);
  for (const span of spans) {
    const hex = isHexId(span.traceId, 32) && isHexId(span.spanId, 16) && (span.parentSpanId === undefined || isHexId(span.parentSpanId, 16));
    const attrs = span.attributes && Object.keys(span.attributes).length ? span.attributes : undefined;
    const flags =
      (span.parentSpanId !== undefined ? F_PARENT : 0) |
      (span.pid !== undefined ? F_PID : 0) |
      (span.tid !== undefined ? F_TID : 0) |
      (attrs ? F_ATTRS : 0) |
      (hex ? F_HEX_IDS : 0);
    body.u8(flags);
    body.u8(Math.max(0, KINDS.indexOf(span.kind)));
    body.u8(Math.max(0, STATUSES.indexOf(span.status)));
    if (hex) {
      body.bytes(Buffer.from(span.traceId, 'hex'));
      body.bytes(Buffer.from(span.spanId, 'hex'));
      if (flags & F_PARENT) body.bytes(Buffer.from(span.parentSpanId!, 'hex'));
    } else {
      body.str(span.traceId);
      body.str(span.spanId);
      if (flags & F_PARENT) body.str(span.parentSpanId!);
    }
    body.uvar(s(span.name));
    body.uvar(s(span.service));
    const startUs = Math.round((span.startMs - baseMs) * 1000);
    body.svar(startUs);
    body.uvar(Math.max(0, Math.round((span.endMs - baseMs) * 1000) - startUs));
    if (flags & F_PID) body.uvar(span.pid!);
    if (flags & F_TID) body.uvar(span.tid!);
    if (attrs) {
      const keys = Object.keys(attrs);
      body.uvar(keys.length);
      for (const k of keys) {
        body.uvar(s(k));
        const v = attrs[k]!;
        if (typeof v === 'string') {
          body.u8(0);
          body.uvar(s(v));
        } else if (typeof v === 'boolean') body.u8(v ? 3 : 4);
        else if (Number.isSafeInteger(v)) {
          body.u8(1);
          body.svar(v);
        } else {
          body.u8(2);
          body.f64(v);
        }
      }
    }
  }
  const w = new ByteWriter(body.length + strings.length * 16 + 32);
  w.f64(baseMs);
  w.uvar(strings.length);
  for (const v of strings) w.str(v);
  w.uvar(spans.length);
  w.bytes(body.finish());
  return w.finish();
}

function strAt(strings: string[], i: number): string {
  const v = strings[i];
  if (v === undefined) throw new DecodeError(`span string index ${i} out of range`);
  return v;
}

export function decodeSpans(bytes: Uint8Array): Span[] {
  const r = new ByteReader(bytes);
  const baseMs = r.f64();
  const nStrings = r.count();
  const strings: string[] = [];
  for (let i = 0; i < nStrings; i++) strings.push(r.str());
  const n = r.count(10);
  const spans: Span[] = [];
  const hexOf = (len: number) => Buffer.from(r.bytes(len)).toString('hex');
  for (let i = 0; i < n; i++) {
    const flags = r.u8();
    const kind = KINDS[r.u8()];
    const status = STATUSES[r.u8()];
    if (!kind || !status) throw new DecodeError('invalid span kind or status');
    const hex = (flags & F_HEX_IDS) !== 0;
    const traceId = hex ? hexOf(16) : r.str();
    const spanId = hex ? hexOf(8) : r.str();
    const parentSpanId = flags & F_PARENT ? (hex ? hexOf(8) : r.str()) : undefined;
    const name = strAt(strings, r.uvar());
    const service = strAt(strings, r.uvar());
    const startUs = r.svar();
    const durUs = r.uvar();
    const span: Span = { traceId, spanId, name, service, kind, status, startMs: baseMs + startUs / 1000, endMs: baseMs + (startUs + durUs) / 1000 };
    if (parentSpanId !== undefined) span.parentSpanId = parentSpanId;
    if (flags & F_PID) span.pid = r.uvar();
    if (flags & F_TID) span.tid = r.uvar();
    if (flags & F_ATTRS) {
      const attrs: Record<string, string | number | boolean> = {};
      const na = r.count(2);
      for (let j = 0; j < na; j++) {
        const key = strAt(strings, r.uvar());
        const tag = r.u8();
        if (tag === 0) attrs[key] = strAt(strings, r.uvar());
        else if (tag === 1) attrs[key] = r.svar();
        else if (tag === 2) attrs[key] = r.f64();
        else if (tag === 3 || tag === 4) attrs[key] = tag === 3;
        else throw new DecodeError(`invalid attribute tag ${tag}`);
      }
      span.attributes = attrs;
    }
    spans.push(span);
  }
  if (r.remaining !== 0) throw new DecodeError('spans section length');
  return spans;
}
