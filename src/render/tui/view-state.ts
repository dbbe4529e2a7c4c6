// The interactive flame view's state and its pure reducer: selection, zoom
// stack, vertical scroll, regex search with its matches and matched share,
// the callers view of one function, the top-functions table, differential
// colouring, the help overlay and the terminal size. Every key press becomes
// one action and reduce(state, action) returns the next state. It lays the
// graph out (through flame-layout.ts, memoised) because moving between
// frames means moving between the frames that are drawn; it must not draw,
// read keys or touch the terminal.

import { searchCallTree, type CallTree, type TreeSearch } from '../../query/call-tree.js';
import { layoutFlame, type FlameLayout } from '../flame-layout.js';
import { functionView } from './function-view.js';
import { heaviestNodeOf, topFunctions, type FunctionRow } from './top-functions.js';

/** Lines the view uses besides the graph: a header and two status lines, plus one kept free so ink never clears the screen. */
export const CHROME_ROWS = 4;

export interface SearchState {
  source: string;
  result: TreeSearch;
  /** Matched nodes with a value, in preorder (left to right). */
  matches: Int32Array;
  /** Index into matches of the one last stepped to; -1 before n/N. */
  current: number;
}

export interface FlippedView {
  /** The function whose callers (or callees, from an inverted graph) are shown. */
  frame: number;
  /** Where the graph was, to return there. */
  saved: { selected: number; zoomStack: number[]; scrollTop: number };
}

export interface ViewState {
  /** The graph as loaded. */
  base: CallTree;
  /** The graph on screen: base, or the callers view of one function. */
  tree: CallTree;
  flipped?: FlippedView;
  selected: number;
  /** Zoom roots entered with Enter, innermost last; empty: the root. */
  zoomStack: number[];
  /** First depth drawn; deep graphs scroll to keep the selection in sight. */
  scrollTop: number;
  search?: SearchState;
  /** The regex being typed after '/'; undefined when not typing. */
  prompt?: string;
  table: { open: boolean; cursor: number; top: number };
  differential: boolean;
  help: boolean;
  columns: number;
  rows: number;
  /** A one-line note for the status line ('' for none). */
  message: string;
  quit: boolean;
}

export type ViewAction =
  | { type: 'move'; to: 'parent' | 'child' | 'prev' | 'next' }
  | { type: 'zoomIn' }
  | { type: 'zoomOut' }
  | { type: 'reset' }
  | { type: 'searchStart' }
  | { type: 'searchType'; text: string }
  | { type: 'searchErase' }
  | { type: 'searchSubmit' }
  | { type: 'searchCancel' }
  | { type: 'match'; step: 1 | -1 }
  | { type: 'toggleTable' }
  | { type: 'tableMove'; by: number }
  | { type: 'tableChoose' }
  | { type: 'toggleInverted' }
  | { type: 'toggleDiff' }
  | { type: 'toggleHelp' }
  | { type: 'resize'; columns: number; rows: number }
  | { type: 'quit' };

export function initialViewState(tree: CallTree, size: { columns: number; rows: number }): ViewState {
  const state: ViewState = {
    base: tree,
    tree,
    selected: 0,
    zoomStack: [],
    scrollTop: 0,
    table: { open: false, cursor: 0, top: 0 },
    differential: tree.baseline !== undefined,
    help: false,
    columns: Math.max(1, size.columns),
    rows: Math.max(1, size.rows),
    message: '',
    quit: false,
  };
  return settle(state);
}

export function graphRows(state: Pick<ViewState, 'rows'>): number {
  return Math.max(1, state.rows - CHROME_ROWS);
}

export function tableRows(state: Pick<ViewState, 'rows'>): number {
  // The table's own header takes one of the graph's rows.
  return Math.max(1, graphRows(state) - 1);
}

export function zoomOf(state: Pick<ViewState, 'zoomStack'>): number {
  return state.zoomStack.length > 0 ? state.zoomStack[state.zoomStack.length - 1]! : 0;
}

