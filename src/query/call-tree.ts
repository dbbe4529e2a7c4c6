// The merged call tree that every flame graph draws: one node per distinct
// call path (root "all" on top, a child per caller → callee), with self and
// total values; optionally inverted (the callers view: leaf functions under
// the root), and optionally differential (a baseline's values beside the
// current ones, compared as shares of each profile's total so runs of
// different lengths compare). A pure query pass: it reads profiles and never
// draws, formats or colours anything.
//
// The tree is flat typed arrays, not objects, because the interactive view
// lays it out on every key press at 100,000+ nodes. Nodes are numbered in
// depth-first preorder with the heaviest child first, so a node's subtree is
// the index range [n, n + size[n]) and `start` gives each node's offset in
// value space: zooming and laying out are linear scans that skip subtrees.

import type { Frame, Profile, ValueType } from '../profile/model.js';

export interface BaselineValues {
  self: Float64Array;
  total: Float64Array;
  /** The baseline's total value (its root), for normalising to shares. */
  totalValue: number;
}

export interface CallTree {
  /** Number of nodes; node 0 is the synthetic root "all". */
  count: number;
  /** Distinct functions, merged by name and module across all inputs. */
  frames: Frame[];
  /** Index into frames per node; -1 for the root. */
  frame: Int32Array;
  /** Parent node; -1 for the root. Always smaller than the node's own index. */
  parent: Int32Array;
  depth: Int32Array;
  /** Nodes in the subtree, the node included: its descendants are n+1 .. n+size[n]-1. */
  size: Int32Array;
  self: Float64Array;
  total: Float64Array;
  /** Offset of the node's span from the root's, in value units (children laid out heaviest first). */
  start: Float64Array;
  /** Deepest node's depth (root = 0). */
  maxDepth: number;
  sampleType: ValueType;
  inverted: boolean;
  /** Present for a differential tree. Nodes only in the baseline have total 0 here. */
  baseline?: BaselineValues;
}

export interface CallTreeInput {
  profile: Profile;
  typeIndex: number;
}

export interface CallTreeOptions {
  /** Callers view: the root's children are the leaf (sampled) functions. */
  inverted?: boolean;
}

/**
 * (parent node, frame) → child node, as open addressing over typed arrays.
 * A Map keyed by parent * frames + frame spends most of a build hashing
 * keys beyond the small-integer range; this keeps lookups to a few array reads.
 */
class ChildTable {
  private parents = new Int32Array(1 << 12).fill(-1);
  private frames = new Int32Array(1 << 12);
  private children = new Int32Array(1 << 12);
  private used = 0;

  private static slot(parent: number, frame: number, mask: number): number {
    return (Math.imul(parent, 0x9e3779b1) ^ Math.imul(frame + 1, 0x85ebca6b)) & mask;
  }

  get(parent: number, frame: number): number {
    const mask = this.parents.length - 1;
    for (let i = ChildTable.slot(parent, frame, mask); ; i = (i + 1) & mask) {
      const p = this.parents[i]!;
      if (p === -1) return -1;
      if (p === parent && this.frames[i] === frame) return this.children[i]!;
    }
  }

  set(parent: number, frame: number, child: number): void {
    if ((this.used + 1) * 2 > this.parents.length) this.grow();
    this.insert(parent, frame, child);
    this.used++;
  }

  private insert(parent: number, frame: number, child: number): void {
    const mask = this.parents.length - 1;
    let i = ChildTable.slot(parent, frame, mask);
    while (this.parents[i] !== -1) i = (i + 1) & mask;
    this.parents[i] = parent;
    this.frames[i] = frame;
    this.children[i] = child;
  }

  private grow(): void {
    const { parents, frames, children } = this;
    this.parents = new Int32Array(parents.length * 2).fill(-1);
    this.frames = new Int32Array(parents.length * 2);
    this.children = new Int32Array(parents.length * 2);
    for (let i = 0; i < parents.length; i++) if (parents[i] !== -1) this.insert(parents[i]!, frames[i]!, children[i]!);
  }
}

/** Interns paths as it reads profiles; finish() orders and totals them. */
class CallTreeBuilder {
  readonly frames: Frame[] = [];
  private frameIds = new Map<string, number>();
  private childIds = new ChildTable();
  readonly parent: number[] = [-1];
  readonly frame: number[] = [-1];
  /** self[side][node]: side 0 is the current profile, 1 the baseline. */
  readonly self: [number[], number[]] = [[0], [0]];

