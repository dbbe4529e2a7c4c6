import { describe, expect, it } from 'vitest';
import { buildCallTree, buildDiffTree, nodeChange, nodeName, nodePath, pathsOnlyInBaseline, searchCallTree, type CallTree } from '../../src/query/call-tree.js';
import { ProfileBuilder } from '../../src/profile/model.js';
import { profileOf } from './flame-test-profiles.js';

/** Node by its root-first path of names. */
function find(tree: CallTree, path: string): number {
  for (let i = 0; i < tree.count; i++) if (nodePath(tree, i).join(';') === path) return i;
  return -1;
}

/** Checks the invariants every renderer relies on. */
function checkShape(tree: CallTree): void {
  for (let i = 0; i < tree.count; i++) {
    let childSum = 0;
    let expectedStart = tree.start[i]!;
    for (let c = i + 1; c < i + tree.size[i]!; c += tree.size[c]!) {
      expect(tree.parent[c]).toBe(i);
      expect(tree.depth[c]).toBe(tree.depth[i]! + 1);
      expect(tree.start[c]).toBe(expectedStart);
      expectedStart += tree.total[c]!;
      childSum += tree.total[c]!;
    }
    expect(tree.total[i]).toBeCloseTo(tree.self[i]! + childSum, 9);
  }
}

describe('buildCallTree', () => {
  it('merges identical prefixes, root on top, self at the leaf and total along the path', () => {
    const tree = buildCallTree({ profile: profileOf({ 'main;a;x': 5, 'main;a': 2, 'main;b;x': 3, 'other': 1 }), typeIndex: 0 });
    checkShape(tree);
    expect(tree.total[0]).toBe(11);
    expect(tree.count).toBe(7); // all, main, a, x, b, x, other
    const a = find(tree, 'main;a');
    expect([tree.self[a], tree.total[a]]).toEqual([2, 7]);
    const bx = find(tree, 'main;b;x');
    expect([tree.self[bx], tree.total[bx]]).toEqual([3, 3]);
    expect(tree.maxDepth).toBe(3);
    expect(nodeName(tree, 0)).toBe('all');
  });

  it('numbers nodes in preorder with the heaviest child first', () => {
    const tree = buildCallTree({ profile: profileOf({ 'r;light': 1, 'r;heavy': 9, 'r;mid': 4 }), typeIndex: 0 });
    const r = find(tree, 'r');
    const kids: string[] = [];
    for (let c = r + 1; c < r + tree.size[r]!; c += tree.size[c]!) kids.push(nodeName(tree, c));
    expect(kids).toEqual(['heavy', 'mid', 'light']);
    expect(tree.size[0]).toBe(tree.count);
  });

  it('adds samples of several profiles and of repeated stacks', () => {
    const p1 = profileOf([['a;b', 2], ['a;b', 3]]);
    const p2 = profileOf({ 'a;b': 4, 'a;c': 1 });
    const tree = buildCallTree([{ profile: p1, typeIndex: 0 }, { profile: p2, typeIndex: 0 }]);
    checkShape(tree);
    expect(tree.total[find(tree, 'a;b')]).toBe(9);
    expect(tree.total[0]).toBe(10);
  });

  it('keeps recursion as distinct depths, each counted once per path', () => {
    const tree = buildCallTree({ profile: profileOf({ 'f;f;f': 4, 'f': 1 }), typeIndex: 0 });
    checkShape(tree);
    expect(tree.total[find(tree, 'f')]).toBe(5);
    expect(tree.total[find(tree, 'f;f;f')]).toBe(4);
  });

  it('reads the chosen sample type', () => {
    const b = new ProfileBuilder([{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }]);
    const s = b.stackId([b.frameId({ name: 'leaf', module: 'm', kind: 'native' }), b.frameId({ name: 'main', module: 'm', kind: 'native' })]);
    b.addSample({ stack: s, values: [1, 10_000_000] });
    b.addSample({ stack: s, values: [2, 20_000_000] });
    const tree = buildCallTree({ profile: b.build(), typeIndex: 1 });
    expect(tree.total[0]).toBe(30_000_000);
    expect(tree.sampleType).toEqual({ type: 'cpu', unit: 'nanoseconds' });
  });

  it('inverted: leaf functions under the root, their callers below', () => {
    const tree = buildCallTree({ profile: profileOf({ 'main;a;x': 5, 'main;b;x': 3, 'main;b': 2 }), typeIndex: 0 }, { inverted: true });
    checkShape(tree);
    expect(tree.inverted).toBe(true);
    const x = find(tree, 'x');
    expect(tree.total[x]).toBe(8);
    expect(tree.total[find(tree, 'x;a')]).toBe(5);
    expect(tree.total[find(tree, 'x;b;main')]).toBe(3);
    expect(tree.total[find(tree, 'b')]).toBe(2);
    // In the callers view, self sits where the stack ran out: at its outermost caller.
    expect(tree.self[find(tree, 'x;a;main')]).toBe(5);
  });
});