function contains(tree: CallTree, ancestor: number, node: number): boolean {
  return node >= ancestor && node < ancestor + tree.size[ancestor]!;
}

// One layout per (tree, zoom, width, depth): a key press that changes neither is not laid out again.
const layoutCache = new WeakMap<CallTree, { key: string; layout: FlameLayout }>();

/** The frames drawn for this state: the graph at its zoom, as wide as the terminal, down to the last visible row. */
export function viewLayout(state: Pick<ViewState, 'tree' | 'zoomStack' | 'columns' | 'scrollTop' | 'rows'>): FlameLayout {
  const zoom = zoomOf(state);
  const maxDepth = state.scrollTop + graphRows(state) - 1;
  const key = `${zoom}:${state.columns}:${maxDepth}`;
  const hit = layoutCache.get(state.tree);
  if (hit && hit.key === key) return hit.layout;
  const layout = layoutFlame(state.tree, { width: state.columns, zoom, maxDepth });
  layoutCache.set(state.tree, { key, layout });
  return layout;
}

function placedIndex(layout: FlameLayout, node: number): number {
  for (let k = 0; k < layout.count; k++) if (layout.node[k] === node) return k;
  return -1;
}

const rowsCache = new WeakMap<CallTree, FunctionRow[]>();

/** The top-functions table of the graph on screen (computed once per tree). */
export function tableOf(tree: CallTree): FunctionRow[] {
  let rows = rowsCache.get(tree);
  if (!rows) {
    rows = topFunctions(tree);
    rowsCache.set(tree, rows);
  }
  return rows;
}

/** Scrolls so the selection's row is in sight. */
function scrollTo(state: ViewState, depth: number): ViewState {
  const visible = graphRows(state);
  let top = state.scrollTop;
  if (depth < top) top = depth;
  else if (depth >= top + visible) top = depth - visible + 1;
  return top === state.scrollTop ? state : { ...state, scrollTop: Math.max(0, top) };
}

/** Keeps the selection on a drawn frame (a resize or zoom can fold it away) and in sight. */
function settle(state: ViewState): ViewState {
  let s = state;
  const zoom = zoomOf(s);
  // The selection stays inside the zoomed subtree or on one of its ancestors (drawn above it).
  if (!contains(s.tree, zoom, s.selected) && !contains(s.tree, s.selected, zoom)) s = { ...s, selected: zoom };
  s = scrollTo(s, s.tree.depth[s.selected]!);
  let node = s.selected;
  while (node > 0 && placedIndex(viewLayout(s), node) < 0) node = s.tree.parent[node]!;
  if (node !== s.selected) s = scrollTo({ ...s, selected: node }, s.tree.depth[node]!);
  return s;
}

/** Zooms just enough to draw `node`: out of zooms that do not hold it, then into its ancestor (or itself) when it is too narrow. */
function reveal(state: ViewState, node: number): ViewState {
  const tree = state.tree;
  const zoomStack = state.zoomStack.filter((z) => contains(tree, z, node));
  let s: ViewState = { ...state, zoomStack, selected: node };
  s = scrollTo(s, tree.depth[node]!);
  if (placedIndex(viewLayout(s), node) >= 0) return s;
  // The widest ancestor below the zoom at which the node takes two cells or more.
  const zoom = zoomOf(s);
  let target = node;
  for (let a = tree.parent[node]!; a > zoom; a = tree.parent[a]!) {
    if ((tree.total[node]! / tree.total[a]!) * s.columns >= 2) target = a;
  }
  s = { ...s, zoomStack: [...zoomStack, target], scrollTop: scrollForZoom(s, target) };
  s = scrollTo(s, tree.depth[node]!);
  if (placedIndex(viewLayout(s), node) >= 0) return s;
  return settle({ ...s, zoomStack: [...zoomStack, node], scrollTop: scrollForZoom(s, node) });
}

