// Reads OpenSLO v1 documents into SLO definitions: `kind: SLO` with an
// inline `indicator` or an `indicatorRef` to a `kind: SLI`, whose
// `ratioMetric` (good/total or bad/total) queries Prometheus; `kind:
// DataSource` (type Prometheus, connectionDetails.url) supplies the URL when
// the metric source names it with metricSourceRef. One SLO per objective.
// Queries may carry {{.window}} (as Sloth's do); a counter query without it
// is wrapped in increase() over the window. Reads no files, queries nothing.
import { parseDurationMs } from './duration.js';
import {
  DefinitionContext,
  defaultPrometheusTimeoutMs,
  defaultWindowMs,
  hasWindowPlaceholder,
  isPlainSelector,
  isRecord,
  type PrometheusSli,
  type SloDefinition,
} from './definition.js';

export interface OpenSloDocument {
  ctx: DefinitionContext;
  body: Record<string, unknown>;
}

type Path = Array<string | number>;

/** Names of SLI and DataSource documents, so that references resolve across documents and files. */
export interface OpenSloCatalog {
  slis: Map<string, OpenSloDocument>;
  dataSources: Map<string, OpenSloDocument>;
}

export function isOpenSlo(body: Record<string, unknown>): boolean {
  return typeof body.apiVersion === 'string' && body.apiVersion.startsWith('openslo/');
}

export function catalogOpenSlo(docs: OpenSloDocument[]): OpenSloCatalog {
  const catalog: OpenSloCatalog = { slis: new Map(), dataSources: new Map() };
  for (const d of docs) {
    const name = isRecord(d.body.metadata) ? d.body.metadata.name : undefined;
    if (typeof name !== 'string') continue;
    if (d.body.kind === 'SLI') catalog.slis.set(name, d);
    if (d.body.kind === 'DataSource') catalog.dataSources.set(name, d);
  }
  return catalog;
}

export function readOpenSlo(doc: OpenSloDocument, catalog: OpenSloCatalog): SloDefinition[] {
  const ctx: DefinitionContext = doc.ctx;
  const body = doc.body;
  if (body.kind !== 'SLO') return [];
  if (body.apiVersion !== 'openslo/v1') {
    ctx.fail(undefined, ['apiVersion'], 'apiVersion', `${JSON.stringify(body.apiVersion)} is not supported; use openslo/v1`);
  }
  const meta = body.metadata;
  const name = isRecord(meta) ? meta.name : undefined;
  if (typeof name !== 'string' || name === '') ctx.fail(undefined, ['metadata', 'name'], 'metadata.name', 'is required');
  const fail: (path: Path, field: string, problem: string) => never = (path, field, problem) => ctx.fail(name, path, field, problem);
  const spec = body.spec;
  if (!isRecord(spec)) fail(['spec'], 'spec', 'is required');

  const service = typeof spec.service === 'string' ? spec.service : '';

  let windowMs = defaultWindowMs;
  if (spec.timeWindow !== undefined) {
    const tw = Array.isArray(spec.timeWindow) ? spec.timeWindow[0] : undefined;
    const d = isRecord(tw) && typeof tw.duration === 'string' ? parseDurationMs(tw.duration) : undefined;
    if (d === undefined || d < 3_600_000) fail(['spec', 'timeWindow'], 'spec.timeWindow[0].duration', 'must be a duration-shorthand of at least 1h such as 28d or 1M');
    windowMs = d;
  }

  const sli = readIndicator(ctx, name, spec, catalog);

  const objectives = spec.objectives;
  if (!Array.isArray(objectives) || objectives.length === 0) fail(['spec', 'objectives'], 'spec.objectives', 'must list at least one objective with target or targetPercent');
  return objectives.map((o, i) => {
    const at: Path = ['spec', 'objectives', i];
    if (!isRecord(o)) fail(at, `spec.objectives[${i}]`, 'must be a mapping with target or targetPercent');
    let objective: number | undefined;
    if (typeof o.targetPercent === 'number') objective = o.targetPercent;
    else if (typeof o.target === 'number') objective = Math.round(o.target * 100 * 1e9) / 1e9; // 0.995 * 100 is 99.49999…
    if (objective === undefined || !(objective > 0 && objective < 100)) {
      fail(at, `spec.objectives[${i}].target`, 'must be target in (0, 1) or targetPercent in (0, 100)');
    }
    // Several objectives on one indicator become several SLOs, told apart by the objective's name.
    const label = typeof o.displayName === 'string' ? o.displayName : typeof o.name === 'string' ? o.name : String(i + 1);
    const sloName = objectives.length > 1 ? `${name}/${label}` : name;
    return { name: sloName, service, objective, windowMs, sli, file: ctx.file, line: ctx.lineOf(at) };
  });
}

