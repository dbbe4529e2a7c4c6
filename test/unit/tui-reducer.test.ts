// The interactive flame view's reducer, key map, callers view and table,
// driven directly (no terminal): every action, over small profiles whose
// shapes make the expected selection obvious.
import { describe, expect, it } from 'vitest';
import { buildCallTree, buildDiffTree, nodePath, type CallTree } from '../../src/query/call-tree.js';
import { functionView } from '../../src/render/tui/function-view.js';
import { keyAction, reduceKey } from '../../src/render/tui/key-map.js';
import { heaviestNodeOf, topFunctions } from '../../src/render/tui/top-functions.js';
import { graphRows, initialViewState, reduce, tableOf, viewLayout, zoomOf, type ViewAction, type ViewState } from '../../src/render/tui/view-state.js';
import { profileOf } from './flame-test-profiles.js';

// main → a (75: x 50, y 25), b (20: x 20), c 4, d 1. x has two callers.
const tree = buildCallTree({ profile: profileOf({ 'main;a;x': 50, 'main;a;y': 25, 'main;b;x': 20, 'main;c': 4, 'main;d': 1 }), typeIndex: 0 });

function node(t: CallTree, path: string): number {
  for (let i = 0; i < t.count; i++) if (nodePath(t, i).join(';') === path) return i;
  throw new Error(`no node ${path}`);
}
const path = (s: ViewState, n = s.selected): string => nodePath(s.tree, n).join(';');
const run = (s: ViewState, ...actions: ViewAction[]): ViewState => actions.reduce(reduce, s);
const start = (t = tree, columns = 80, rows = 24): ViewState => initialViewState(t, { columns, rows });
const select = (s: ViewState, p: string): ViewState => ({ ...s, selected: node(s.tree, p) });
function placed(s: ViewState, n: number): boolean {
  const l = viewLayout(s);
  for (let k = 0; k < l.count; k++) if (l.node[k] === n) return true;
  return false;
}

describe('view state: moving', () => {
  it('starts on the root, unzoomed, sized to the terminal', () => {
    const s = start();
    expect([s.selected, s.zoomStack, s.scrollTop, s.columns, s.rows, s.differential, s.help, s.table.open]).toEqual([0, [], 0, 80, 24, false, false, false]);
    expect(graphRows(s)).toBe(20);
  });

  it('goes down to the heaviest callee, across a row with left/right, and back up', () => {
    let s = run(start(), { type: 'move', to: 'child' }, { type: 'move', to: 'child' });
    expect(path(s)).toBe('main;a');
    s = run(s, { type: 'move', to: 'next' });
    expect(path(s)).toBe('main;b');
    s = run(s, { type: 'move', to: 'next' }, { type: 'move', to: 'next' });
    expect(path(s)).toBe('main;d');
    expect(path(run(s, { type: 'move', to: 'next' }))).toBe('main;d'); // the last frame on the row stays
    s = run(s, { type: 'move', to: 'prev' }, { type: 'move', to: 'prev' }, { type: 'move', to: 'prev' });
    expect(path(s)).toBe('main;a');
    expect(path(run(s, { type: 'move', to: 'prev' }))).toBe('main;a');
    // Right on the x row crosses from a's callee to b's.
    s = run(s, { type: 'move', to: 'child' }, { type: 'move', to: 'next' }, { type: 'move', to: 'next' });
    expect(path(s)).toBe('main;b;x');
    s = run(s, { type: 'move', to: 'parent' }, { type: 'move', to: 'parent' }, { type: 'move', to: 'parent' });
    expect(s.selected).toBe(0);
    expect(run(s, { type: 'move', to: 'parent' }).selected).toBe(0);
    expect(run(select(start(), 'main;c'), { type: 'move', to: 'child' }).selected).toBe(node(tree, 'main;c')); // a leaf has no callee
  });
});