function move(state: ViewState, to: 'parent' | 'child' | 'prev' | 'next'): ViewState {
  const tree = state.tree;
  const sel = state.selected;
  if (to === 'parent') return sel === 0 ? state : settle({ ...state, selected: tree.parent[sel]! });
  const layout = viewLayout(state);
  if (to === 'child') {
    // Children come heaviest first in preorder, so the first one drawn is the widest.
    for (let k = 0; k < layout.count; k++) {
      if (tree.parent[layout.node[k]!] === sel && !layout.ancestor[k]) return settle({ ...state, selected: layout.node[k]! });
    }
    // The child's row may be below the last one laid out: scroll and look again.
    const deeper = scrollTo(state, tree.depth[sel]! + 1);
    if (deeper !== state) {
      const l2 = viewLayout(deeper);
      for (let k = 0; k < l2.count; k++) if (tree.parent[l2.node[k]!] === sel) return settle({ ...deeper, selected: l2.node[k]! });
    }
    return state;
  }
  // Left and right walk the frames drawn on the selection's row, across parents.
  const depth = tree.depth[sel]!;
  let prev = -1;
  let found = false;
  for (let k = 0; k < layout.count; k++) {
    if (layout.depth[k] !== depth) continue;
    const n = layout.node[k]!;
    if (found) return to === 'next' ? settle({ ...state, selected: n }) : state;
    if (n === sel) {
      found = true;
      if (to === 'prev') return prev >= 0 ? settle({ ...state, selected: prev }) : state;
    }
    prev = n;
  }
  return state;
}

/** Where to scroll for a zoom root: its ancestors stay in sight unless its subtree needs their rows. */
function scrollForZoom(state: ViewState, zoom: number): number {
  const tree = state.tree;
  let deepest = tree.depth[zoom]!;
  const end = zoom + tree.size[zoom]!;
  for (let i = zoom + 1; i < end; i++) if (tree.depth[i]! > deepest) deepest = tree.depth[i]!;
  const overflow = deepest + 1 - graphRows(state);
  return Math.max(0, Math.min(tree.depth[zoom]! - 2, overflow));
}

function zoomIn(state: ViewState): ViewState {
  const tree = state.tree;
  const sel = state.selected;
  if (sel === zoomOf(state)) return state;
  // Enter on an ancestor row zooms out to it; on a frame below, zooms in.
  const zoomStack = state.zoomStack.filter((z) => contains(tree, z, sel) && z !== sel);
  if (sel !== 0) zoomStack.push(sel);
  return settle({ ...state, zoomStack, scrollTop: scrollForZoom(state, sel) });
}

function zoomOut(state: ViewState): ViewState {
  if (state.zoomStack.length === 0) return state;
  const zoomStack = state.zoomStack.slice(0, -1);
  const zoom = zoomStack.length > 0 ? zoomStack[zoomStack.length - 1]! : 0;
  return settle({ ...state, zoomStack, scrollTop: scrollForZoom(state, zoom) });
}