function readIndicator(ctx: DefinitionContext, name: string, spec: Record<string, unknown>, catalog: OpenSloCatalog): PrometheusSli {
  const fail: (c: DefinitionContext, path: Path, field: string, problem: string) => never = (c, path, field, problem) => c.fail(name, path, field, problem);
  let sliCtx: DefinitionContext = ctx;
  let sliPath: Path = ['spec', 'indicator', 'spec'];
  let sliSpec: unknown;
  let prefix = 'spec.indicator.spec';
  if (spec.indicator !== undefined) {
    sliSpec = isRecord(spec.indicator) ? spec.indicator.spec : undefined;
  } else if (typeof spec.indicatorRef === 'string') {
    const ref = catalog.slis.get(spec.indicatorRef);
    if (!ref) fail(ctx, ['spec', 'indicatorRef'], 'spec.indicatorRef', `no kind: SLI named "${spec.indicatorRef}" is defined`);
    sliCtx = ref.ctx;
    sliSpec = ref.body.spec;
    sliPath = ['spec'];
    prefix = `SLI ${spec.indicatorRef}: spec`;
  } else {
    fail(ctx, ['spec'], 'spec.indicator', 'is required (or indicatorRef naming a kind: SLI)');
  }
  if (!isRecord(sliSpec)) fail(sliCtx, sliPath, prefix, 'must be a mapping with ratioMetric');
  if (sliSpec.thresholdMetric !== undefined && sliSpec.ratioMetric === undefined) {
    fail(sliCtx, [...sliPath, 'thresholdMetric'], `${prefix}.thresholdMetric`, 'is not supported; use ratioMetric (good/total or bad/total)');
  }
  const ratio = sliSpec.ratioMetric;
  const rPath: Path = [...sliPath, 'ratioMetric'];
  const rField = `${prefix}.ratioMetric`;
  if (!isRecord(ratio)) fail(sliCtx, rPath, rField, 'is required');
  if (ratio.raw !== undefined) fail(sliCtx, [...rPath, 'raw'], `${rField}.raw`, 'precomputed ratios are not supported; use good/total or bad/total');
  if ((ratio.good === undefined) === (ratio.bad === undefined)) fail(sliCtx, rPath, `${rField}.good`, 'give exactly one of good or bad, and total');
  if (ratio.total === undefined) fail(sliCtx, rPath, `${rField}.total`, 'is required');
  const counter = ratio.counter !== false;

  let url: string | undefined;
  let timeoutMs = defaultPrometheusTimeoutMs;
  const query = (key: 'good' | 'bad' | 'total'): string => {
    const path: Path = [...rPath, key, 'metricSource'];
    const field = `${rField}.${key}.metricSource`;
    const ms = (ratio[key] as Record<string, unknown> | undefined)?.metricSource;
    if (!isRecord(ms)) fail(sliCtx, path, field, 'is required');
    const msSpec = isRecord(ms.spec) ? ms.spec : {};
    let type = typeof ms.type === 'string' ? ms.type : undefined;
    if (typeof ms.metricSourceRef === 'string') {
      const ds = catalog.dataSources.get(ms.metricSourceRef);
      if (!ds) fail(sliCtx, [...path, 'metricSourceRef'], `${field}.metricSourceRef`, `no kind: DataSource named "${ms.metricSourceRef}" is defined`);
      const dsSpec = isRecord(ds.body.spec) ? ds.body.spec : {};
      type ??= typeof dsSpec.type === 'string' ? dsSpec.type : undefined;
      const conn = isRecord(dsSpec.connectionDetails) ? dsSpec.connectionDetails : {};
      url ??= firstString(conn.url, conn.address, conn.endpoint);
      const t = conn.timeout !== undefined ? parseDurationMs(conn.timeout as string) : undefined;
      if (t) timeoutMs = t;
    }
    if (type !== undefined && type.toLowerCase() !== 'prometheus') fail(sliCtx, [...path, 'type'], `${field}.type`, `only Prometheus metric sources are supported (got ${type})`);
    url = firstString(msSpec.url, msSpec.address) ?? url;
    const q = msSpec.query;
    if (typeof q !== 'string' || q.trim() === '') fail(sliCtx, [...path, 'spec', 'query'], `${field}.spec.query`, 'must be a PromQL query');
    return windowedQuery(q, counter);
  };
  const good = ratio.good !== undefined ? query('good') : undefined;
  const bad = ratio.bad !== undefined ? query('bad') : undefined;
  const total = query('total');
  if (url === undefined || !/^https?:\/\//.test(url)) {
    fail(sliCtx, [...rPath, 'total', 'metricSource'], `${rField}.total.metricSource`, 'no Prometheus URL: add metricSourceRef to a kind: DataSource with connectionDetails.url, or spec.url');
  }
  return { kind: 'prometheus', url: url.replace(/\/+$/, ''), good, bad, total, timeoutMs };
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && v !== '');
}

/**
 * OpenSLO queries name what to count, not over which range. A query with
 * {{.window}} already says; a counter gets increase() over the window; a
 * gauge (counter: false) is averaged over the window, which keeps the
 * good/total ratio of the window.
 */
export function windowedQuery(query: string, counter: boolean): string {
  const q = query.trim();
  if (hasWindowPlaceholder(q)) return q;
  if (counter) return isPlainSelector(q) ? `sum(increase(${q}[{{.window}}]))` : `sum(increase((${q})[{{.window}}:]))`;
  return isPlainSelector(q) ? `sum(avg_over_time(${q}[{{.window}}]))` : `sum(avg_over_time((${q})[{{.window}}:]))`;
}
