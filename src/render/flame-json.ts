// The call tree as JSON, for `profctl flame --format json`: a nested tree in
// the shape d3-flame-graph and most scripts expect. It must not filter or
// reorder the tree; it only spells it out. The shape is stable:
//
//   {
//     "sampleType": "cpu", "unit": "nanoseconds",
//     "total": 4520000000,          // the root's total, in the unit
//     "inverted": false,            // true: callers view (leaf functions under the root)
//     "baseline": { "total": n },   // only for a differential graph (--baseline)
//     "root": Node
//   }
//   Node = {
//     "name": "main.main", "module": "app", "kind": "native"|"kernel"|"jit"|"unknown"|"root",
//     "self": n, "total": n,        // in the unit; the root is named "all"
//     // differential only: the baseline's values, and the change in share of
//     // each profile's total in percentage points (current − baseline)
//     "baselineSelf": n, "baselineTotal": n, "deltaSelfPct": x, "deltaTotalPct": x,
//     "children": [Node, ...]       // heaviest first
//   }
//
// Paths found only in the baseline appear with "total": 0.

import { nodeChange, type CallTree } from '../query/call-tree.js';

export interface FlameJsonNode {
  name: string;
  module: string;
  kind: string;
  self: number;
  total: number;
  baselineSelf?: number;
  baselineTotal?: number;
  deltaSelfPct?: number;
  deltaTotalPct?: number;
  children: FlameJsonNode[];
}

export interface FlameJson {
  sampleType: string;
  unit: string;
  total: number;
  inverted: boolean;
  baseline?: { total: number };
  root: FlameJsonNode;
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function baselineFields(tree: CallTree, i: number): Partial<FlameJsonNode> {
  const c = nodeChange(tree, i);
  return {
    baselineSelf: tree.baseline!.self[i]!,
    baselineTotal: tree.baseline!.total[i]!,
    deltaSelfPct: round(c.selfDelta * 100),
    deltaTotalPct: round(c.totalDelta * 100),
  };
}

export function flameJson(tree: CallTree): FlameJson {
  const nodes: FlameJsonNode[] = new Array(tree.count);
  const b = tree.baseline;
  // Preorder: a parent's object exists before its children are appended, so no recursion is needed.
  for (let i = 0; i < tree.count; i++) {
    const f = i === 0 ? undefined : tree.frames[tree.frame[i]!]!;
    const node: FlameJsonNode = {
      name: f?.name ?? 'all',
      module: f?.module ?? '',
      kind: f?.kind ?? 'root',
      self: tree.self[i]!,
      total: tree.total[i]!,
      ...(b ? baselineFields(tree, i) : {}),
      // Last, so a node's own numbers read before its subtree.
      children: [],
    };
    nodes[i] = node;
    if (i > 0) nodes[tree.parent[i]!]!.children.push(node);
  }
  return {
    sampleType: tree.sampleType.type,
    unit: tree.sampleType.unit,
    total: tree.total[0]!,
    inverted: tree.inverted,
    ...(b ? { baseline: { total: b.totalValue } } : {}),
    root: nodes[0]!,
  };
}