/** Smart case: a pattern with no capital letter matches either case. */
export function compileSearch(source: string): RegExp | string {
  try {
    return new RegExp(source, /[A-Z]/.test(source) ? '' : 'i');
  } catch (e) {
    return `not a regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
}

function runSearch(tree: CallTree, source: string): SearchState | string {
  const re = compileSearch(source);
  if (typeof re === 'string') return re;
  const result = searchCallTree(tree, re);
  const list: number[] = [];
  for (let i = 1; i < tree.count; i++) if (result.matched[i] && tree.total[i]! > 0) list.push(i);
  return { source, result, matches: Int32Array.from(list), current: -1 };
}

function stepMatch(state: ViewState, step: 1 | -1): ViewState {
  const search = state.search;
  if (!search) return { ...state, message: 'no search: press / to search' };
  const count = search.matches.length;
  if (count === 0) return { ...state, message: `no frame matches /${search.source}/` };
  const current = search.current < 0 ? (step > 0 ? 0 : count - 1) : (search.current + step + count) % count;
  return reveal({ ...state, search: { ...search, current }, message: '' }, search.matches[current]!);
}

function submitSearch(state: ViewState): ViewState {
  const source = state.prompt ?? '';
  const s: ViewState = { ...state, prompt: undefined, message: '' };
  if (source === '') return { ...s, search: undefined };
  const search = runSearch(s.tree, source);
  if (typeof search === 'string') return { ...s, message: search };
  // Jump to the first match, as a pager's search does.
  return stepMatch({ ...s, search }, 1);
}

function toggleInverted(state: ViewState): ViewState {
  if (state.flipped) {
    const { saved } = state.flipped;
    const back: ViewState = { ...state, tree: state.base, flipped: undefined, ...saved, table: { ...state.table, cursor: 0, top: 0 } };
    return settle(withSearchOn(back));
  }
  if (state.selected === 0) return { ...state, message: 'select a function first: i shows its callers' };
  const frame = state.tree.frame[state.selected]!;
  const flipped: ViewState = {
    ...state,
    tree: functionView(state.tree, frame),
    flipped: { frame, saved: { selected: state.selected, zoomStack: state.zoomStack, scrollTop: state.scrollTop } },
    selected: 1,
    zoomStack: [],
    scrollTop: 0,
    table: { ...state.table, cursor: 0, top: 0 },
    message: '',
  };
  return settle(withSearchOn(flipped));
}

/** The active search, run again over the tree now on screen. */
function withSearchOn(state: ViewState): ViewState {
  if (!state.search) return state;
  const search = runSearch(state.tree, state.search.source);
  return typeof search === 'string' ? { ...state, search: undefined } : { ...state, search };
}

function moveTable(state: ViewState, by: number): ViewState {
  const count = tableOf(state.tree).length;
  if (count === 0) return state;
  const cursor = Math.min(count - 1, Math.max(0, state.table.cursor + by));
  const visible = tableRows(state);
  let top = state.table.top;
  if (cursor < top) top = cursor;
  else if (cursor >= top + visible) top = cursor - visible + 1;
  return { ...state, table: { ...state.table, cursor, top } };
}

function chooseRow(state: ViewState): ViewState {
  const row = tableOf(state.tree)[state.table.cursor];
  if (!row) return state;
  const node = heaviestNodeOf(state.tree, row.frame);
  const closed: ViewState = { ...state, table: { ...state.table, open: false }, message: '' };
  return node < 0 ? closed : reveal(closed, node);
}

export function reduce(state: ViewState, action: ViewAction): ViewState {
  switch (action.type) {
    case 'move':
      return move({ ...state, message: '' }, action.to);
    case 'zoomIn':
      return zoomIn({ ...state, message: '' });
    case 'zoomOut':
      return zoomOut({ ...state, message: '' });
    case 'reset':
      return settle({ ...state, zoomStack: [], scrollTop: 0, message: '' });
    case 'searchStart':
      return { ...state, prompt: state.search?.source ?? '', message: '' };
    case 'searchType':
      return state.prompt === undefined ? state : { ...state, prompt: state.prompt + action.text.replace(/[\r\n]/g, '') };
    case 'searchErase':
      return state.prompt === undefined ? state : { ...state, prompt: state.prompt.slice(0, -1) };
    case 'searchSubmit':
      return state.prompt === undefined ? state : submitSearch(state);
    case 'searchCancel':
      return { ...state, prompt: undefined };
    case 'match':
      return stepMatch(state, action.step);
    case 'toggleTable':
      return { ...state, table: { ...state.table, open: !state.table.open }, help: false, message: '' };
    case 'tableMove':
      return moveTable(state, action.by);
    case 'tableChoose':
      return chooseRow(state);
    case 'toggleInverted':
      return toggleInverted({ ...state, message: '' });
    case 'toggleDiff':
      if (!state.base.baseline) return { ...state, message: 'no baseline: start with --baseline <file> to compare' };
      return { ...state, differential: !state.differential, message: '' };
    case 'toggleHelp':
      return { ...state, help: !state.help };
    case 'resize': {
      const columns = Math.max(1, action.columns);
      const rows = Math.max(1, action.rows);
      if (columns === state.columns && rows === state.rows) return state;
      return settle(moveTable({ ...state, columns, rows }, 0));
    }
    case 'quit':
      return { ...state, quit: true };
  }
}
