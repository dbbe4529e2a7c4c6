import { describe, expect, it } from 'vitest';
import { buildCallTree, nodePath, type CallTree } from '../../src/query/call-tree.js';
import { frameAt, layoutFlame, type FlameLayout } from '../../src/render/flame-layout.js';
import { profileOf } from './flame-test-profiles.js';

function find(tree: CallTree, path: string): number {
  for (let i = 0; i < tree.count; i++) if (nodePath(tree, i).join(';') === path) return i;
  return -1;
}

function placed(layout: FlameLayout, node: number): { x: number; width: number; depth: number } | undefined {
  for (let k = 0; k < layout.count; k++) if (layout.node[k] === node) return { x: layout.x[k]!, width: layout.width[k]!, depth: layout.depth[k]! };
  return undefined;
}

/** Every placed child lies inside its placed parent, and siblings do not overlap. */
function checkNesting(tree: CallTree, layout: FlameLayout): void {
  const byNode = new Map<number, number>();
  for (let k = 0; k < layout.count; k++) byNode.set(layout.node[k]!, k);
  const rowEnd = new Map<number, number>();
  for (let k = 0; k < layout.count; k++) {
    const d = layout.depth[k]!;
    expect(layout.x[k]!).toBeGreaterThanOrEqual(rowEnd.get(d) ?? 0);
    rowEnd.set(d, layout.x[k]! + layout.width[k]!);
    const p = tree.parent[layout.node[k]!]!;
    if (p < 0 || layout.ancestor[k] || layout.node[k] === layout.zoom) continue;
    const pk = byNode.get(p);
    expect(pk).toBeDefined();
    expect(layout.x[k]!).toBeGreaterThanOrEqual(layout.x[pk!]!);
    expect(layout.x[k]! + layout.width[k]!).toBeLessThanOrEqual(layout.x[pk!]! + layout.width[pk!]! + 1e-9);
  }
}

const profile = profileOf({ 'main;a;x': 50, 'main;a;y': 25, 'main;b': 20, 'main;c': 4, 'main;d': 1 });
const tree = buildCallTree({ profile, typeIndex: 0 });

