// The span model shared by every span source (OTLP receiver, OTLP files,
// Jaeger, Tempo), the store, the sample↔span join and the SLO engine.
// Ids are normalised to lower-case hex whatever the source spelled them as.

export type SpanKind = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';
export type SpanStatus = 'unset' | 'ok' | 'error';

export interface Span {
  /** 32 lower-case hex digits. */
  traceId: string;
  /** 16 lower-case hex digits. */
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** Resource attribute service.name ('' when absent). */
  service: string;
  kind: SpanKind;
  /** Start and end, ms since the epoch (fractional: µs kept). */
  startMs: number;
  endMs: number;
  status: SpanStatus;
  /** Resource attribute process.pid. */
  pid?: number;
  /** Span attribute thread.id. */
  tid?: number;
  attributes?: Record<string, string | number | boolean>;
}

/** A source of spans: the store, a file, or a remote trace backend. */
export interface SpanSource {
  readonly description: string;
  /** Spans that overlap [fromMs, toMs]; optionally of some services. */
  spansInRange(fromMs: number, toMs: number, opts?: { services?: string[] }): Promise<Span[]>;
  /** Every span of one trace (empty when unknown). */
  trace(traceId: string): Promise<Span[]>;
}
