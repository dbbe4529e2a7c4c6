// Parses OTLP/JSON trace data into the span model: TracesData or
// ExportTraceServiceRequest objects (both are {"resourceSpans": [...]}), one
// per line as the OpenTelemetry Collector's file exporter writes them, or a
// single (possibly pretty-printed) object. Ids may be hex (as the OTLP/JSON
// spec says) or base64 (as protobuf-JSON mappers write bytes); int64 times
// may be strings or numbers; enums may be numbers or names. Lines that are
// not OTLP are counted and reported, not fatal — unless nothing parses.
// Pure: takes text, returns spans; reads no files.
import { BadInputError } from '../errors.js';
import type { Span, SpanKind, SpanStatus } from './model.js';
import { spanFromFields } from './span-fields.js';
import { pushAll } from '../arrays.js';

export interface OtlpParseResult {
  spans: Span[];
  /** Lines (or the whole text) that were not OTLP trace JSON. */
  badLines: number;
  /** Spans dropped for missing or malformed ids or times. */
  badSpans: number;
  /** One-line notes for stderr, e.g. "ignored 3 lines that are not OTLP JSON (first: line 7: …)". */
  warnings: string[];
}

const kindByNumber: SpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

function spanKind(v: unknown): SpanKind {
  if (typeof v === 'number') return kindByNumber[v] ?? 'unspecified';
  if (typeof v === 'string') {
    const name = v.replace(/^SPAN_KIND_/, '').toLowerCase();
    if ((kindByNumber as string[]).includes(name)) return name as SpanKind;
    const n = Number(v);
    if (Number.isInteger(n)) return kindByNumber[n] ?? 'unspecified';
  }
  return 'unspecified';
}

function spanStatus(v: unknown): SpanStatus {
  const code = (v as { code?: unknown } | undefined)?.code;
  if (code === 2 || code === 'STATUS_CODE_ERROR' || code === '2') return 'error';
  if (code === 1 || code === 'STATUS_CODE_OK' || code === '1') return 'ok';
  return 'unset';
}

/**
 * An id as lower-case hex of `bytes` bytes, from hex or base64; undefined
 * when it is neither, or all zeros (which OTLP uses for "no id").
 */
export function normalizeId(v: unknown, bytes: number): string | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  let hex: string | undefined;
  if (v.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(v)) hex = v.toLowerCase();
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(v)) {
    const buf = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (buf.length === bytes) hex = buf.toString('hex');
  }
  if (hex === undefined || /^0+$/.test(hex)) return undefined;
  return hex;
}

/** Nanoseconds (string or number) → ms since the epoch, keeping µs. */
function nanosToMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? v / 1e6 : undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v)) return undefined;
  const micros = BigInt(v) / 1000n;
  return Number(micros) / 1000;
}

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number | string;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: string;
};
type KeyValue = { key?: string; value?: AnyValue };

function attributeValue(v: AnyValue | undefined): string | number | boolean | undefined {
  if (!v || typeof v !== 'object') return undefined;
  if (v.stringValue !== undefined) return String(v.stringValue);
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.boolValue !== undefined) return Boolean(v.boolValue);
  if (v.bytesValue !== undefined) return String(v.bytesValue);
  if (v.arrayValue !== undefined) return JSON.stringify((v.arrayValue.values ?? []).map(attributeValue));
  if (v.kvlistValue !== undefined) return JSON.stringify(Object.fromEntries((v.kvlistValue.values ?? []).map((kv) => [kv.key, attributeValue(kv.value)])));
  return undefined;
}

function attributes(list: unknown): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list as KeyValue[]) {
    if (!kv || typeof kv.key !== 'string') continue;
    const value = attributeValue(kv.value);
    if (value !== undefined) out[kv.key] = value;
  }
  return out;
}