describe('view state: zoom', () => {
  it('zooms into the selection, out one step at a time, and resets', () => {
    let s = run(select(start(), 'main;a'), { type: 'zoomIn' });
    expect(s.zoomStack).toEqual([node(tree, 'main;a')]);
    const layout = viewLayout(s);
    expect(layout.zoom).toBe(node(tree, 'main;a'));
    // The zoomed frame spans the whole width; its callees share it 50:25.
    const x = node(tree, 'main;a;x');
    for (let k = 0; k < layout.count; k++) if (layout.node[k] === x) expect(layout.width[k]).toBe(Math.round((80 * 50) / 75));
    s = run(select(s, 'main;a;x'), { type: 'zoomIn' });
    expect(s.zoomStack.map((z) => path(s, z))).toEqual(['main;a', 'main;a;x']);
    expect(run(s, { type: 'zoomIn' })).toEqual(s); // already the zoom root
    const out = run(s, { type: 'zoomOut' });
    expect(out.zoomStack.map((z) => path(out, z))).toEqual(['main;a']);
    expect(path(out)).toBe('main;a;x'); // the selection stays where it was
    expect(run(out, { type: 'zoomOut' }, { type: 'zoomOut' }).zoomStack).toEqual([]);
    expect(run(s, { type: 'reset' }).zoomStack).toEqual([]);
  });

  it('Enter on an ancestor row above a zoom zooms out to it', () => {
    let s = run(select(start(), 'main;a;x'), { type: 'zoomIn' });
    s = run(s, { type: 'move', to: 'parent' });
    expect(path(s)).toBe('main;a');
    s = run(s, { type: 'zoomIn' });
    expect(s.zoomStack.map((z) => path(s, z))).toEqual(['main;a']);
  });

  it('moving out of a zoom by left/right is impossible: other subtrees are not drawn', () => {
    const s = run(select(start(), 'main;a'), { type: 'zoomIn' }, { type: 'move', to: 'next' });
    expect(path(s)).toBe('main;a');
  });
});

describe('view state: search', () => {
  it('types a regex, jumps to the first match, steps with n/N, and shows the matched share', () => {
    let s = run(start(), { type: 'searchStart' }, { type: 'searchType', text: 'x' });
    expect(s.prompt).toBe('x');
    s = run(s, { type: 'searchType', text: 'q' }, { type: 'searchErase' }, { type: 'searchSubmit' });
    expect(s.prompt).toBeUndefined();
    expect(s.search?.source).toBe('x');
    expect(s.search?.result.share).toBeCloseTo(0.7);
    expect(Array.from(s.search!.matches).map((n) => path(s, n))).toEqual(['main;a;x', 'main;b;x']);
    expect(path(s)).toBe('main;a;x');
    s = run(s, { type: 'match', step: 1 });
    expect(path(s)).toBe('main;b;x');
    expect(path(run(s, { type: 'match', step: 1 }))).toBe('main;a;x'); // wraps
    expect(path(run(s, { type: 'match', step: -1 }))).toBe('main;a;x');
    expect(run(s, { type: 'searchStart' }).prompt).toBe('x'); // the last pattern, to edit
  });

  it('is smart-case, reports a bad regex and no match, clears on an empty pattern, cancels with Esc', () => {
    const searchFor = (p: string, s = start()): ViewState => run(s, { type: 'searchStart' }, { type: 'searchType', text: p }, { type: 'searchSubmit' });
    expect(searchFor('MAIN').search?.result.matchedNodes).toBe(0);
    expect(searchFor('MAIN').message).toBe('no frame matches /MAIN/');
    expect(searchFor('MAIN').search?.result.share).toBe(0);
    expect(searchFor('mAIn').search?.result.matchedNodes).toBe(0);
    expect(searchFor('main').search?.result.share).toBe(1);
    const bad = searchFor('(');
    expect(bad.message).toMatch(/^not a regular expression/);
    expect(bad.search).toBeUndefined();
    expect(run(searchFor('x'), { type: 'searchStart' }, { type: 'searchErase' }, { type: 'searchSubmit' }).search).toBeUndefined();
    const cancelled = run(start(), { type: 'searchStart' }, { type: 'searchType', text: 'y' }, { type: 'searchCancel' });
    expect(cancelled.prompt).toBeUndefined();
    expect(cancelled.search).toBeUndefined();
    expect(run(start(), { type: 'match', step: 1 }).message).toMatch(/no search/);
    // Typing without a prompt does nothing.
    expect(run(start(), { type: 'searchType', text: 'x' }, { type: 'searchSubmit' }, { type: 'searchErase' })).toEqual(start());
  });

  it('zooms out of a zoom that does not hold the next match', () => {
    let s = run(select(start(), 'main;a'), { type: 'zoomIn' });
    s = run(s, { type: 'searchStart' }, { type: 'searchType', text: 'x' }, { type: 'searchSubmit' }, { type: 'match', step: 1 });
    expect(path(s)).toBe('main;b;x');
    expect(s.zoomStack).toEqual([]);
  });
});

