// Finds and reads the SLO definitions file: --config FILE, else
// ./profctl.yaml, else $XDG_CONFIG_HOME/profctl/config.yaml (~/.config when
// XDG_CONFIG_HOME is unset). A file holds one or more YAML documents, each
// either profctl's native form (`slos:`) or an OpenSLO v1 object. Invalid
// definitions stop here with one message naming the file, SLO and field.
// Knows nothing of SLI sources or burn rates.
import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { BadInputError, UserError } from '../errors.js';
import { DefinitionContext, isRecord, type SloDefinition } from './definition.js';
import { readNativeSlos } from './native-form.js';
import { catalogOpenSlo, isOpenSlo, readOpenSlo, type OpenSloDocument } from './openslo-form.js';

export interface ConfigLookup {
  config?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

/** Where definitions are looked for, in order (the first that exists wins). */
export function configCandidates(lookup: ConfigLookup = {}): string[] {
  const env = lookup.env ?? process.env;
  const cwd = lookup.cwd ?? process.cwd();
  const xdg = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(lookup.home ?? homedir(), '.config');
  return [join(cwd, 'profctl.yaml'), join(xdg, 'profctl', 'config.yaml')];
}

export function findConfigFile(lookup: ConfigLookup = {}): string {
  if (lookup.config !== undefined) {
    const path = resolve(lookup.cwd ?? process.cwd(), lookup.config);
    if (!existsSync(path)) throw new UserError(`SLO definitions file not found: ${lookup.config}`, 'check the path given to --config');
    return lookup.config;
  }
  const candidates = configCandidates(lookup);
  const found = candidates.find((p) => existsSync(p));
  if (found) return found;
  throw new UserError(
    `no SLO definitions found (looked at ${candidates.join(', ')})`,
    'write one, e.g. profctl.yaml with:  slos: [{name: checkout-latency, service: checkout, objective: 99, latency: 300ms, window: 30d}]  or pass --config FILE',
  );
}

export function readSloDefinitions(file: string): SloDefinition[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new BadInputError(file, `cannot read: ${(e as Error).message}`);
  }
  return parseSloDefinitions(file, text);
}

/** Every SLO in a (multi-document) YAML text; throws BadInputError on the first invalid one. */
export function parseSloDefinitions(file: string, text: string): SloDefinition[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter });
  if (!Array.isArray(docs)) throw new BadInputError(file, 'not a YAML document');
  const native: Array<{ ctx: DefinitionContext; slos: unknown }> = [];
  const openslo: OpenSloDocument[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const line = err.linePos?.[0]?.line;
      throw new BadInputError(line ? `${file}:${line}` : file, `invalid YAML: ${err.message.split('\n')[0]}`);
    }
    const ctx: DefinitionContext = new DefinitionContext(file, doc, lineCounter);
    const body = doc.toJS() as unknown;
    if (body === null || body === undefined) continue;
    if (!isRecord(body)) ctx.fail(undefined, [], 'document', 'must be a mapping (slos: [...] or an OpenSLO object)');
    if (isOpenSlo(body)) openslo.push({ ctx, body });
    else if ('slos' in body) native.push({ ctx, slos: body.slos });
    // Other documents (settings of other commands) are not ours to judge.
  }
  const catalog = catalogOpenSlo(openslo);
  const slos: SloDefinition[] = [];
  for (const n of native) slos.push(...readNativeSlos(n.ctx, n.slos));
  for (const d of openslo) slos.push(...readOpenSlo(d, catalog));
  if (slos.length === 0) throw new BadInputError(file, 'defines no SLOs', 'add a `slos:` list or an OpenSLO `kind: SLO` document');
  const seen = new Map<string, SloDefinition>();
  for (const s of slos) {
    const first = seen.get(s.name);
    if (first) throw new BadInputError(`${file}:${s.line ?? '?'}`, `SLO "${s.name}": name: defined twice (first at line ${first.line ?? '?'})`);
    seen.set(s.name, s);
  }
  return slos;
}
