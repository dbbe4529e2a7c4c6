// profctl diff — compares a baseline run with a current one per function, for
// CI: reads both through the shared selection path (so --ignore, --focus,
// --tag ... apply to both sides alike; several --baseline files merge into one
// baseline), runs the diff pass, prints a table, JSON or Markdown, and with
// --fail-on-regression PCT fails (exit 1) when some function's self share grew
// by more than PCT points and the growth is significant. It parses options and
// wires stages together; the numbers are src/query/diff.ts's, the test is
// src/query/significance.ts's.

import { BadInputError, CheckFailed, UserError } from '../errors.js';
import type { Profile } from '../profile/model.js';
import { diffProfiles, findRegressions, type FunctionDiff } from '../query/diff.js';
import { renderDiffJson, type DiffReport } from '../render/diff-json.js';
import { renderDiffMarkdown } from '../render/diff-markdown.js';
import { formatDelta, formatPValue, renderDiffTable } from '../render/diff-table.js';
import { optionList, selectProfile, type SelectedProfile } from './select-profile.js';

const DEFAULT_LIMIT = 20;

export interface DiffOptions {
  failOnRegression?: number;
  /** 0 = all rows. */
  limit: number;
  format: 'table' | 'markdown' | 'json';
}

/** Turns commander's option values into DiffOptions, refusing what makes no sense. */
export function parseDiffOptions(options: Record<string, unknown>): DiffOptions {
  let failOnRegression: number | undefined;
  if (options.failOnRegression !== undefined) {
    const text = String(options.failOnRegression).replace(/%$/, '');
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 100) {
      throw new UserError(
        `--fail-on-regression ${JSON.stringify(String(options.failOnRegression))}: expected percentage points between 0 and 100`,
        'e.g. --fail-on-regression 2 fails when a function gains more than 2 points of self share',
      );
    }
    failOnRegression = n;
  }
  let limit = DEFAULT_LIMIT;
  if (options.limit !== undefined) {
    const n = Number(options.limit);
    if (!Number.isInteger(n) || n < 0) throw new UserError(`--limit ${JSON.stringify(String(options.limit))}: expected a whole number`, '--limit 0 shows every function');
    limit = n;
  }
  const format = options.json === true ? 'json' : options.format === 'markdown' ? 'markdown' : 'table';
  return { ...(failOnRegression !== undefined ? { failOnRegression } : {}), limit, format };
}

function typeName(p: Profile, i: number): string {
  const t = p.sampleTypes[i]!;
  return `${t.type}/${t.unit}`;
}

/**
 * Both sides must be read in the same sample type. When the user named none
 * and the defaults differ (a folded baseline has only samples/count; a Go
 * profile defaults to cpu/nanoseconds), fall back to a type both have.
 */
function alignSampleTypes(base: SelectedProfile, cur: SelectedProfile, explicit: boolean): [SelectedProfile, SelectedProfile] {
  const want = typeName(cur.profile, cur.typeIndex);
  if (typeName(base.profile, base.typeIndex) === want) return [base, cur];
  const same = base.profile.sampleTypes.findIndex((t) => `${t.type}/${t.unit}` === want);
  if (same >= 0) return [{ ...base, typeIndex: same }, cur];
  const common = [...cur.profile.sampleTypes.keys()]
    .reverse()
    .find((i) => base.profile.sampleTypes.some((t) => `${t.type}/${t.unit}` === typeName(cur.profile, i)));
  if (explicit || common === undefined) {
    throw new UserError(
      `the baseline has no ${want} samples (it has ${base.profile.sampleTypes.map((t) => `${t.type}/${t.unit}`).join(', ')})`,
      'compare profiles of the same kind, or pick a sample type both have with --sample-type',
    );
  }
  const name = typeName(cur.profile, common);
  process.stderr.write(`profctl: note: comparing ${name}: the baseline has no ${want}\n`);
  return [{ ...base, typeIndex: base.profile.sampleTypes.findIndex((t) => `${t.type}/${t.unit}` === name) }, { ...cur, typeIndex: common }];
}

/** The baseline through the same selection path; its errors say they are about the baseline. */
async function selectBaseline(options: Record<string, unknown>): Promise<SelectedProfile> {
  try {
    return await selectProfile(options, { inputKey: 'baseline' });
  } catch (e) {
    // A BadInputError already names the file.
    if (e instanceof UserError && !(e instanceof BadInputError)) throw new UserError(`--baseline: ${e.message}`, e.hint, e.exitCode);
    throw e;
  }
}

/** The rows to print: the first `limit`, plus any regression that fell below the cut. */
function rowsToShow(rows: FunctionDiff[], regressions: FunctionDiff[], limit: number): FunctionDiff[] {
  if (limit === 0 || rows.length <= limit) return rows;
  const shown = rows.slice(0, limit);
  const inShown = new Set(shown);
  return [...shown, ...regressions.filter((r) => !inShown.has(r))];
}

export async function run(_args: string[], options: Record<string, unknown>): Promise<number> {
  if (optionList(options.baseline).length === 0) {
    throw new UserError('diff needs a baseline: --baseline FILE', 'e.g. profctl diff --baseline main.pb.gz --input pr.pb.gz');
  }
  const opts = parseDiffOptions(options);
  const [baseline, current] = alignSampleTypes(await selectBaseline(options), await selectProfile(options), options.sampleType !== undefined);
  if (baseline.profile.samples.length === 0) throw new UserError('the baseline has no samples left to compare', 'loosen --focus/--ignore/--tag, or check the --baseline file');
  if (current.profile.samples.length === 0) throw new UserError('the current profile has no samples left to compare', 'loosen --focus/--ignore/--tag, or check the --input file');

  const diff = diffProfiles(baseline, current);
  const regressions = findRegressions(diff, opts.failOnRegression ?? 0);
  const report: DiffReport = {
    diff,
    rows: rowsToShow(diff.rows, regressions, opts.limit),
    regressions,
    ...(opts.failOnRegression !== undefined ? { failOnRegression: opts.failOnRegression } : {}),
  };

  if (opts.format === 'json') process.stdout.write(renderDiffJson(report));
  else if (opts.format === 'markdown') process.stdout.write(renderDiffMarkdown(report));
  else {
    process.stdout.write(renderDiffTable(report));
    if (report.rows.length < diff.rows.length) process.stderr.write(`profctl: showing ${report.rows.length} of ${diff.rows.length} functions (--limit 0 for all)\n`);
  }
  if (diff.baseline.countSource === 'records' || diff.current.countSource === 'records') {
    process.stderr.write('profctl: note: no sample counts in the input; significance counts one sample per record, which errs toward "not significant"\n');
  }

  if (opts.failOnRegression !== undefined && regressions.length > 0) {
    const worst = regressions[0]!;
    throw new CheckFailed(
      `regression: ${regressions.length} function${regressions.length === 1 ? '' : 's'} gained more than ${opts.failOnRegression} points of self share ` +
        `(worst: ${worst.function} ${formatDelta(worst.deltaSelfPct)} points, p ${formatPValue(worst.pValue)})`,
    );
  }
  return 0;
}