/** Spans of one TracesData / ExportTraceServiceRequest object; throws when it is not one. */
export function spansOfTracesData(obj: unknown, counts: { badSpans: number }): Span[] {
  const resourceSpans = (obj as { resourceSpans?: unknown } | null)?.resourceSpans;
  if (!Array.isArray(resourceSpans)) throw new Error('no "resourceSpans" array');
  const out: Span[] = [];
  for (const rs of resourceSpans as Array<Record<string, unknown>>) {
    const resAttrs = attributes((rs?.resource as { attributes?: unknown } | undefined)?.attributes);
    // instrumentationLibrarySpans is the pre-1.0 name of scopeSpans.
    const scopes = (rs?.scopeSpans ?? rs?.instrumentationLibrarySpans) as Array<{ spans?: unknown }> | undefined;
    for (const scope of Array.isArray(scopes) ? scopes : []) {
      for (const raw of Array.isArray(scope?.spans) ? (scope.spans as Array<Record<string, unknown>>) : []) {
        const span = spanFromFields({
          traceId: normalizeId(raw?.traceId, 16),
          spanId: normalizeId(raw?.spanId, 8),
          parentSpanId: normalizeId(raw?.parentSpanId, 8),
          name: typeof raw?.name === 'string' ? raw.name : '',
          kind: spanKind(raw?.kind),
          startMs: nanosToMs(raw?.startTimeUnixNano),
          endMs: nanosToMs(raw?.endTimeUnixNano),
          status: spanStatus(raw?.status),
          attributes: attributes(raw?.attributes),
          resource: resAttrs,
        });
        if (!span) {
          counts.badSpans++;
          continue;
        }
        out.push(span);
      }
    }
  }
  return out;
}

/**
 * Parses a whole OTLP JSON text. `source` names it in messages. Throws
 * BadInputError only when there was something to parse and none of it was
 * OTLP trace JSON.
 */
export function parseOtlpJson(text: string, source: string): OtlpParseResult {
  const counts = { badSpans: 0 };
  const warnings: string[] = [];
  const trimmed = text.trim();
  if (trimmed === '') return { spans: [], badLines: 0, badSpans: 0, warnings: [`${source}: empty, no spans`] };

  // A single object (or an array of them), possibly spread over many lines.
  let whole: unknown;
  try {
    whole = JSON.parse(trimmed);
  } catch {
    whole = undefined;
  }
  if (whole !== undefined) {
    const objs = Array.isArray(whole) ? whole : [whole];
    const spans: Span[] = [];
    let bad = 0;
    let firstProblem = '';
    for (const o of objs) {
      try {
        pushAll(spans, spansOfTracesData(o, counts));
      } catch (e) {
        bad++;
        firstProblem ||= (e as Error).message;
      }
    }
    if (bad === objs.length) throw new BadInputError(source, `not OTLP trace JSON: ${firstProblem}`, 'expected TracesData / ExportTraceServiceRequest JSON, one object per line as the Collector file exporter writes');
    if (bad > 0) warnings.push(`${source}: ignored ${bad} objects that are not OTLP trace JSON (${firstProblem})`);
    if (counts.badSpans > 0) warnings.push(`${source}: skipped ${counts.badSpans} spans without valid ids or times`);
    return { spans, badLines: bad, badSpans: counts.badSpans, warnings };
  }

  const spans: Span[] = [];
  let badLines = 0;
  let goodLines = 0;
  let firstBad = '';
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      pushAll(spans, spansOfTracesData(JSON.parse(line), counts));
      goodLines++;
    } catch (e) {
      badLines++;
      if (!firstBad) firstBad = `line ${i + 1}: ${(e as Error).message.slice(0, 80)}`;
    }
  });
  if (goodLines === 0) throw new BadInputError(source, `not OTLP trace JSON (${firstBad})`, 'expected TracesData / ExportTraceServiceRequest JSON, one object per line as the Collector file exporter writes');
  if (badLines > 0) warnings.push(`${source}: ignored ${badLines} lines that are not OTLP trace JSON (first: ${firstBad})`);
  if (counts.badSpans > 0) warnings.push(`${source}: skipped ${counts.badSpans} spans without valid ids or times`);
  return { spans, badLines, badSpans: counts.badSpans, warnings };
}

/**
 * Decodes one OTLP/HTTP JSON request body (for the receiver): throws when it
 * is not JSON or not an ExportTraceServiceRequest; spans without valid ids or
 * times are counted as rejected. An empty request ({}) carries no spans.
 */
export function decodeOtlpJsonText(text: string): { spans: Span[]; rejected: number } {
  const obj = JSON.parse(text) as unknown;
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('not a JSON object');
  if ((obj as { resourceSpans?: unknown }).resourceSpans === undefined) return { spans: [], rejected: 0 };
  const counts = { badSpans: 0 };
  const spans = spansOfTracesData(obj, counts);
  return { spans, rejected: counts.badSpans };
}
