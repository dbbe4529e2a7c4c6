// Span sources that live in a trace backend: Jaeger's query API v3
// (`jaeger+http://host:16686`) and Grafana Tempo's HTTP API
// (`tempo+http://host:3200`), fetched through undici. Both answer in OTLP
// JSON (Tempo's /api/traces/<id> wraps it as "batches", older versions and
// newer ones as "resourceSpans"; ids may be hex or base64), so the one
// OTLP/JSON mapping turns their answers into spans. Failures become
// UserErrors with the remote exit code and a hint; nothing here retries
// forever.
import { request } from 'undici';
import { UserError, ExitCode } from '../errors.js';
import type { Span, SpanSource } from './model.js';
import { spansOfTracesData } from './otlp-json.js';
import { pushAll } from '../arrays.js';

const TIMEOUT_MS = 15_000;

async function getJson(url: URL, what: string): Promise<unknown> {
  let res;
  try {
    res = await request(url, { method: 'GET', headers: { accept: 'application/json' }, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
  } catch (e) {
    throw new UserError(`${what}: cannot reach ${url.origin} (${(e as Error).message})`, 'check the address given to --spans and that the server is up', ExitCode.remote);
  }
  const text = await res.body.text();
  if (res.statusCode === 404) return undefined;
  if (res.statusCode >= 400) {
    throw new UserError(`${what}: ${url.origin} answered ${res.statusCode}: ${text.slice(0, 200).trim()}`, undefined, ExitCode.remote);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UserError(`${what}: ${url.origin} answered with something that is not JSON`, 'is --spans pointing at the query API of the backend?', ExitCode.remote);
  }
}

/** Spans of OTLP JSON in any of the wrappings the backends use. */
export function spansOfBackendJson(body: unknown): Span[] {
  if (body === undefined || body === null) return [];
  const b = body as Record<string, unknown>;
  const counts = { badSpans: 0 };
  // Jaeger v3: {"result": {"resourceSpans": [...]}}; Tempo v2: {"trace": {...}}
  if (b.result !== undefined) return spansOfBackendJson(b.result);
  if (b.trace !== undefined) return spansOfBackendJson(b.trace);
  if (Array.isArray(b.batches)) return spansOfTracesData({ resourceSpans: b.batches }, counts);
  if (Array.isArray(b.resourceSpans)) return spansOfTracesData(b, counts);
  if (Array.isArray(body)) return (body as unknown[]).flatMap(spansOfBackendJson);
  return [];
}

function overlapping(spans: Span[], fromMs: number, toMs: number, services?: string[]): Span[] {
  const set = services && services.length ? new Set(services) : undefined;
  return spans.filter((s) => s.endMs >= fromMs && s.startMs <= toMs && (!set || set.has(s.service)));
}

export class JaegerSpanSource implements SpanSource {
  readonly description: string;
  constructor(
    private readonly base: URL,
    private readonly limit = 200,
  ) {
    this.description = `Jaeger at ${base.origin}`;
  }

  async trace(traceId: string): Promise<Span[]> {
    const url = new URL(`/api/v3/traces/${traceId}`, this.base);
    return spansOfBackendJson(await getJson(url, 'Jaeger'));
  }

  private async services(): Promise<string[]> {
    const body = (await getJson(new URL('/api/v3/services', this.base), 'Jaeger')) as { services?: string[] } | undefined;
    return body?.services ?? [];
  }

  async spansInRange(fromMs: number, toMs: number, opts: { services?: string[] } = {}): Promise<Span[]> {
    const services = opts.services?.length ? opts.services : await this.services();
    const out: Span[] = [];
    for (const service of services) {
      const url = new URL('/api/v3/traces', this.base);
      url.searchParams.set('query.service_name', service);
      url.searchParams.set('query.start_time_min', new Date(fromMs).toISOString());
      url.searchParams.set('query.start_time_max', new Date(toMs).toISOString());
      url.searchParams.set('query.num_traces', String(this.limit));
      pushAll(out, spansOfBackendJson(await getJson(url, 'Jaeger')));
    }
    return overlapping(out, fromMs, toMs, opts.services);
  }
}

export class TempoSpanSource implements SpanSource {
  readonly description: string;
  constructor(
    private readonly base: URL,
    private readonly limit = 200,
  ) {
    this.description = `Tempo at ${base.origin}`;
  }

  async trace(traceId: string): Promise<Span[]> {
    return spansOfBackendJson(await getJson(new URL(`/api/traces/${traceId}`, this.base), 'Tempo'));
  }

  async spansInRange(fromMs: number, toMs: number, opts: { services?: string[] } = {}): Promise<Span[]> {
    const url = new URL('/api/search', this.base);
    url.searchParams.set('start', String(Math.floor(fromMs / 1000)));
    url.searchParams.set('end', String(Math.ceil(toMs / 1000)));
    url.searchParams.set('limit', String(this.limit));
    if (opts.services?.length === 1) url.searchParams.set('tags', `service.name=${opts.services[0]}`);
    const body = (await getJson(url, 'Tempo')) as { traces?: Array<{ traceID?: string }> } | undefined;
    const out: Span[] = [];
    for (const t of body?.traces ?? []) {
      if (typeof t.traceID !== 'string') continue;
      // Tempo search returns ids without leading zeros.
      pushAll(out, await this.trace(t.traceID.padStart(32, '0')));
    }
    return overlapping(out, fromMs, toMs, opts.services);
  }
}

/** jaeger+http://host:16686 or tempo+https://host:3200 → a source; undefined for other strings. */
export function remoteSpanSource(spec: string): SpanSource | undefined {
  const m = /^(jaeger|tempo)\+(https?:\/\/.+)$/.exec(spec);
  if (!m) return undefined;
  let url: URL;
  try {
    url = new URL(m[2]!);
  } catch {
    throw new UserError(`--spans: '${spec}' is not a valid URL`, 'use jaeger+http://host:16686 or tempo+http://host:3200');
  }
  return m[1] === 'jaeger' ? new JaegerSpanSource(url) : new TempoSpanSource(url);
}