describe('layoutFlame in cells', () => {
  it('draws the root full width and children in proportion, heaviest first', () => {
    const layout = layoutFlame(tree, { width: 100 });
    checkNesting(tree, layout);
    expect(placed(layout, 0)).toEqual({ x: 0, width: 100, depth: 0 });
    expect(placed(layout, find(tree, 'main;a'))).toEqual({ x: 0, width: 75, depth: 2 });
    expect(placed(layout, find(tree, 'main;b'))).toEqual({ x: 75, width: 20, depth: 2 });
    expect(placed(layout, find(tree, 'main;a;y'))).toEqual({ x: 50, width: 25, depth: 3 });
    expect(layout.rows).toBe(4);
  });

  it('children widths sum to the parent width when the parent has no self time', () => {
    for (const width of [7, 33, 80, 101, 250]) {
      const layout = layoutFlame(tree, { width });
      const main = placed(layout, find(tree, 'main'))!;
      let sum = 0;
      for (let k = 0; k < layout.count; k++) if (tree.parent[layout.node[k]!] === find(tree, 'main')) sum += layout.width[k]!;
      // Folded children's cells stay with the parent, so only a folded remainder may be missing.
      expect(sum).toBeLessThanOrEqual(main.width);
      if (layout.folded === 0) expect(sum).toBe(main.width);
      checkNesting(tree, layout);
    }
  });

  it('folds frames narrower than a cell into their parent, with their subtrees', () => {
    const layout = layoutFlame(tree, { width: 40 });
    // d is 1% of 40 cells: 0.4 of a cell; c is 1.6 cells.
    expect(placed(layout, find(tree, 'main;d'))).toBeUndefined();
    expect(placed(layout, find(tree, 'main;c'))).toBeDefined();
    expect(layout.folded).toBe(1);
    const narrow = layoutFlame(tree, { width: 10 });
    expect(placed(narrow, find(tree, 'main;c'))).toBeUndefined();
    checkNesting(tree, narrow);
    // A folded node's subtree goes with it: in a 1-cell graph only the path whose edges round to a cell remains
    // (main;a covers 0..0.75 → cell 0..1; main;a;x 0..0.5 → 0..1; main;a;y 0.5..0.75 → 1..1, nothing).
    const one = layoutFlame(tree, { width: 1 });
    expect([...one.node.subarray(0, one.count)].map((n) => nodePath(tree, n).join(';'))).toEqual(['', 'main', 'main;a', 'main;a;x']);
    expect(one.folded).toBe(tree.count - 4);
  });

  it('zooms: the zoom root fills the width, its ancestors stay above, others vanish', () => {
    const a = find(tree, 'main;a');
    const layout = layoutFlame(tree, { width: 60, zoom: a });
    checkNesting(tree, layout);
    expect(placed(layout, a)).toEqual({ x: 0, width: 60, depth: 2 });
    expect(placed(layout, find(tree, 'main;a;x'))).toEqual({ x: 0, width: 40, depth: 3 });
    expect(placed(layout, find(tree, 'main;a;y'))).toEqual({ x: 40, width: 20, depth: 3 });
    expect(placed(layout, find(tree, 'main;b'))).toBeUndefined();
    const anc = [...layout.node.subarray(0, layout.count)].filter((_, k) => layout.ancestor[k] === 1);
    expect(anc).toEqual([0, find(tree, 'main')]);
  });

  it('reveals frames that were folded once zoomed in', () => {
    const d = find(tree, 'main;d');
    expect(placed(layoutFlame(tree, { width: 40 }), d)).toBeUndefined();
    expect(placed(layoutFlame(tree, { width: 40, zoom: find(tree, 'main') }), d)).toBeUndefined();
    expect(placed(layoutFlame(tree, { width: 40, zoom: d }), d)).toEqual({ x: 0, width: 40, depth: 2 });
  });

  it('stops at maxDepth and counts what it left out', () => {
    const layout = layoutFlame(tree, { width: 100, maxDepth: 2 });
    expect(layout.rows).toBe(3);
    expect(layout.clipped).toBe(2);
  });

  it('finds the frame under a cell', () => {
    const layout = layoutFlame(tree, { width: 100 });
    expect(layout.node[frameAt(layout, 80, 2)]).toBe(find(tree, 'main;b'));
    expect(frameAt(layout, 99, 3)).toBe(-1);
  });
});

describe('layoutFlame in pixels', () => {
  it('keeps fractional positions and folds below a tenth of a pixel', () => {
    const layout = layoutFlame(tree, { width: 1000, unit: 'pixel' });
    checkNesting(tree, layout);
    expect(placed(layout, find(tree, 'main;d'))!.width).toBeCloseTo(10);
    const tiny = layoutFlame(tree, { width: 5, unit: 'pixel' });
    expect(placed(tiny, find(tree, 'main;d'))).toBeUndefined();
    expect(placed(tiny, find(tree, 'main;c'))!.width).toBeCloseTo(0.2);
  });
});

describe('layoutFlame on a large random tree', () => {
  it('nests correctly at any zoom', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const paths: Array<[string, number]> = [];
    for (let i = 0; i < 3000; i++) {
      const depth = 1 + Math.floor(rand() * 12);
      const names = Array.from({ length: depth }, () => `f${Math.floor(rand() * 6)}`);
      paths.push([names.join(';'), 1 + Math.floor(rand() * 50)]);
    }
    const big = buildCallTree({ profile: profileOf(paths), typeIndex: 0 });
    for (const zoom of [0, 1, 5, 40, big.count - 1]) {
      for (const width of [13, 120]) checkNesting(big, layoutFlame(big, { width, zoom }));
    }
  });
});