  constructor(readonly inverted: boolean) {}

  private treeFrame(f: Frame): number {
    const key = `${f.name}\u0000${f.module}`;
    let id = this.frameIds.get(key);
    if (id === undefined) {
      id = this.frames.length;
      this.frames.push({ name: f.name, module: f.module, kind: f.kind });
      this.frameIds.set(key, id);
    }
    return id;
  }

  private child(node: number, frame: number): number {
    let id = this.childIds.get(node, frame);
    if (id < 0) {
      id = this.parent.length;
      this.parent.push(node);
      this.frame.push(frame);
      this.self[0].push(0);
      this.self[1].push(0);
      this.childIds.set(node, frame, id);
    }
    return id;
  }

  add(input: CallTreeInput, side: 0 | 1): void {
    const { profile, typeIndex } = input;
    // Identical stacks share a path: sum per stack first, then walk each distinct stack once.
    const perStack = new Float64Array(profile.stacks.length);
    for (const s of profile.samples) {
      const v = s.values[typeIndex];
      if (v !== undefined && Number.isFinite(v)) perStack[s.stack] += v;
    }
    const frameMap = new Int32Array(profile.frames.length).fill(-1);
    const self = this.self[side];
    for (let st = 0; st < perStack.length; st++) {
      const v = perStack[st]!;
      if (v === 0) continue;
      const stack = profile.stacks[st]!;
      let node = 0;
      const n = stack.length;
      for (let k = 0; k < n; k++) {
        // Stacks are stored leaf first: the normal view walks them backwards.
        const pf = stack[this.inverted ? k : n - 1 - k]!;
        let tf = frameMap[pf]!;
        if (tf < 0) {
          tf = this.treeFrame(profile.frames[pf]!);
          frameMap[pf] = tf;
        }
        node = this.child(node, tf);
      }
      self[node]! += v;
    }
  }