describe('buildDiffTree', () => {
  const base = profileOf({ 'main;a': 50, 'main;b': 40, 'main;gone;deep': 10 });
  const cur = profileOf({ 'main;a': 100, 'main;b': 40, 'main;new': 60 });
  const tree = buildDiffTree({ profile: cur, typeIndex: 0 }, { profile: base, typeIndex: 0 });

  it('normalises by each profile’s total', () => {
    checkShape(tree);
    expect(tree.total[0]).toBe(200);
    expect(tree.baseline!.totalValue).toBe(100);
    const a = nodeChange(tree, find(tree, 'main;a'));
    expect(a.selfShare).toBeCloseTo(0.5);
    expect(a.baseSelfShare).toBeCloseTo(0.5);
    expect(a.selfDelta).toBeCloseTo(0);
    const b = nodeChange(tree, find(tree, 'main;b'));
    expect(b.selfDelta).toBeCloseTo(0.2 - 0.4);
    expect(nodeChange(tree, find(tree, 'main;new')).selfDelta).toBeCloseTo(0.3);
  });

  it('keeps paths only in the baseline, with no current width, and reports the topmost one', () => {
    const gone = find(tree, 'main;gone');
    expect(gone).toBeGreaterThan(0);
    expect(tree.total[gone]).toBe(0);
    expect(tree.baseline!.total[gone]).toBe(10);
    const report = pathsOnlyInBaseline(tree);
    expect(report.nodes).toEqual([gone]);
    expect(report.baseShare).toBeCloseTo(0.1);
  });

  it('identical inputs change nothing', () => {
    const same = buildDiffTree({ profile: cur, typeIndex: 0 }, { profile: cur, typeIndex: 0 });
    for (let i = 0; i < same.count; i++) expect(nodeChange(same, i).selfDelta).toBe(0);
    expect(pathsOnlyInBaseline(same).nodes).toEqual([]);
  });

  it('matches frames across profiles by name and module, whatever their ids', () => {
    const p1 = profileOf({ 'z;y': 1, 'main;f': 1 });
    const p2 = profileOf({ 'main;f': 1 });
    const t = buildDiffTree({ profile: p2, typeIndex: 0 }, { profile: p1, typeIndex: 0 });
    expect(t.count).toBe(5);
    expect(nodeChange(t, find(t, 'main;f')).totalDelta).toBeCloseTo(0.5);
  });
});

describe('searchCallTree', () => {
  const tree = buildCallTree({ profile: profileOf({ 'main;hash;hash': 6, 'main;sort': 3, 'main': 1 }), typeIndex: 0 });

  it('marks matching nodes and counts each sample once under nested matches', () => {
    const s = searchCallTree(tree, /hash/);
    expect(s.matchedNodes).toBe(2);
    expect(s.matchedValue).toBe(6);
    expect(s.share).toBeCloseTo(0.6);
    expect(s.matched[find(tree, 'main;hash;hash')]).toBe(1);
    expect(s.matched[find(tree, 'main;sort')]).toBe(0);
  });

  it('matches modules too, and nothing when nothing matches', () => {
    expect(searchCallTree(tree, /^app$/).share).toBeCloseTo(1);
    expect(searchCallTree(tree, /nope/).matchedNodes).toBe(0);
  });

  it('measures the share within a zoomed subtree', () => {
    const sort = find(tree, 'main;sort');
    expect(searchCallTree(tree, /sort/, find(tree, 'main')).share).toBeCloseTo(3 / 10);
    expect(searchCallTree(tree, /sort/, sort).share).toBeCloseTo(1);
  });
});
