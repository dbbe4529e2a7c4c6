import { describe, expect, it } from 'vitest';
import { buildCallTree, buildDiffTree, searchCallTree } from '../../src/query/call-tree.js';
import { renderFlameSvg, escapeXml } from '../../src/render/flame-svg.js';
import { flameHtmlData, renderFlameHtml } from '../../src/render/flame-html.js';
import { flameJson } from '../../src/render/flame-json.js';
import { diffColor, rgbCss } from '../../src/render/flame-style.js';
import { profileOf } from './flame-test-profiles.js';

const profile = profileOf({ 'main;handle;crypto/sha256.block': 50, 'main;handle;k:sys_write': 25, 'main;j:sort.Sort': 20, 'main;<script>&"x"': 5 });
const tree = buildCallTree({ profile, typeIndex: 0 });

/** Anything that would make the file need the network. */
function externalRefs(doc: string): string[] {
  return (doc.match(/(?:src|href)\s*=\s*["'][^"']*["']|url\([^)]*\)|@import|https?:\/\/[^"'\s)]+/g) ?? []).filter((r) => r !== 'http://www.w3.org/2000/svg');
}

describe('renderFlameSvg', () => {
  const svg = renderFlameSvg(tree, { title: 'T <&>' });

  it('is one self-contained SVG with a frame per visible node, a script and a title', () => {
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(externalRefs(svg)).toEqual([]);
    expect(svg.match(/<g class="f"/g)).toHaveLength(tree.count);
    expect(svg).toContain('<script type="text/ecmascript"><![CDATA[');
    expect(svg).toContain('T &#60;&#38;&#62;');
  });

  it('escapes names everywhere and carries tooltips with name, module, self and total', () => {
    expect(svg).not.toContain('<script>&');
    expect(svg).toContain('&#60;script&#62;&#38;&#34;x&#34;');
    expect(svg).toMatch(/<title>crypto\/sha256\.block\nmodule: app\nself: 50 \(50\.00%\)\ntotal: 50 \(50\.00%\)<\/title>/);
    expect(escapeXml('a\u0001b')).toBe('a?b');
  });

  it('colours a differential graph by change and names what only the baseline had', () => {
    const base = profileOf({ 'main;handle;crypto/sha256.block': 10, 'main;j:sort.Sort': 70, 'main;old': 20 });
    const diff = buildDiffTree({ profile, typeIndex: 0 }, { profile: base, typeIndex: 0 });
    const d = renderFlameSvg(diff);
    expect(d).toContain('Differential flame graph');
    // sort.Sort went from 70% to 20% of self: the largest change, full blue.
    expect(d).toMatch(new RegExp(`data-n="j:sort.Sort"[^>]*><title>[^<]*</title><rect[^>]*fill="${rgbCss(diffColor(-1, 1)).replace(/[()]/g, '\\$&')}"`));
    expect(d).toMatch(/1 call paths only in the baseline \(20\.00% of it\), not drawn/);
    expect(d).toMatch(/-20\.0pp {2}main;old/);
  });
});

describe('renderFlameHtml', () => {
  const html = renderFlameHtml(tree, { title: 'T <&>' });

  it('is one self-contained page with the tree embedded as JSON', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(externalRefs(html)).toEqual([]);
    expect(html).toContain('<title>T &#60;&#38;&#62;</title>');
    const json = /<script type="application\/json" id="flame-data">(.*?)<\/script>/s.exec(html)![1]!;
    // A name containing "<script>" must not end the element early.
    expect(json).not.toContain('<');
    const data = JSON.parse(json);
    expect(data).toEqual(JSON.parse(JSON.stringify(flameHtmlData(tree))));
    expect(data.total[0]).toBe(100);
    expect(data.names).toContain('<script>&"x"');
    expect(data.size[0]).toBe(tree.count);
  });

  it('embeds the baseline for a differential tree', () => {
    const base = profileOf({ 'main;old': 1 });
    const data = flameHtmlData(buildDiffTree({ profile, typeIndex: 0 }, { profile: base, typeIndex: 0 }));
    expect(data.baseline!.total).toBe(1);
    expect(data.fill.some((f) => f === '#ff2d2d')).toBe(true);
  });
});

describe('flameJson', () => {
  it('spells out the tree with children heaviest first and totals that add up', () => {
    const doc = flameJson(tree);
    expect(doc).toMatchObject({ sampleType: 'samples', unit: 'count', total: 100, inverted: false });
    const main = doc.root.children[0]!;
    expect(main.name).toBe('main');
    expect(main.children.map((c) => c.name)).toEqual(['handle', 'j:sort.Sort', '<script>&"x"']);
    const check = (n: typeof main): void => {
      expect(n.total).toBeCloseTo(n.self + n.children.reduce((s, c) => s + c.total, 0));
      n.children.forEach(check);
    };
    check(doc.root);
  });

  it('adds baseline values and changes in percentage points for a differential tree', () => {
    const base = profileOf({ 'main;handle;crypto/sha256.block': 100 });
    const doc = flameJson(buildDiffTree({ profile, typeIndex: 0 }, { profile: base, typeIndex: 0 }));
    expect(doc.baseline).toEqual({ total: 100 });
    const block = doc.root.children[0]!.children[0]!.children[0]!;
    expect(block).toMatchObject({ name: 'crypto/sha256.block', self: 50, baselineSelf: 100, deltaSelfPct: -50 });
  });
});

describe('search share agrees across renderers', () => {
  it('the tree search counts nested matches once', () => {
    expect(searchCallTree(tree, /sha256|handle/).share).toBeCloseTo(0.75);
  });
});
