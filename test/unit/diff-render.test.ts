// The diff renderers: number formats, colours of growth and shrink, the
// Markdown table's escaping, and that the JSON is built from the report.
import { describe, expect, it } from 'vitest';
import { diffProfiles, findRegressions } from '../../src/query/diff.js';
import { configureColor } from '../../src/render/color.js';
import { renderDiffJson, type DiffReport } from '../../src/render/diff-json.js';
import { renderDiffMarkdown } from '../../src/render/diff-markdown.js';
import { formatDelta, formatPValue, formatQuantity, renderDiffTable } from '../../src/render/diff-table.js';
import { profileFromCounts } from './diff-workload.js';

function report(threshold?: number): DiffReport {
  const base = profileFromCounts([
    ['main;a|b', 60],
    ['main;shrinks', 40],
  ]);
  const cur = profileFromCounts([
    ['main;a|b', 90],
    ['main;shrinks', 10],
  ]);
  const diff = diffProfiles({ profile: base, typeIndex: 1 }, { profile: cur, typeIndex: 1 });
  return { diff, rows: diff.rows, regressions: findRegressions(diff, threshold ?? 0), ...(threshold !== undefined ? { failOnRegression: threshold } : {}) };
}

describe('number formats', () => {
  it('reads units as people do', () => {
    expect(formatQuantity(1.78e9, 'nanoseconds')).toBe('1.78s');
    expect(formatQuantity(640e6, 'nanoseconds')).toBe('640ms');
    expect(formatQuantity(1500, 'microseconds')).toBe('1.50ms');
    expect(formatQuantity(3 * 2 ** 20, 'bytes')).toBe('3MiB');
    expect(formatQuantity(178, 'count')).toBe('178');
  });
  it('signs deltas and rounds away negative zero', () => {
    expect(formatDelta(1.234)).toBe('+1.23');
    expect(formatDelta(-0.4)).toBe('-0.40');
    expect(formatDelta(-0.001)).toBe('0.00');
    expect(formatPValue(0.0001)).toBe('<0.001');
    expect(formatPValue(0.0456)).toBe('0.046');
    expect(formatPValue(1)).toBe('1');
  });
});

describe('table', () => {
  it('paints growth red and shrink blue, and flags regressions', () => {
    process.env.FORCE_COLOR = '1';
    try {
      configureColor(false);
      const out = renderDiffTable(report(10));
      expect(out).toContain('\u001b[31m+30.00\u001b[39m'); // red growth
      expect(out).toContain('\u001b[34m-30.00\u001b[39m'); // blue shrink
      expect(out).toMatch(/a\|b.*◀ regression/);
    } finally {
      delete process.env.FORCE_COLOR;
      configureColor(true);
    }
  });
  it('is plain without colour, with a summary first', () => {
    const out = renderDiffTable(report(10)).split('\n');
    expect(out[0]).toBe('baseline 1s cpu (100 samples)  →  current 1s cpu (100 samples)');
    expect(out[1]).toBe('1 significant regression over +10 points: a|b +30.00 points');
    expect(out.join('\n')).not.toMatch(/\u001b\[/);
    expect(out.every((l) => !/\s$/.test(l))).toBe(true);
  });
});

describe('markdown', () => {
  it('escapes pipes in names and bolds the regressed delta', () => {
    const md = renderDiffMarkdown(report(10));
    expect(md).toContain('| 🔺 regression | `a\\|b` | 60.00% | 90.00% | **+30.00** |');
    expect(md).toContain('|  | `shrinks` | 40.00% | 10.00% | -30.00 |');
  });
});

describe('json', () => {
  it('marks regressions and carries the threshold', () => {
    const out = JSON.parse(renderDiffJson(report(10)));
    expect(out.failOnRegression).toBe(10);
    expect(out.regressions.map((r: { function: string }) => r.function)).toEqual(['a|b']);
    expect(out.rows.map((r: { function: string; regression: boolean }) => [r.function, r.regression])).toEqual([
      ['a|b', true],
      ['main', false],
      ['shrinks', false],
    ]);
    expect(JSON.parse(renderDiffJson(report(40))).regressions).toEqual([]);
  });
});
