// The interactive view's graph as lines of text: the rows of a flame layout
// from the first scrolled-to depth, each frame a run of cells with its label
// cut to fit, the selection and search matches marked. Labels come from
// flame-text.ts and fills from the theme, so the static and interactive
// graphs read the same. Without colour, frames end in "|" and pad with "-"
// as in the static text; the selection pads with "=" and starts with ">",
// matches pad with "*". It must not place frames (flame-layout.ts does).

import { maxSelfDelta, nodeChange, type CallTree } from '../../query/call-tree.js';
import type { FlameLayout } from '../flame-layout.js';
import { fitLabel, type Rgb } from '../flame-style.js';
import { frameLabels } from '../flame-text.js';
import { fills, type TuiTheme } from './theme.js';

export interface IcicleOptions {
  theme: TuiTheme;
  selected: number;
  /** Search matches, indexed by node. */
  highlight?: Uint8Array;
  differential: boolean;
  /** First depth drawn, and how many rows. */
  fromDepth: number;
  rows: number;
  /** The root's label (what the whole graph is). */
  rootLabel: string;
}

// The colour scale of a differential tree spans all of it: computed once per tree, not per key press.
const maxDeltaCache = new WeakMap<CallTree, number>();
function maxDeltaOf(tree: CallTree): number {
  let v = maxDeltaCache.get(tree);
  if (v === undefined) {
    v = maxSelfDelta(tree);
    maxDeltaCache.set(tree, v);
  }
  return v;
}

export function renderIcicleRows(tree: CallTree, layout: FlameLayout, o: IcicleOptions): string[] {
  const { theme } = o;
  const differential = o.differential && tree.baseline !== undefined;
  const maxDelta = differential ? maxDeltaOf(tree) : 0;
  const lines: string[][] = Array.from({ length: o.rows }, () => []);
  const cursor = new Int32Array(o.rows);
  const drawn = new Int32Array(o.rows);
  for (let k = 0; k < layout.count; k++) {
    const r = layout.depth[k]! - o.fromDepth;
    if (r < 0 || r >= o.rows) continue;
    const node = layout.node[k]!;
    const x = layout.x[k]!;
    const w = layout.width[k]!;
    const line = lines[r]!;
    if (x > cursor[r]!) line.push(' '.repeat(x - cursor[r]!));
    cursor[r] = x + w;
    const isSelected = node === o.selected;
    const isMatch = o.highlight?.[node] === 1;
    const [full, short] = node === 0 ? [o.rootLabel, 'all'] : frameLabels(tree, node, differential);
    if (!theme.colour) {
      const room = w - 1 - (isSelected ? 1 : 0);
      const label = full.length <= room ? full : fitLabel(short, room);
      if (w === 1) line.push(isSelected ? '>' : '|');
      else line.push(`${isSelected ? '>' : ''}${label.padEnd(room, isSelected ? '=' : isMatch ? '*' : '-')}|`);
      continue;
    }
    const label = (full.length <= w ? full : fitLabel(short, w)).padEnd(w, ' ');
    const alternate = drawn[r]! % 2 === 1;
    drawn[r]!++;
    let fill: Rgb;
    if (isMatch) fill = fills.match;
    else if (node === 0 || layout.ancestor[k]) fill = fills.root;
    else if (differential) fill = fills.diff(nodeChange(tree, node).selfDelta, maxDelta);
    else {
      const f = tree.frames[tree.frame[node]!]!;
      fill = fills.kind(f.kind, f.name, alternate);
    }
    line.push(isSelected ? theme.selected(fill, label) : theme.frame(fill, label));
  }
  return lines.map((parts) => parts.join('').replace(/ +$/, ''));
}
