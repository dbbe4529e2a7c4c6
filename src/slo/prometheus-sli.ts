// The Prometheus SLI: good (or bad) and total queries run per window through
// the HTTP API — /api/v1/query for the current values, /api/v1/query_range
// for the history that "burning since" steps back through — with {{.window}}
// replaced by the window (5m, 1h, 30d…) as Sloth does. Every failure (refused
// connection, timeout, a query Prometheus rejects) becomes one Error whose
// message says what failed; the evaluator turns it into that SLO's error.
import { request } from 'undici';
import type { EventCounts } from './burn-rate.js';
import { fillWindow, type PrometheusSli } from './definition.js';
import { formatDuration } from './duration.js';
import type { SliMeasure } from './evaluate.js';

interface PromResponse {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: {
    resultType: 'vector' | 'matrix' | 'scalar' | 'string';
    result: unknown;
  };
}

type QueryRole = 'good' | 'bad' | 'total';

function describeFailure(e: unknown, url: string, timeoutMs: number): string {
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err.code ?? err.cause?.code;
  if (err.name === 'TimeoutError' || err.name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `Prometheus at ${url} did not answer within ${formatDuration(timeoutMs)}`;
  }
  if (code === 'ECONNREFUSED') return `Prometheus at ${url}: connection refused (is it running?)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `Prometheus at ${url}: host not found`;
  return `Prometheus at ${url}: ${err.message ?? String(e)}`;
}

async function callPrometheus(sli: PrometheusSli, path: string, params: Record<string, string>, role: QueryRole): Promise<PromResponse['data']> {
  const url = `${sli.url}${path}`;
  let status: number;
  let text: string;
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(sli.timeoutMs),
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (e) {
    throw new Error(describeFailure(e, sli.url, sli.timeoutMs));
  }
  let body: PromResponse | undefined;
  try {
    body = JSON.parse(text) as PromResponse;
  } catch {
    body = undefined;
  }
  if (body?.status === 'error') throw new Error(`Prometheus rejected the ${role} query: ${body.errorType ?? 'error'}: ${body.error ?? 'no detail'}`);
  if (!body || status !== 200 || body.status !== 'success' || !body.data) {
    throw new Error(`Prometheus at ${sli.url}: unexpected answer to ${path} (HTTP ${status}${body ? '' : ', not JSON'})`);
  }
  return body.data;
}

function numberOf(v: unknown): number {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

/** The sum of an instant query's result (several series add up; none is 0). */
function instantValue(data: NonNullable<PromResponse['data']>): number {
  if (data.resultType === 'scalar') return numberOf((data.result as [number, string])[1]);
  if (data.resultType === 'vector') {
    return (data.result as Array<{ value: [number, string] }>).reduce((sum, s) => sum + numberOf(s.value[1]), 0);
  }
  throw new Error(`Prometheus returned a ${data.resultType}, expected a vector or scalar`);
}

/** A range query's result summed over series, by timestamp in ms. */
function rangeValues(data: NonNullable<PromResponse['data']>): Map<number, number> {
  const out = new Map<number, number>();
  if (data.resultType !== 'matrix') throw new Error(`Prometheus returned a ${data.resultType} for a range query, expected a matrix`);
  for (const series of data.result as Array<{ values: Array<[number, string]> }>) {
    for (const [ts, v] of series.values) {
      const ms = Math.round(ts * 1000);
      out.set(ms, (out.get(ms) ?? 0) + numberOf(v));
    }
  }
  return out;
}

function countsFrom(sli: PrometheusSli, numerator: number, total: number): EventCounts {
  const bad = sli.good !== undefined ? total - numerator : numerator;
  return { total, bad: Math.min(total, Math.max(0, bad)) };
}

export function prometheusMeasure(sli: PrometheusSli): SliMeasure {
  const numeratorRole: QueryRole = sli.good !== undefined ? 'good' : 'bad';
  const numeratorQuery = (sli.good ?? sli.bad)!;
  return {
    async countsAt(windowsMs, atMs) {
      const time = String(atMs / 1000);
      return Promise.all(
        windowsMs.map(async (w) => {
          const window = formatDuration(w);
          const [num, total] = await Promise.all([
            callPrometheus(sli, '/api/v1/query', { query: fillWindow(numeratorQuery, window), time }, numeratorRole),
            callPrometheus(sli, '/api/v1/query', { query: fillWindow(sli.total, window), time }, 'total'),
          ]);
          return countsFrom(sli, instantValue(num!), instantValue(total!));
        }),
      );
    },
    async history(windowsMs, fromMs, toMs, stepMs) {
      const params = { start: String(fromMs / 1000), end: String(toMs / 1000), step: String(stepMs / 1000) };
      const perWindow = await Promise.all(
        windowsMs.map(async (w) => {
          const window = formatDuration(w);
          const [num, total] = await Promise.all([
            callPrometheus(sli, '/api/v1/query_range', { ...params, query: fillWindow(numeratorQuery, window) }, numeratorRole),
            callPrometheus(sli, '/api/v1/query_range', { ...params, query: fillWindow(sli.total, window) }, 'total'),
          ]);
          return { num: rangeValues(num!), total: rangeValues(total!) };
        }),
      );
      const times: number[] = [];
      const counts: EventCounts[][] = [];
      for (let t = fromMs; t <= toMs; t += stepMs) {
        times.push(t);
        // A missing point means no series had data then: no traffic.
        counts.push(perWindow.map((p) => countsFrom(sli, p.num.get(t) ?? 0, p.total.get(t) ?? 0)));
      }
      return { times, counts };
    },
  };
}
