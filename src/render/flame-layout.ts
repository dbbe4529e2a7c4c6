// Pure flame graph layout: given a call tree, a width (in terminal cells or
// in pixels) and a zoom root, computes where each visible frame goes — its x,
// width and depth. Every drawing of a flame graph (text, SVG, and the
// interactive terminal view) starts from this, so it must not draw, colour,
// format labels or read the terminal; it only places rectangles.
//
// Frames narrower than the minimum width (one cell, by default) fold into
// their parent: they and their subtree are not placed, and the parent's span
// shows their time. Because the tree is numbered in preorder, folding skips
// the subtree's index range, so a layout costs time in proportion to what is
// visible, not to the size of the tree.

import type { CallTree } from '../query/call-tree.js';

export interface FlameLayoutOptions {
  /** Width of the drawing: terminal cells, or pixels when unit is 'pixel'. */
  width: number;
  /** Cells snap to whole columns (children stay inside their parent, siblings never overlap). */
  unit?: 'cell' | 'pixel';
  /** The node drawn full width; its ancestors are placed above it, full width too. Default: the root. */
  zoom?: number;
  /** Narrower frames fold into their parent. Default: 1 cell, or 0.1 pixel. */
  minWidth?: number;
  /** Deepest depth to place (e.g. the rows a terminal has); deeper frames are left out. */
  maxDepth?: number;
}

export interface FlameLayout {
  /** Placed frames, in preorder: within one depth they run left to right. */
  count: number;
  node: Int32Array;
  x: Float64Array;
  width: Float64Array;
  depth: Int32Array;
  /** 1 for the zoom root's ancestors (context above a zoomed view). */
  ancestor: Uint8Array;
  /** Rows used: the deepest placed depth + 1. */
  rows: number;
  zoom: number;
  totalWidth: number;
  /** Nodes left out because they were narrower than minWidth (subtrees counted whole). */
  folded: number;
  /** Nodes left out because they were deeper than maxDepth. */
  clipped: number;
}

export function layoutFlame(tree: CallTree, options: FlameLayoutOptions): FlameLayout {
  const cells = (options.unit ?? 'cell') === 'cell';
  const totalWidth = cells ? Math.max(1, Math.floor(options.width)) : Math.max(0, options.width);
  const zoom = options.zoom !== undefined && options.zoom >= 0 && options.zoom < tree.count ? options.zoom : 0;
  // A cell cannot hold less than one column; pixels may go finer.
  const minWidth = cells ? Math.max(1, options.minWidth ?? 1) : options.minWidth ?? 0.1;
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  const zoomDepth = tree.depth[zoom]!;
  const end = zoom + tree.size[zoom]!;

  // At most: the ancestors, plus either every node of the subtree or (for cells) what fits in the rows.
  const cap = zoomDepth + Math.min(tree.size[zoom]!, cells ? totalWidth * (tree.maxDepth - zoomDepth + 1) : tree.size[zoom]!);
  const node = new Int32Array(cap);
  const x = new Float64Array(cap);
  const width = new Float64Array(cap);
  const depth = new Int32Array(cap);
  const ancestor = new Uint8Array(cap);
  let count = 0;
  let rows = 0;

  const ancestors: number[] = [];
  for (let a = tree.parent[zoom]!; a >= 0; a = tree.parent[a]!) ancestors.push(a);
  for (let k = ancestors.length - 1; k >= 0; k--) {
    const a = ancestors[k]!;
    if (tree.depth[a]! > maxDepth) continue;
    node[count] = a;
    x[count] = 0;
    width[count] = totalWidth;
    depth[count] = tree.depth[a]!;
    ancestor[count] = 1;
    count++;
    rows = Math.max(rows, tree.depth[a]! + 1);
  }

  const origin = tree.start[zoom]!;
  const whole = tree.total[zoom]!;
  const scale = whole > 0 ? totalWidth / whole : 0;
  let folded = 0;
  let clipped = 0;
  if (zoomDepth <= maxDepth) {
    node[count] = zoom;
    x[count] = 0;
    width[count] = totalWidth;
    depth[count] = zoomDepth;
    count++;
    rows = Math.max(rows, zoomDepth + 1);
  } else clipped += tree.size[zoom]!;

  for (let i = zoom + 1; i < end && zoomDepth <= maxDepth; ) {
    const d = tree.depth[i]!;
    if (d > maxDepth) {
      clipped += tree.size[i]!;
      i += tree.size[i]!;
      continue;
    }
    const from = (tree.start[i]! - origin) * scale;
    const to = (tree.start[i]! + tree.total[i]! - origin) * scale;
    // Cells round both edges, not the width, so children never poke out of their parent.
    const x0 = cells ? Math.round(from) : from;
    const w = (cells ? Math.round(to) : to) - x0;
    if (!(w >= minWidth) || tree.total[i]! <= 0) {
      // Paths with no value here (only in a diff's baseline) have nothing to fold.
      if (tree.total[i]! > 0) folded += tree.size[i]!;
      i += tree.size[i]!;
      continue;
    }
    node[count] = i;
    x[count] = x0;
    width[count] = w;
    depth[count] = d;
    count++;
    if (d + 1 > rows) rows = d + 1;
    i++;
  }

  return { count, node, x, width, depth, ancestor, rows, zoom, totalWidth, folded, clipped };
}

/** The placed frame covering column (or pixel) x at a depth, as an index into the layout; -1 when none. */
export function frameAt(layout: FlameLayout, x: number, depth: number): number {
  for (let k = 0; k < layout.count; k++) {
    if (layout.depth[k] === depth && x >= layout.x[k]! && x < layout.x[k]! + layout.width[k]!) return k;
  }
  return -1;
}
