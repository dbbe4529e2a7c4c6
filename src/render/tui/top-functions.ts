// The rows of the interactive view's top-functions table (Tab): each
// function's self and total value over the tree on screen, heaviest self
// first, as pprof's flat listing orders them. Total counts a sample once
// even when the function is on its stack several times (recursion). Pure:
// it reads a call tree and returns numbers; it must not format or draw.

import type { CallTree } from '../../query/call-tree.js';

export interface FunctionRow {
  /** Index into tree.frames. */
  frame: number;
  self: number;
  total: number;
  /** The same two in the baseline, for a differential tree (0 otherwise). */
  baseSelf: number;
  baseTotal: number;
}

export function topFunctions(tree: CallTree): FunctionRow[] {
  const nf = tree.frames.length;
  const self = new Float64Array(nf);
  const total = new Float64Array(nf);
  const baseSelf = new Float64Array(nf);
  const baseTotal = new Float64Array(nf);
  const b = tree.baseline;
  // How many times each function is on the path from the root to the node being visited.
  const onPath = new Int32Array(nf);
  const path = new Int32Array(tree.maxDepth + 2);
  let top = 0;
  for (let i = 1; i < tree.count; i++) {
    const p = tree.parent[i]!;
    while (top > 0 && path[top - 1] !== p) onPath[tree.frame[path[--top]!]!]!--;
    const f = tree.frame[i]!;
    self[f]! += tree.self[i]!;
    if (b) baseSelf[f]! += b.self[i]!;
    if (onPath[f] === 0) {
      total[f]! += tree.total[i]!;
      if (b) baseTotal[f]! += b.total[i]!;
    }
    onPath[f]!++;
    path[top++] = i;
  }
  const rows: FunctionRow[] = [];
  for (let f = 0; f < nf; f++) {
    if (total[f] === 0 && baseTotal[f] === 0) continue;
    rows.push({ frame: f, self: self[f]!, total: total[f]!, baseSelf: baseSelf[f]!, baseTotal: baseTotal[f]! });
  }
  const names = tree.frames;
  rows.sort((x, y) => y.self - x.self || y.total - x.total || (names[x.frame]!.name < names[y.frame]!.name ? -1 : 1));
  return rows;
}

/** The function's heaviest node in the tree (the first in preorder among equals); -1 when it has none. */
export function heaviestNodeOf(tree: CallTree, frame: number): number {
  let best = -1;
  for (let i = 1; i < tree.count; i++) {
    if (tree.frame[i] === frame && (best < 0 || tree.total[i]! > tree.total[best]!)) best = i;
  }
  return best;
}
