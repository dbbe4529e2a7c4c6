// profctl top: the hottest functions of the selected samples, as pprof -top
// prints them (self, total), sorted by self or total. Parses options, calls
// selectProfile and aggregateFunctions, and hands rows to the renderer.
//
// --limit: by default the rows that fit the terminal when stdout is one, and
// every row otherwise (as `go tool pprof -top` prints every node to a pipe);
// `--limit 0` means all rows; --json prints all rows unless --limit is given.

import { UserError } from '../errors.js';
import { aggregateFunctions, sortRows, type AggregateBy } from '../query/aggregate.js';
import { topJson, topTable } from '../render/top-table.js';
import { selectProfile } from './select-profile.js';

/** Lines the table needs besides its rows: summary, header, prompt, a note. */
const CHROME_LINES = 4;

function parseLimit(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`--limit ${String(v)}: not a row count`, 'give a whole number; 0 shows every row');
  return n;
}

export async function run(_args: string[], options: Record<string, unknown>): Promise<number> {
  const limitOpt = parseLimit(options.limit);
  const by = (options.by as AggregateBy | undefined) ?? 'function';
  const sortBy = options.sort === 'total' ? 'total' : 'self';
  const { profile, typeIndex } = await selectProfile(options);
  const { total, rows } = aggregateFunctions(profile, typeIndex, by);
  sortRows(rows, sortBy);

  let limit = limitOpt;
  if (limit === undefined && !options.json && process.stdout.isTTY) limit = Math.max(5, (process.stdout.rows ?? 24) - CHROME_LINES);
  const shown = limit === undefined || limit === 0 ? rows : rows.slice(0, limit);
  const report = { total, sampleType: profile.sampleTypes[typeIndex]!, by, rows: shown, rowCount: rows.length };
  if (options.json) process.stdout.write(`${topJson(report)}\n`);
  else {
    process.stdout.write(topTable(report));
    if (shown.length < rows.length) process.stderr.write(`profctl: ${rows.length - shown.length} more rows; --limit 0 shows all\n`);
  }
  return 0;
}
