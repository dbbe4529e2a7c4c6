import { describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import { buildCallTree, buildDiffTree, searchCallTree } from '../../src/query/call-tree.js';
import { layoutFlame } from '../../src/render/flame-layout.js';
import { describeFlame, renderFlameText } from '../../src/render/flame-text.js';
import { diffColor, fitLabel, formatDelta, formatValue, kindColor, printable } from '../../src/render/flame-style.js';
import { profileOf } from './flame-test-profiles.js';

const plain = new Chalk({ level: 0 });
const truecolor = new Chalk({ level: 3 });
const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

const profile = profileOf({ 'main;handle;crypto/sha256.block': 50, 'main;handle;k:sys_write': 25, 'main;j:sort.Sort': 20, 'main;c': 4, 'main;d': 1 });
const tree = buildCallTree({ profile, typeIndex: 0 });

describe('renderFlameText, plain', () => {
  it('draws one row per depth, exactly as wide as asked, each frame ending in |', () => {
    for (const width of [20, 57, 80]) {
      const rows = renderFlameText(tree, layoutFlame(tree, { width }), { chalk: plain });
      expect(rows).toHaveLength(4);
      expect(rows[0]).toHaveLength(width);
      expect(rows[0]!.startsWith('all')).toBe(true);
      for (const r of rows) expect(r.length).toBeLessThanOrEqual(width);
      expect(rows.join('\n')).not.toMatch(/\u001b/);
    }
  });

  it('shows names with shares when they fit, cuts them with .. when not', () => {
    const rows = renderFlameText(tree, layoutFlame(tree, { width: 80 }), { chalk: plain });
    expect(rows[1]).toMatch(/^main 100%-+\|$/);
    expect(rows[3]).toMatch(/^crypto\/sha256\.block 50%-+\|k:sys_write 25%-+\|$/);
    const narrow = renderFlameText(tree, layoutFlame(tree, { width: 20 }), { chalk: plain });
    expect(narrow[3]).toBe('crypto/..|k:..|');
  });

  it('never lets a name carry terminal escapes', () => {
    const evil = buildCallTree({ profile: profileOf({ 'main;\u001b[2Jboom': 1 }), typeIndex: 0 });
    const rows = renderFlameText(evil, layoutFlame(evil, { width: 40 }), { chalk: plain });
    expect(rows[2]).toContain('?[2Jboom');
    expect(printable('a\nb\u009b')).toBe('a?b?');
  });
});

describe('renderFlameText, coloured', () => {
  it('fills frames by kind and alternates shades; the text under the colour is the same width', () => {
    const rows = renderFlameText(tree, layoutFlame(tree, { width: 80 }), { chalk: truecolor });
    for (const r of rows) expect(strip(r).length).toBeLessThanOrEqual(80);
    expect(strip(rows[0]!)).toHaveLength(80);
    const [kr, kg, kb] = kindColor('kernel', 'k:sys_write', true);
    expect(rows[3]).toContain(`\u001b[48;2;${kr};${kg};${kb}m`);
    const [jr, jg, jb] = kindColor('jit', 'j:sort.Sort', true);
    expect(rows[2]).toContain(`\u001b[48;2;${jr};${jg};${jb}m`);
  });

  it('highlights search matches', () => {
    const s = searchCallTree(tree, /sha256/);
    const rows = renderFlameText(tree, layoutFlame(tree, { width: 80 }), { chalk: truecolor, highlight: s.matched });
    expect(rows[3]).toMatch(/^\u001b\[48;2;225;70;225m/);
  });
});

describe('differential colouring', () => {
  const base = profileOf({ 'main;grow': 10, 'main;shrink': 59.5, 'main;same': 30, 'main;gone;x': 0.5 });
  const cur = profileOf({ 'main;grow': 40, 'main;shrink': 30, 'main;same': 30 });
  const diff = buildDiffTree({ profile: cur, typeIndex: 0 }, { profile: base, typeIndex: 0 });

  it('maps growth to red, shrink to blue, no change to neutral, intensity by magnitude', () => {
    expect(diffColor(0.1, 0.1)).toEqual([255, 45, 45]);
    expect(diffColor(-0.1, 0.1)).toEqual([45, 45, 255]);
    expect(diffColor(0, 0.1)).toEqual([235, 235, 235]);
    const weak = diffColor(0.01, 0.1);
    const strong = diffColor(0.05, 0.1);
    expect(weak[0]).toBe(255);
    expect(weak[1]).toBeGreaterThan(strong[1]);
  });

  it('colours each frame by its change in self share', () => {
    const rows = renderFlameText(diff, layoutFlame(diff, { width: 100 }), { chalk: truecolor });
    const grow = /\u001b\[48;2;(\d+);(\d+);(\d+)m\u001b\[30mgrow/.exec(rows[2]!);
    const shrink = /\u001b\[48;2;(\d+);(\d+);(\d+)m\u001b\[30mshrink/.exec(rows[2]!);
    const same = /\u001b\[48;2;(\d+);(\d+);(\d+)m\u001b\[30msame/.exec(rows[2]!);
    expect(grow && shrink && same).toBeTruthy();
    expect(Number(grow![1])).toBe(255);
    expect(Number(grow![2])).toBeLessThan(200);
    expect(Number(shrink![3])).toBe(255);
    expect(Number(shrink![1])).toBeLessThan(200);
    expect(same!.slice(1).map(Number)).toEqual([235, 235, 235]);
  });

  it('labels the change in plain text and names the paths only in the baseline', () => {
    const rows = renderFlameText(diff, layoutFlame(diff, { width: 100 }), { chalk: plain });
    expect(rows[2]).toMatch(/grow 40% \+30\.\d+pp-*\|/);
    expect(rows[2]).toMatch(/shrink 30% -29\.\d+pp-*\|/);
    const notes = describeFlame(diff, layoutFlame(diff, { width: 100 }), { colour: false });
    expect(notes.join('\n')).toMatch(/1 call paths only in the baseline \(0\.50% of it\)/);
    expect(notes.join('\n')).toMatch(/-0\.50pp\s+main;gone/);
  });
});

describe('flame-style', () => {
  it('formats values in their unit', () => {
    expect(formatValue(1_234_567, 'count')).toBe('1,234,567');
    expect(formatValue(2_500_000_000, 'nanoseconds')).toBe('2.50s');
    expect(formatValue(12_300_000, 'nanoseconds')).toBe('12.3ms');
    expect(formatValue(512, 'nanoseconds')).toBe('512ns');
    expect(formatValue(3 * 2 ** 20, 'bytes')).toBe('3.00MiB');
  });

  it('cuts labels to fit and signs changes', () => {
    expect(fitLabel('abcdef', 6)).toBe('abcdef');
    expect(fitLabel('abcdef', 5)).toBe('abc..');
    expect(fitLabel('abcdef', 3)).toBe('a..');
    expect(fitLabel('abcdef', 2)).toBe('');
    expect(fitLabel('ab', 2)).toBe('ab');
    expect(fitLabel('abcdef', 0)).toBe('');
    expect(formatDelta(0.032)).toBe('+3.20pp');
    expect(formatDelta(-0.15)).toBe('-15.0pp');
  });
});
