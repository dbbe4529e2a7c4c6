// The SLO definition every SLI source and the burn-rate engine work from,
// whichever YAML form it was written in (native or OpenSLO v1), and the
// helper that turns a bad field into one message naming the file, the line,
// the SLO and the field. Parsing the two forms lives in native-form.ts and
// openslo-form.ts; this module reads no files and queries nothing.
import { isMap, isScalar, type Document, type LineCounter } from 'yaml';
import { BadInputError } from '../errors.js';

export interface PrometheusSli {
  kind: 'prometheus';
  /** Base URL of the Prometheus HTTP API (without /api/v1). */
  url: string;
  /** Query of good events, or of bad events; exactly one is set. May hold {{.window}}. */
  good?: string;
  bad?: string;
  total: string;
  timeoutMs: number;
}

export interface SpansSli {
  kind: 'spans';
}

export interface SloDefinition {
  name: string;
  /** service.name of the spans (or the service the metric describes). */
  service: string;
  /** Percent of requests that must be good, 0 < objective < 100. */
  objective: number;
  /** Slower than this is bad; absent for availability SLOs (error status is bad). */
  latencyMs?: number;
  /** The SLO's rolling window (its error-budget period). */
  windowMs: number;
  sli: PrometheusSli | SpansSli;
  /** Where it was defined, for messages. */
  file: string;
  line?: number;
}

export const defaultWindowMs = 30 * 86_400_000;
export const defaultPrometheusTimeoutMs = 10_000;

/** One YAML document being read, able to point at a field when it is wrong. */
export class DefinitionContext {
  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly lineCounter: LineCounter,
  ) {}

  /** Line of a field: its key when it is a mapping entry (values may start on the next line), else its node. */
  lineOf(path: Array<string | number>): number | undefined {
    for (let p = path; p.length > 0; p = p.slice(0, -1)) {
      const parent = this.doc.getIn(p.slice(0, -1), true);
      const last = p[p.length - 1];
      if (isMap(parent)) {
        const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === last);
        const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
        if (range) return this.lineCounter.linePos(range[0]).line;
      }
      const node = this.doc.getIn(p, true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return this.lineCounter.linePos(node.range[0]).line;
    }
    const root = this.doc.contents as { range?: [number, number, number] } | null;
    return root?.range ? this.lineCounter.linePos(root.range[0]).line : undefined;
  }

  /** Throws the one-line message: "file:line: SLO "name": field: problem". */
  fail(sloName: string | undefined, path: Array<string | number>, field: string, problem: string): never {
    const line = this.lineOf(path);
    const where = line ? `${this.file}:${line}` : this.file;
    const slo = sloName ? `SLO "${sloName}": ` : '';
    throw new BadInputError(where, `${slo}${field}: ${problem}`, 'see `man profctl` (SLOs) for the native and OpenSLO forms');
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Does a query contain Sloth's window placeholder, {{.window}} (spaces allowed)? */
export function hasWindowPlaceholder(query: string): boolean {
  return /\{\{\s*\.window\s*\}\}/.test(query);
}

/** Replace every {{.window}} with a Prometheus duration, as Sloth does per alert window. */
export function fillWindow(query: string, window: string): string {
  return query.replace(/\{\{\s*\.window\s*\}\}/g, window);
}

/** A plain counter selector such as http_requests_total{code!~"5.."}. */
export function isPlainSelector(query: string): boolean {
  return /^\s*[a-zA-Z_:][a-zA-Z0-9_:]*\s*(\{[^{}]*\})?\s*$/.test(query);
}
