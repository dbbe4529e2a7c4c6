// The text of each part of the interactive flame view, as lines no wider
// than the terminal: the header (what is shown, zoom, search and its
// matched share), the graph rows, the status lines (the selected frame's
// full name, module, self and total with percentages), the top-functions
// table and the help. Pure functions of the view state, so the ink
// components stay thin and the benchmark can time a whole frame without a
// terminal. It must not change state or read keys.

import { nodeChange, type CallTree } from '../../query/call-tree.js';
import { fitLabel, formatDelta, formatShare, formatValue, printable } from '../flame-style.js';
import { renderIcicleRows } from './icicle-rows.js';
import type { TuiTheme } from './theme.js';
import { graphRows, tableOf, tableRows, viewLayout, zoomOf, type ViewState } from './view-state.js';

/** Cuts plain text to the width (the colour goes on after cutting). */
function cut(text: string, width: number): string {
  return text.length <= width ? text : fitLabel(text, width);
}

function nameOf(tree: CallTree, node: number): string {
  return node === 0 ? 'all' : printable(tree.frames[tree.frame[node]!]!.name);
}

function share(v: number, whole: number): string {
  return formatShare(whole > 0 ? v / whole : 0);
}

/** Which function the callers view is of, and which way it looks. */
function flippedLabel(state: ViewState): string {
  if (!state.flipped) return '';
  const name = printable(state.base.frames[state.flipped.frame]!.name);
  return state.base.inverted ? `callees of ${name}` : `callers of ${name}`;
}

export function rootLabel(state: ViewState): string {
  const t = state.tree.sampleType;
  const what = state.flipped ? flippedLabel(state) : `all: ${formatValue(state.tree.total[0]!, t.unit)} ${t.type}${state.tree.inverted ? ' (callers view)' : ''}`;
  return what;
}

export function headerLine(state: ViewState, theme: TuiTheme): string {
  const t = state.base.sampleType;
  const parts = [`profctl flame · ${formatValue(state.base.total[0]!, t.unit)} ${t.type}`];
  if (state.flipped) parts.push(flippedLabel(state));
  const zoom = zoomOf(state);
  if (zoom !== 0) parts.push(`zoom: ${nameOf(state.tree, zoom)} (${share(state.tree.total[zoom]!, state.base.total[0]!)})`);
  const s = state.search;
  if (s) {
    const at = s.current >= 0 ? ` ${s.current + 1}/${s.matches.length}` : '';
    parts.push(`/${s.source}/ matched ${formatShare(state.flipped ? s.result.matchedValue / state.base.total[0]! : s.result.share)} of ${t.type} (${s.result.matchedNodes} frames)${at}`);
  }
  if (state.base.baseline) parts.push(state.differential ? 'diff colours (d)' : 'kind colours (d)');
  if (state.table.open) parts.push('top functions');
  return theme.bar(cut(parts.join(' · '), state.columns).padEnd(state.columns));
}

export function graphLines(state: ViewState, theme: TuiTheme): string[] {
  const layout = viewLayout(state);
  return renderIcicleRows(state.tree, layout, {
    theme,
    selected: state.selected,
    ...(state.search ? { highlight: state.search.result.matched } : {}),
    differential: state.differential,
    fromDepth: state.scrollTop,
    rows: graphRows(state),
    rootLabel: rootLabel(state),
  });
}

/** Name, then module · self · total (· change) of a node, or of a table row's function. */
function describe(state: ViewState, node: number): [string, string] {
  const tree = state.tree;
  const unit = tree.sampleType.unit;
  const whole = state.base.total[0]!;
  const f = node === 0 ? undefined : tree.frames[tree.frame[node]!];
  const parts = [
    ...(f?.module ? [`module: ${printable(f.module)}`] : []),
    `self: ${formatValue(tree.self[node]!, unit)} (${share(tree.self[node]!, whole)})`,
    `total: ${formatValue(tree.total[node]!, unit)} (${share(tree.total[node]!, whole)})`,
  ];
  if (tree.baseline && state.differential) {
    const c = nodeChange(tree, node);
    parts.push(`self ${formatDelta(c.selfDelta)}, total ${formatDelta(c.totalDelta)} vs baseline`);
  }
  return [nameOf(tree, node), parts.join(' · ')];
}

