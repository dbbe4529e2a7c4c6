// Reads profctl's own SLO form: a document with `slos:`, a list of
//   { name, service, objective, latency?, window?, prometheus?: {url, good|bad, total, timeout?} }
// An SLO without `prometheus` is measured on local spans. Validation is strict
// (unknown fields are refused) so that a typo cannot silently turn a latency
// SLO into an availability one. Reads no files, queries nothing.
import { parseDurationMs } from './duration.js';
import {
  DefinitionContext,
  defaultPrometheusTimeoutMs,
  defaultWindowMs,
  hasWindowPlaceholder,
  isRecord,
  type PrometheusSli,
  type SloDefinition,
} from './definition.js';

const sloFields = new Set(['name', 'service', 'objective', 'latency', 'window', 'prometheus', 'description', 'displayName']);
const prometheusFields = new Set(['url', 'good', 'bad', 'total', 'timeout']);

export function readNativeSlos(ctx: DefinitionContext, slos: unknown): SloDefinition[] {
  if (!Array.isArray(slos)) ctx.fail(undefined, ['slos'], 'slos', 'must be a list of SLOs');
  return slos.map((entry, i) => readNativeSlo(ctx, entry, i));
}

function readNativeSlo(ctx: DefinitionContext, entry: unknown, index: number): SloDefinition {
  const at = (...rest: Array<string | number>) => ['slos', index, ...rest];
  if (!isRecord(entry)) ctx.fail(undefined, at(), `slos[${index}]`, 'must be a mapping with name, service, objective');
  const name = entry.name;
  if (typeof name !== 'string' || name.trim() === '') ctx.fail(undefined, at('name'), `slos[${index}].name`, 'is required (a non-empty string)');
  const fail: FailAt = (path, field, problem) => ctx.fail(name, at(...path), field, problem);

  for (const key of Object.keys(entry)) {
    if (!sloFields.has(key)) fail([key], key, `unknown field (expected one of: ${[...sloFields].join(', ')})`);
  }
  const service = entry.service;
  if (typeof service !== 'string' || service === '') fail(['service'], 'service', 'is required (the service.name of the spans)');

  const objective = entry.objective;
  if (typeof objective !== 'number' || !(objective > 0 && objective < 100)) {
    fail(['objective'], 'objective', `must be a percentage above 0 and below 100, e.g. 99.9 (got ${JSON.stringify(objective)})`);
  }

  let latencyMs: number | undefined;
  if (entry.latency !== undefined && entry.latency !== null) {
    const raw = entry.latency as string | number;
    latencyMs = typeof raw === 'number' ? raw : parseDurationMs(String(raw));
    if (latencyMs === undefined || !(latencyMs > 0)) fail(['latency'], 'latency', `must be a duration such as 300ms or 1.5s (got ${JSON.stringify(raw)})`);
  }

  let windowMs = defaultWindowMs;
  if (entry.window !== undefined) {
    const w = typeof entry.window === 'string' ? parseDurationMs(entry.window) : undefined;
    if (w === undefined || w < 3_600_000) fail(['window'], 'window', `must be a duration of at least 1h such as 30d (got ${JSON.stringify(entry.window)})`);
    windowMs = w;
  }

  let sli: SloDefinition['sli'] = { kind: 'spans' };
  if (entry.prometheus !== undefined) sli = readPrometheus(entry.prometheus, fail);

  return { name, service, objective, latencyMs, windowMs, sli, file: ctx.file, line: ctx.lineOf(at()) };
}

type FailAt = (path: Array<string | number>, field: string, problem: string) => never;

function readPrometheus(p: unknown, fail: FailAt): PrometheusSli {
  if (!isRecord(p)) fail(['prometheus'], 'prometheus', 'must be a mapping with url, good (or bad) and total');
  for (const key of Object.keys(p)) {
    if (!prometheusFields.has(key)) fail(['prometheus', key], `prometheus.${key}`, `unknown field (expected one of: ${[...prometheusFields].join(', ')})`);
  }
  const url = p.url;
  if (typeof url !== 'string' || !/^https?:\/\/[^/]+/.test(url)) fail(['prometheus', 'url'], 'prometheus.url', `must be an http(s) URL such as http://127.0.0.1:9090 (got ${JSON.stringify(url)})`);
  if ((p.good === undefined) === (p.bad === undefined)) fail(['prometheus'], 'prometheus.good', 'give exactly one of good or bad, and total');
  const query = (key: 'good' | 'bad' | 'total'): string => {
    const q = p[key];
    if (typeof q !== 'string' || q.trim() === '') fail(['prometheus', key], `prometheus.${key}`, 'must be a PromQL query');
    if (!hasWindowPlaceholder(q)) fail(['prometheus', key], `prometheus.${key}`, 'must contain {{.window}} where the range goes, e.g. sum(rate(http_requests_total[{{.window}}]))');
    return q;
  };
  let timeoutMs = defaultPrometheusTimeoutMs;
  if (p.timeout !== undefined) {
    const t = parseDurationMs(p.timeout as string | number);
    if (t === undefined || t <= 0) fail(['prometheus', 'timeout'], 'prometheus.timeout', `must be a duration such as 10s (got ${JSON.stringify(p.timeout)})`);
    timeoutMs = t;
  }
  return {
    kind: 'prometheus',
    url: url.replace(/\/+$/, ''),
    good: p.good !== undefined ? query('good') : undefined,
    bad: p.bad !== undefined ? query('bad') : undefined,
    total: query('total'),
    timeoutMs,
  };
}
