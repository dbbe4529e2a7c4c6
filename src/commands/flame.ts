// profctl flame — the flame graph of a selection: a text icicle (root on
// top) as wide as the terminal or --width, one self-contained SVG or HTML
// file, the call tree as JSON, or (folded, pprof, speedscope) the profile
// itself through export. With --baseline it draws a differential graph.
// This file only turns options into calls: reading and filtering are
// selectProfile's, the tree is src/query/call-tree.ts, drawing is src/render/.
import { UserError } from '../errors.js';
import type { Profile } from '../profile/model.js';
import { buildCallTree, buildDiffTree, type CallTree } from '../query/call-tree.js';
import { Chalk } from 'chalk';
import { colorLevel, colors } from '../render/color.js';
import { optionList, selectProfile, type SelectedProfile } from './select-profile.js';
import { openOutput } from './write-output.js';

export type FlameFormat = 'text' | 'svg' | 'html' | 'json' | 'folded' | 'pprof' | 'speedscope';

export interface FlameOptions {
  format: FlameFormat;
  output?: string;
  /** Columns for text, pixels for SVG; undefined: the terminal's width, or 1200 px. */
  width?: number;
  differential: boolean;
  inverted: boolean;
  title?: string;
}

const exportFormats = new Set<FlameFormat>(['folded', 'pprof', 'speedscope']);
const formats: FlameFormat[] = ['text', 'svg', 'html', 'json', 'folded', 'pprof', 'speedscope'];

export function parseFlameOptions(options: Record<string, unknown>): FlameOptions {
  const format = (typeof options.format === 'string' ? options.format : 'text') as FlameFormat;
  if (!formats.includes(format)) throw new UserError(`unknown flame format ${format}`, `use one of ${formats.join(', ')}`);
  let width: number | undefined;
  if (options.width !== undefined) {
    width = Number(options.width);
    if (!Number.isInteger(width) || width < 1 || width > 100_000) {
      throw new UserError(`--width ${String(options.width)}: not a width`, 'give a whole number of columns (text) or pixels (svg), e.g. --width 160');
    }
  }
  const differential = optionList(options.baseline).length > 0;
  const inverted = options.inverted === true;
  if (exportFormats.has(format) && (differential || inverted)) {
    throw new UserError(`--format ${format} writes the profile itself; ${differential ? '--baseline' : '--inverted'} applies to graphs only`, 'use --format text, svg, html or json for a differential or inverted graph');
  }
  return {
    format,
    ...(typeof options.output === 'string' ? { output: options.output } : {}),
    ...(width !== undefined ? { width } : {}),
    differential,
    inverted,
    ...(typeof options.title === 'string' ? { title: options.title } : {}),
  };
}

function typeName(p: Profile, i: number): string {
  const t = p.sampleTypes[i]!;
  return `${t.type}/${t.unit}`;
}

/**
 * Both sides of a differential graph are read in one sample type. When none
 * was named and the defaults differ (a folded baseline has only samples), a
 * type both profiles have is used for both, and a note says which.
 */
function alignSampleTypes(cur: SelectedProfile, base: SelectedProfile, explicit: boolean): [SelectedProfile, SelectedProfile] {
  const want = typeName(cur.profile, cur.typeIndex);
  const same = base.profile.sampleTypes.findIndex((_, i) => typeName(base.profile, i) === want);
  if (same >= 0) return [cur, { ...base, typeIndex: same }];
  const common = [...cur.profile.sampleTypes.keys()].reverse().find((i) => base.profile.sampleTypes.some((_, j) => typeName(base.profile, j) === typeName(cur.profile, i)));
  const have = base.profile.sampleTypes.map((_, j) => typeName(base.profile, j)).join(', ');
  if (explicit || common === undefined) {
    throw new UserError(`the baseline has no ${want} samples (it has ${have})`, 'compare profiles of the same kind, or pick a sample type both have with --sample-type');
  }
  const name = typeName(cur.profile, common);
  process.stderr.write(`profctl: note: comparing ${name}: the baseline has no ${want}\n`);
  return [
    { ...cur, typeIndex: common },
    { ...base, typeIndex: base.profile.sampleTypes.findIndex((_, j) => typeName(base.profile, j) === name) },
  ];
}