describe('view state: table, callers view, colours, help, size, quit', () => {
  it('lists functions by self, moves a clamped cursor, and Enter selects the function in the graph', () => {
    let s = run(start(), { type: 'toggleTable' });
    expect(s.table.open).toBe(true);
    const names = tableOf(s.tree).map((r) => s.tree.frames[r.frame]!.name);
    expect(names).toEqual(['x', 'y', 'c', 'd', 'main', 'a', 'b']);
    s = run(s, { type: 'tableMove', by: 1 });
    expect(s.table.cursor).toBe(1);
    expect(run(s, { type: 'tableMove', by: -10 }).table.cursor).toBe(0);
    expect(run(s, { type: 'tableMove', by: 100 }).table.cursor).toBe(6);
    s = run(s, { type: 'tableChoose' });
    expect(s.table.open).toBe(false);
    expect(path(s)).toBe('main;a;y');
    expect(run(s, { type: 'toggleTable' }, { type: 'toggleTable' }).table.open).toBe(false);
  });

  it('a chosen function too narrow to draw is zoomed into view', () => {
    const wide = buildCallTree({ profile: profileOf({ 'main;big': 9990, 'main;small;tiny': 10 }), typeIndex: 0 });
    let s = start(wide);
    expect(placed(s, node(wide, 'main;small;tiny'))).toBe(false);
    const row = tableOf(wide).findIndex((r) => wide.frames[r.frame]!.name === 'tiny');
    s = run(s, { type: 'toggleTable' }, { type: 'tableMove', by: row }, { type: 'tableChoose' });
    expect(path(s)).toBe('main;small;tiny');
    expect(placed(s, s.selected)).toBe(true);
    expect(zoomOf(s)).not.toBe(0);
  });

  it('i shows the callers of the selected function, and again returns where it was', () => {
    let s = run(select(start(), 'main;a;x'), { type: 'toggleInverted' });
    expect(s.flipped?.frame).toBe(tree.frame[node(tree, 'main;a;x')]);
    expect(s.selected).toBe(1);
    expect(path(s)).toBe('x');
    expect(s.tree.total[1]).toBe(70);
    expect(path(s, node(s.tree, 'x;a;main'))).toBe('x;a;main');
    expect(s.tree.total[node(s.tree, 'x;b')]).toBe(20);
    s = run(s, { type: 'toggleInverted' });
    expect(s.tree).toBe(tree);
    expect(path(s)).toBe('main;a;x');
    expect(run(start(), { type: 'toggleInverted' }).message).toMatch(/select a function/);
  });

  it('d toggles differential colours only with a baseline', () => {
    expect(run(start(), { type: 'toggleDiff' }).message).toMatch(/no baseline/);
    const diff = buildDiffTree({ profile: profileOf({ 'main;a': 60, 'main;b': 40 }), typeIndex: 0 }, { profile: profileOf({ 'main;a': 30, 'main;b': 70 }), typeIndex: 0 });
    const s = start(diff);
    expect(s.differential).toBe(true);
    expect(run(s, { type: 'toggleDiff' }).differential).toBe(false);
    expect(run(s, { type: 'toggleDiff' }, { type: 'toggleDiff' }).differential).toBe(true);
  });

  it('? toggles the help; q quits', () => {
    expect(run(start(), { type: 'toggleHelp' }).help).toBe(true);
    expect(run(start(), { type: 'toggleHelp' }, { type: 'toggleHelp' }).help).toBe(false);
    expect(run(start(), { type: 'quit' }).quit).toBe(true);
  });

  it('a narrower terminal folds a thin selection into its caller; a shorter one scrolls to keep it in sight', () => {
    let s = run(select(start(), 'main;d'), { type: 'resize', columns: 20, rows: 24 });
    expect(s.columns).toBe(20);
    expect(path(s)).toBe('main');
    const deep = buildCallTree({ profile: profileOf({ 'f0;f1;f2;f3;f4;f5;f6;f7': 1 }), typeIndex: 0 });
    s = start(deep, 80, 7); // three graph rows
    for (let i = 0; i < 6; i++) s = run(s, { type: 'move', to: 'child' });
    expect(path(s)).toBe('f0;f1;f2;f3;f4;f5');
    expect(s.scrollTop).toBe(4);
    s = run(s, { type: 'resize', columns: 80, rows: 5 }); // one graph row
    expect(s.scrollTop).toBe(6);
    expect(run(s, { type: 'resize', columns: 80, rows: 5 })).toBe(s);
  });
});

