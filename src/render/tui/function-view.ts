// The interactive view's `i` key: one function's callers (from a normal
// tree) or its callees (from an inverted one), as a tree of its own with
// that function alone under the root. It is derived from the tree on
// screen, not from the profile: each topmost node of the function (so a
// recursive function's samples count once) contributes its total along the
// path from it back to the root, and those weighted paths are built into a
// call tree by the usual builder. It must not draw or read the terminal.

import type { Profile } from '../../profile/model.js';
import { buildCallTree, buildDiffTree, type CallTree } from '../../query/call-tree.js';

/** The function's nodes that have no node of the same function above them, with any value on either side. */
function topmostNodes(tree: CallTree, frame: number): number[] {
  const nodes: number[] = [];
  const base = tree.baseline?.total;
  for (let i = 1; i < tree.count; ) {
    if (tree.frame[i] !== frame || (tree.total[i] === 0 && (base?.[i] ?? 0) === 0)) {
      i++;
      continue;
    }
    nodes.push(i);
    i += tree.size[i]!;
  }
  return nodes;
}

/**
 * The tree of one function's callers (or, for an inverted tree, its
 * callees): the function is node 1, the only child of the root, and its
 * total is every sample with the function on the stack.
 */
export function functionView(tree: CallTree, frame: number): CallTree {
  const nodes = topmostNodes(tree, frame);
  // Stacks are leaf first and an inverted build reads them from index 0: the function, then back toward the root.
  const stacks = nodes.map((i) => {
    const stack: number[] = [];
    for (let n = i; n > 0; n = tree.parent[n]!) stack.push(tree.frame[n]!);
    return stack;
  });
  const profileOf = (values: Float64Array): Profile => ({
    sampleTypes: [tree.sampleType],
    frames: tree.frames,
    stacks,
    samples: nodes.map((n, k) => ({ stack: k, values: [values[n]!] })),
  });
  if (!tree.baseline) return buildCallTree({ profile: profileOf(tree.total), typeIndex: 0 }, { inverted: true });
  return buildDiffTree({ profile: profileOf(tree.total), typeIndex: 0 }, { profile: profileOf(tree.baseline.total), typeIndex: 0 }, { inverted: true });
}