async function buildTree(options: Record<string, unknown>, opts: FlameOptions): Promise<CallTree> {
  let current = await selectProfile(options);
  if (!opts.differential) return buildCallTree(current, { inverted: opts.inverted });
  // The baseline's type is matched to the current one below, so a --sample-type it lacks is named as the baseline's problem.
  let baseline = await selectProfile({ ...options, sampleType: undefined }, { inputKey: 'baseline' });
  [current, baseline] = alignSampleTypes(current, baseline, options.sampleType !== undefined);
  if (baseline.profile.samples.length === 0) throw new UserError('the baseline has no samples to compare with', 'check the --baseline file, or loosen --focus/--ignore/--tag');
  return buildDiffTree(current, baseline, { inverted: opts.inverted });
}

function terminalWidth(): number {
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : 120;
}

function refuseMarkupOnTerminal(opts: FlameOptions): void {
  if ((opts.output === undefined || opts.output === '-') && process.stdout.isTTY) {
    const ext = opts.format === 'svg' ? 'svg' : 'html';
    throw new UserError(`refusing to print ${opts.format.toUpperCase()} markup on the terminal`, `write it to a file: -o flame.${ext} (or pipe it)`);
  }
}

export async function run(args: string[], options: Record<string, unknown>): Promise<number> {
  const opts = parseFlameOptions(options);
  if (exportFormats.has(opts.format)) {
    const { run: runExport } = await import('./export.js');
    return (await runExport(args, options)) ?? 0;
  }
  if (opts.format === 'svg' || opts.format === 'html') refuseMarkupOnTerminal(opts);
  const tree = await buildTree(options, opts);
  if (!(tree.total[0]! > 0)) {
    throw new UserError('nothing to draw: the selection has no samples', 'widen --since/--until, loosen --focus/--tag/--trace-id, or check the --input file');
  }

  // A terminal (both ways) with no format asked for gets the interactive view; --no-interactive, a pipe or -o get text.
  const toTerminal = (opts.output === undefined || opts.output === '-') && process.stdout.isTTY && process.stdin.isTTY;
  if (options.format === undefined && options.interactive !== false && toTerminal) {
    // ink renders only a final frame when it believes it runs in CI (CI or
    // CONTINUOUS_INTEGRATION set). Both ends are terminals here, so a person
    // is watching: let ink draw, then put the environment back.
    const saved = { CI: process.env.CI, CONTINUOUS_INTEGRATION: process.env.CONTINUOUS_INTEGRATION };
    for (const k of Object.keys(saved)) if (process.env[k] !== undefined) process.env[k] = 'false';
    const { runInteractiveFlame } = await import('../render/tui/run-interactive.js');
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
    return runInteractiveFlame(tree, { chalk: colors() });
  }
  const sink = openOutput(opts.output);
  try {
    if (opts.format === 'json') {
      const { flameJson } = await import('../render/flame-json.js');
      sink.write(`${JSON.stringify(flameJson(tree))}\n`);
    } else if (opts.format === 'svg') {
      const { renderFlameSvg } = await import('../render/flame-svg.js');
      sink.write(renderFlameSvg(tree, { ...(opts.width ? { width: opts.width } : {}), ...(opts.title ? { title: opts.title } : {}) }));
    } else if (opts.format === 'html') {
      const { renderFlameHtml } = await import('../render/flame-html.js');
      sink.write(renderFlameHtml(tree, opts.title ? { title: opts.title } : {}));
    } else {
      const { layoutFlame } = await import('../render/flame-layout.js');
      const { renderFlameText, describeFlame } = await import('../render/flame-text.js');
      // A file gets escape codes only when FORCE_COLOR asks for them.
      const toFile = opts.output !== undefined && opts.output !== '-';
      const chalk = toFile ? new Chalk({ level: colorLevel({ isTTY: false }) }) : colors();
      const layout = layoutFlame(tree, { width: opts.width ?? terminalWidth() });
      const rows = renderFlameText(tree, layout, { chalk });
      sink.write(`${rows.join('\n')}\n`);
      const notes = describeFlame(tree, layout, { colour: chalk.level > 0 });
      process.stderr.write(notes.map((n, i) => (i === 0 ? `profctl: ${n}` : `  ${n}`)).join('\n') + '\n');
    }
    sink.commit();
  } catch (e) {
    sink.abort();
    throw e;
  }
  return 0;
}