describe('key map', () => {
  const graph = start();
  it('maps graph keys', () => {
    const cases: Array<[string, object, ViewAction['type'], unknown?]> = [
      ['', { upArrow: true }, 'move', 'parent'], ['k', {}, 'move', 'parent'],
      ['', { downArrow: true }, 'move', 'child'], ['j', {}, 'move', 'child'],
      ['', { leftArrow: true }, 'move', 'prev'], ['h', {}, 'move', 'prev'],
      ['', { rightArrow: true }, 'move', 'next'], ['l', {}, 'move', 'next'],
      ['', { return: true }, 'zoomIn'], ['', { escape: true }, 'zoomOut'], ['', { backspace: true }, 'zoomOut'], ['', { delete: true }, 'zoomOut'],
      ['r', {}, 'reset'], ['/', {}, 'searchStart'], ['n', {}, 'match', 1], ['N', {}, 'match', -1], ['', { tab: true }, 'toggleTable'],
      ['i', {}, 'toggleInverted'], ['d', {}, 'toggleDiff'], ['?', {}, 'toggleHelp'], ['q', {}, 'quit'], ['c', { ctrl: true }, 'quit'],
    ];
    for (const [input, key, type, arg] of cases) {
      const a = keyAction(input, key, graph) as Record<string, unknown>;
      expect(a?.type, `${input} ${JSON.stringify(key)}`).toBe(type);
      if (arg !== undefined) expect(a.to ?? a.step).toBe(arg);
    }
    expect(keyAction('z', {}, graph)).toBeUndefined();
  });

  it('types into the search prompt, where q and letters are text', () => {
    const typing = { ...graph, prompt: 'ab' };
    expect(keyAction('q', {}, typing)).toEqual({ type: 'searchType', text: 'q' });
    expect(keyAction('', { return: true }, typing)?.type).toBe('searchSubmit');
    expect(keyAction('', { escape: true }, typing)?.type).toBe('searchCancel');
    expect(keyAction('', { delete: true }, typing)?.type).toBe('searchErase');
    expect(keyAction('c', { ctrl: true }, typing)?.type).toBe('quit');
  });

  it('in the table, arrows move the cursor and Enter chooses; in the help, only ?, Esc and q act', () => {
    const table = run(graph, { type: 'toggleTable' });
    expect(keyAction('j', {}, table)).toEqual({ type: 'tableMove', by: 1 });
    expect(keyAction('', { upArrow: true }, table)).toEqual({ type: 'tableMove', by: -1 });
    expect(keyAction('', { pageDown: true }, table)).toEqual({ type: 'tableMove', by: 19 });
    expect(keyAction('', { return: true }, table)?.type).toBe('tableChoose');
    expect(keyAction('', { tab: true }, table)?.type).toBe('toggleTable');
    const help = run(graph, { type: 'toggleHelp' });
    expect(keyAction('j', {}, help)).toBeUndefined();
    expect(keyAction('', { escape: true }, help)?.type).toBe('toggleHelp');
    expect(keyAction('q', {}, help)?.type).toBe('quit');
  });

  it('reads a burst of typed keys against the state each one leaves', () => {
    const s = reduceKey(graph, { type: 'key', input: '/x\r', key: {} });
    expect(s.search?.source).toBe('x');
    expect(path(s)).toBe('main;a;x');
    expect(reduceKey(s, { type: 'key', input: 'n', key: {} }).selected).toBe(node(tree, 'main;b;x'));
  });
});

describe('callers view and top functions under recursion', () => {
  const rec = buildCallTree({ profile: profileOf({ 'main;r;r;leaf': 10, 'main;r': 5, 'other;r;leaf': 5 }), typeIndex: 0 });
  it('counts a recursive function once per sample', () => {
    const r = rec.frame[node(rec, 'main;r')]!;
    const callers = functionView(rec, r);
    expect(callers.total[0]).toBe(20);
    expect(nodePath(callers, 1)).toEqual(['r']);
    expect(callers.total[node(callers, 'r;main')]).toBe(15);
    expect(callers.total[node(callers, 'r;other')]).toBe(5);
    const rows = topFunctions(rec);
    const rRow = rows.find((x) => rec.frames[x.frame]!.name === 'r')!;
    expect([rRow.self, rRow.total]).toEqual([5, 20]);
    expect(rec.frames[rows[0]!.frame]!.name).toBe('leaf');
    expect(heaviestNodeOf(rec, r)).toBe(node(rec, 'main;r'));
    expect(heaviestNodeOf(rec, 999)).toBe(-1);
  });

  it('keeps the baseline beside the current values in a differential callers view', () => {
    const diff = buildDiffTree({ profile: profileOf({ 'main;a;x': 60, 'main;b': 40 }), typeIndex: 0 }, { profile: profileOf({ 'main;a;x': 20, 'main;c;x': 10, 'main;b': 70 }), typeIndex: 0 });
    const callers = functionView(diff, diff.frame[node(diff, 'main;a;x')]!);
    expect(callers.total[1]).toBe(60);
    expect(callers.baseline?.total[1]).toBe(30);
    expect(callers.baseline?.total[node(callers, 'x;c')]).toBe(10);
  });
});