export function statusLines(state: ViewState, theme: TuiTheme): [string, string] {
  const w = state.columns;
  let first: string;
  let second: string;
  if (state.table.open) {
    const row = tableOf(state.tree)[state.table.cursor];
    first = row ? printable(state.tree.frames[row.frame]!.name) : '';
    second = row ? `Enter shows it in the graph · ${state.table.cursor + 1}/${tableOf(state.tree).length}` : 'no functions';
  } else {
    [first, second] = describe(state, state.selected);
  }
  if (state.prompt !== undefined) second = `/${state.prompt}_   (Enter search, Esc cancel)`;
  else if (state.message !== '') return [theme.emphasis(cut(first, w)), theme.warn(cut(state.message, w))];
  const hint = '  ? keys · q quit';
  const body = second.length + hint.length <= w ? second + ' '.repeat(w - second.length - hint.length) + theme.dim(hint) : cut(second, w);
  return [theme.emphasis(cut(first, w)), body];
}

const columnsNormal = ['SELF', 'SELF%', 'TOTAL', 'TOTAL%'];

export function tableLines(state: ViewState, theme: TuiTheme): string[] {
  const tree = state.tree;
  const rows = tableOf(tree);
  const unit = tree.sampleType.unit;
  const whole = state.base.total[0]!;
  const diff = tree.baseline !== undefined && state.differential;
  const baseWhole = tree.baseline?.totalValue ?? 0;
  const cells = rows.slice(state.table.top, state.table.top + tableRows(state)).map((r) => {
    const c = [formatValue(r.self, unit), share(r.self, whole), formatValue(r.total, unit), share(r.total, whole)];
    if (diff) c.push(formatDelta((whole > 0 ? r.self / whole : 0) - (baseWhole > 0 ? r.baseSelf / baseWhole : 0)));
    return c;
  });
  const heads = diff ? [...columnsNormal, 'ΔSELF'] : columnsNormal;
  const widths = heads.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const numbers = (c: string[]): string => c.map((v, i) => v.padStart(widths[i]!)).join('  ');
  const w = state.columns;
  const lines = [theme.emphasis(cut(`  ${numbers(heads)}  FUNCTION`, w))];
  cells.forEach((c, k) => {
    const i = state.table.top + k;
    const f = tree.frames[rows[i]!.frame]!;
    const text = cut(`${i === state.table.cursor ? '>' : ' '} ${numbers(c)}  ${printable(f.name)}${f.module ? `  (${printable(f.module)})` : ''}`, w);
    lines.push(i === state.table.cursor ? theme.cursor(text.padEnd(w)) : text);
  });
  while (lines.length < graphRows(state)) lines.push('');
  return lines;
}

const helpText: Array<[string, string]> = [
  ['←/h  →/l', 'previous / next frame on the same row'],
  ['↑/k  ↓/j', 'caller (parent) / heaviest callee (child)'],
  ['Enter', 'zoom in (in the table: show that function in the graph)'],
  ['Esc  Backspace', 'zoom out one step'],
  ['r', 'reset the zoom'],
  ['/', 'search names and modules by regex (all lower case: any case)'],
  ['n  N', 'next / previous match'],
  ['Tab', 'top functions table (↑/↓, PgUp/PgDn, Enter)'],
  ['i', 'callers of the selected function (again: back)'],
  ['d', 'diff colours on/off (--baseline): red grew, blue shrank'],
  ['?', 'this help'],
  ['q  Ctrl-C', 'quit'],
];

export function helpLines(state: ViewState, theme: TuiTheme): string[] {
  const w = state.columns;
  const keyWidth = Math.max(...helpText.map(([k]) => k.length));
  const lines = [theme.emphasis(cut('Keys', w)), ''];
  for (const [k, what] of helpText) lines.push(cut(`  ${k.padEnd(keyWidth)}  ${what}`, w));
  lines.push('', cut('  colours: native red-yellow, kernel aqua, JIT green, unknown grey;', w), cut('  search matches magenta; the selection is drawn on black', w), cut('  press ? or Esc to close', w));
  const rows = graphRows(state);
  const out = lines.slice(0, rows);
  while (out.length < rows) out.push('');
  return out;
}

/** The whole screen, top to bottom: what the ink view draws, as plain lines. */
export function screenLines(state: ViewState, theme: TuiTheme): string[] {
  const body = state.help ? helpLines(state, theme) : state.table.open ? tableLines(state, theme) : graphLines(state, theme);
  return [headerLine(state, theme), ...body, ...statusLines(state, theme)];
}