  finish(sampleType: ValueType, differential: boolean): CallTree {
    const n = this.parent.length;
    const parentOld = Int32Array.from(this.parent);
    const totals: [Float64Array, Float64Array] = [Float64Array.from(this.self[0]), Float64Array.from(this.self[1])];
    // Creation order puts every parent before its children, so one backward pass sums totals.
    for (let i = n - 1; i > 0; i--) {
      const p = parentOld[i]!;
      totals[0][p]! += totals[0][i]!;
      totals[1][p]! += totals[1][i]!;
    }
    // Children of each node, contiguous (counting sort by parent), then heaviest first.
    const childStart = new Int32Array(n + 1);
    for (let i = 1; i < n; i++) childStart[parentOld[i]! + 1]!++;
    for (let i = 0; i < n; i++) childStart[i + 1]! += childStart[i]!;
    const fill = childStart.slice(0, n);
    const children = new Int32Array(Math.max(0, n - 1));
    for (let i = 1; i < n; i++) children[fill[parentOld[i]!]!++] = i;
    const cur = totals[0];
    const base = totals[1];
    const frames = this.frames;
    const frameOld = this.frame;
    const byWeight = (a: number, b: number): number =>
      cur[b]! - cur[a]! || base[b]! - base[a]! || compareNames(frames[frameOld[a]!]!.name, frames[frameOld[b]!]!.name) || a - b;
    for (let p = 0; p < n; p++) {
      const from = childStart[p]!;
      const to = childStart[p + 1]!;
      if (to - from > 16) children.subarray(from, to).sort(byWeight);
      else if (to - from > 1) {
        // Most nodes have a handful of children: an insertion sort in place beats making a subarray.
        for (let i = from + 1; i < to; i++) {
          const c = children[i]!;
          let j = i - 1;
          while (j >= from && byWeight(children[j]!, c) > 0) {
            children[j + 1] = children[j]!;
            j--;
          }
          children[j + 1] = c;
        }
      }
    }
    // Renumber in preorder: an explicit stack, children pushed in reverse so the heaviest comes first.
    const order = new Int32Array(n);
    const newId = new Int32Array(n);
    const stack = new Int32Array(n);
    let sp = 0;
    let next = 0;
    stack[sp++] = 0;
    while (sp > 0) {
      const old = stack[--sp]!;
      newId[old] = next;
      order[next++] = old;
      for (let c = childStart[old + 1]! - 1; c >= childStart[old]!; c--) stack[sp++] = children[c]!;
    }
    const tree: CallTree = {
      count: n,
      frames,
      frame: new Int32Array(n),
      parent: new Int32Array(n),
      depth: new Int32Array(n),
      size: new Int32Array(n).fill(1),
      self: new Float64Array(n),
      total: new Float64Array(n),
      start: new Float64Array(n),
      maxDepth: 0,
      sampleType,
      inverted: this.inverted,
    };
    const baseSelf = differential ? new Float64Array(n) : undefined;
    const baseTotal = differential ? new Float64Array(n) : undefined;
    const selfCur = this.self[0];
    const selfBase = this.self[1];
    for (let i = 0; i < n; i++) {
      const old = order[i]!;
      tree.frame[i] = frameOld[old]!;
      tree.parent[i] = old === 0 ? -1 : newId[parentOld[old]!]!;
      tree.self[i] = selfCur[old]!;
      tree.total[i] = cur[old]!;
      if (baseSelf && baseTotal) {
        baseSelf[i] = selfBase[old]!;
        baseTotal[i] = base[old]!;
      }
    }
    for (let i = n - 1; i > 0; i--) tree.size[tree.parent[i]!]! += tree.size[i]!;
    // Each node's span starts where its previous sibling's ended (preorder visits siblings in order).
    const nextStart = new Float64Array(n);
    let maxDepth = 0;
    for (let i = 1; i < n; i++) {
      const p = tree.parent[i]!;
      tree.depth[i] = tree.depth[p]! + 1;
      if (tree.depth[i]! > maxDepth) maxDepth = tree.depth[i]!;
      tree.start[i] = nextStart[p]!;
      nextStart[p] = tree.start[i]! + tree.total[i]!;
      nextStart[i] = tree.start[i]!;
    }
    tree.maxDepth = maxDepth;
    if (baseSelf && baseTotal) tree.baseline = { self: baseSelf, total: baseTotal, totalValue: baseTotal[0]! };
    return tree;
  }
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The merged call tree of one or more profiles (several inputs add up). */
export function buildCallTree(inputs: CallTreeInput | CallTreeInput[], options: CallTreeOptions = {}): CallTree {
  const list = Array.isArray(inputs) ? inputs : [inputs];
  if (list.length === 0) throw new Error('buildCallTree needs at least one profile');
  const b = new CallTreeBuilder(options.inverted === true);
  for (const input of list) b.add(input, 0);
  return b.finish(sampleTypeOf(list[0]!), false);
}

/**
 * A differential tree: the union of both profiles' paths, widths from the
 * current profile, the baseline's self and total beside them. Paths found
 * only in the baseline stay in the tree with a current total of 0.
 */
export function buildDiffTree(
  current: CallTreeInput | CallTreeInput[],
  baseline: CallTreeInput | CallTreeInput[],
  options: CallTreeOptions = {},
): CallTree {
  const cur = Array.isArray(current) ? current : [current];
  const base = Array.isArray(baseline) ? baseline : [baseline];
  if (cur.length === 0 || base.length === 0) throw new Error('buildDiffTree needs a current and a baseline profile');
  const b = new CallTreeBuilder(options.inverted === true);
  for (const input of cur) b.add(input, 0);
  for (const input of base) b.add(input, 1);
  return b.finish(sampleTypeOf(cur[0]!), true);
}

function sampleTypeOf(input: CallTreeInput): ValueType {
  return input.profile.sampleTypes[input.typeIndex] ?? { type: 'samples', unit: 'count' };
}

/** Frame names from the root's child down to the node (empty for the root). */
export function nodePath(tree: CallTree, node: number): string[] {
  const names: string[] = [];
  for (let n = node; n > 0; n = tree.parent[n]!) names.push(tree.frames[tree.frame[n]!]!.name);
  return names.reverse();
}

/** The node's display name: its function, or "all" for the root. */
export function nodeName(tree: CallTree, node: number): string {
  return node === 0 ? 'all' : tree.frames[tree.frame[node]!]!.name;
}

export interface TreeSearch {
  /** 1 where the node's function name (or module) matches. */
  matched: Uint8Array;
  /** Nodes that match. */
  matchedNodes: number;
  /** Value under matching nodes, each sample counted once even when nested matches repeat it. */
  matchedValue: number;
  /** matchedValue as a share of the root's total (0..1). */
  share: number;
}

/** Marks the nodes whose function matches the regex, and the share of the profile they cover. */
export function searchCallTree(tree: CallTree, re: RegExp, within = 0): TreeSearch {
  const matchedFrames = new Uint8Array(tree.frames.length);
  const plain = new RegExp(re.source, re.flags.replace(/[gy]/g, ''));
  tree.frames.forEach((f, i) => {
    if (plain.test(f.name) || (f.module !== '' && plain.test(f.module))) matchedFrames[i] = 1;
  });
  const matched = new Uint8Array(tree.count);
  let matchedNodes = 0;
  let matchedValue = 0;
  let coveredUntil = 0;
  const end = within + tree.size[within]!;
  for (let i = within; i < end; i++) {
    const f = tree.frame[i]!;
    if (f < 0 || matchedFrames[f] === 0) continue;
    matched[i] = 1;
    matchedNodes++;
    // A match inside a matched subtree is the same samples again (recursion, or a callee).
    if (i >= coveredUntil) {
      matchedValue += tree.total[i]!;
      coveredUntil = i + tree.size[i]!;
    }
  }
  const whole = tree.total[within]!;
  return { matched, matchedNodes, matchedValue, share: whole > 0 ? matchedValue / whole : 0 };
}

export interface NodeChange {
  /** Shares of each profile's total (0..1). */
  selfShare: number;
  totalShare: number;
  baseSelfShare: number;
  baseTotalShare: number;
  /** Current minus baseline share, in fractions (0.032 = 3.2 percentage points). */
  selfDelta: number;
  totalDelta: number;
}

/** How a node's share of its profile changed from the baseline (zeros for a plain tree's baseline). */
export function nodeChange(tree: CallTree, node: number): NodeChange {
  const whole = tree.total[0]!;
  const b = tree.baseline;
  const baseWhole = b?.totalValue ?? 0;
  const selfShare = whole > 0 ? tree.self[node]! / whole : 0;
  const totalShare = whole > 0 ? tree.total[node]! / whole : 0;
  const baseSelfShare = b && baseWhole > 0 ? b.self[node]! / baseWhole : 0;
  const baseTotalShare = b && baseWhole > 0 ? b.total[node]! / baseWhole : 0;
  return {
    selfShare,
    totalShare,
    baseSelfShare,
    baseTotalShare,
    selfDelta: selfShare - baseSelfShare,
    totalDelta: totalShare - baseTotalShare,
  };
}

/**
 * The largest |self share change| among nodes the current profile has: the
 * scale for differential colour intensity (paths only in the baseline are
 * not drawn, so they must not wash out the colours of those that are).
 */
export function maxSelfDelta(tree: CallTree): number {
  if (!tree.baseline) return 0;
  let max = 0;
  for (let i = 0; i < tree.count; i++) {
    if (!(tree.total[i]! > 0)) continue;
    const d = Math.abs(nodeChange(tree, i).selfDelta);
    if (d > max) max = d;
  }
  return max;
}

export interface GonePaths {
  /** Topmost nodes that have baseline samples but none in the current profile. */
  nodes: number[];
  /** Their baseline value summed, and as a share of the baseline total. */
  baseValue: number;
  baseShare: number;
}

/**
 * Call paths present only in the baseline. They have no width in a graph
 * sized by the current profile, so renderers list or count them instead of
 * letting them vanish. Only the topmost such node of each path is reported.
 */
export function pathsOnlyInBaseline(tree: CallTree): GonePaths {
  const nodes: number[] = [];
  let baseValue = 0;
  const b = tree.baseline;
  if (!b) return { nodes, baseValue, baseShare: 0 };
  for (let i = 1; i < tree.count; ) {
    if (tree.total[i] === 0 && b.total[i]! > 0) {
      nodes.push(i);
      baseValue += b.total[i]!;
      i += tree.size[i]!;
    } else i++;
  }
  nodes.sort((x, y) => b.total[y]! - b.total[x]! || x - y);
  return { nodes, baseValue, baseShare: b.totalValue > 0 ? baseValue / b.totalValue : 0 };
}
