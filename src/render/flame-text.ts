// Draws a flame layout as a text icicle graph: one row per depth, root on
// top, each frame a run of cells with its label cut to fit. With colour on,
// frames are filled by kind (or by change in share for a differential tree)
// and neighbours alternate shades; with colour off, each frame ends in "|"
// and is padded with "-", so frames stay readable in a log or a pasted note.
// It must not place frames (flame-layout.ts does) nor decide whether colour
// is on (the chalk instance it is given does).

import type { ChalkInstance } from 'chalk';
import { nodeChange, pathsOnlyInBaseline, maxSelfDelta, nodePath, type CallTree } from '../query/call-tree.js';
import type { FlameLayout } from './flame-layout.js';
import { diffColor, diffLegend, fitLabel, formatDelta, formatValue, kindColor, kindLegend, matchColor, printable, type Rgb } from './flame-style.js';

export interface FlameTextOptions {
  /** The configured chalk (colors()); level 0 draws plain text. */
  chalk: ChalkInstance;
  /** Nodes to highlight (search matches), indexed by node. */
  highlight?: Uint8Array;
  /** Colour by change in share; default: whenever the tree has a baseline. */
  differential?: boolean;
}

function shortShare(share: number): string {
  const pct = share * 100;
  return `${pct >= 10 || pct === 0 ? pct.toFixed(0) : pct.toFixed(1)}%`;
}

/** The full label and a shorter fallback (name only) of a node, for cutting to fit. */
export function frameLabels(tree: CallTree, node: number, differential: boolean): [string, string] {
  const whole = tree.total[0]!;
  if (node === 0) {
    const t = tree.sampleType;
    const full = `all: ${formatValue(whole, t.unit)} ${t.type}${tree.inverted ? ' (callers view)' : ''}`;
    return [full, 'all'];
  }
  const name = printable(tree.frames[tree.frame[node]!]!.name);
  const share = whole > 0 ? tree.total[node]! / whole : 0;
  let suffix = ` ${shortShare(share)}`;
  if (differential && tree.baseline) {
    const d = nodeChange(tree, node).selfDelta;
    if (Math.abs(d) >= 0.0001) suffix += ` ${formatDelta(d)}`;
  }
  return [name + suffix, name];
}

function fillColor(tree: CallTree, node: number, alternate: boolean, differential: boolean, maxDelta: number): Rgb {
  if (node === 0) return kindColor('root', 'all');
  if (differential) return diffColor(nodeChange(tree, node).selfDelta, maxDelta);
  const f = tree.frames[tree.frame[node]!]!;
  return kindColor(f.kind, f.name, alternate);
}

/** The rows of the graph, top (the root, or the zoom's ancestors) first, without line ends. */
export function renderFlameText(tree: CallTree, layout: FlameLayout, options: FlameTextOptions): string[] {
  const chalk = options.chalk;
  const colour = chalk.level > 0;
  const differential = (options.differential ?? true) && tree.baseline !== undefined;
  const maxDelta = differential ? maxSelfDelta(tree) : 0;
  const rows: string[][] = Array.from({ length: layout.rows }, () => []);
  const cursor = new Int32Array(layout.rows);
  const drawn = new Int32Array(layout.rows);
  for (let k = 0; k < layout.count; k++) {
    const node = layout.node[k]!;
    const d = layout.depth[k]!;
    const x = layout.x[k]!;
    const w = layout.width[k]!;
    const row = rows[d]!;
    if (x > cursor[d]!) row.push(' '.repeat(x - cursor[d]!));
    cursor[d] = x + w;
    const [full, short] = frameLabels(tree, node, differential);
    const room = colour ? w : w - 1;
    const label = full.length <= room ? full : fitLabel(short, room);
    if (!colour) {
      row.push(w === 1 ? '|' : `${label.padEnd(w - 1, '-')}|`);
      continue;
    }
    const alternate = drawn[d]! % 2 === 1;
    drawn[d]!++;
    let fill: Rgb;
    if (options.highlight?.[node]) fill = matchColor;
    else if (layout.ancestor[k]) fill = kindColor('root', 'all');
    else fill = fillColor(tree, node, alternate, differential, maxDelta);
    row.push(chalk.bgRgb(fill[0], fill[1], fill[2]).black(label.padEnd(w, ' ')));
  }
  return rows.map((r) => r.join('').replace(/ +$/, ''));
}

/** Notes for stderr: what the graph shows, what was folded, and (differential) what only the baseline had. */
export function describeFlame(tree: CallTree, layout: FlameLayout, options: { differential?: boolean; colour: boolean }): string[] {
  const t = tree.sampleType;
  const notes: string[] = [];
  const shown = `${formatValue(tree.total[0]!, t.unit)} ${t.type}${t.unit !== 'count' ? ` (${t.unit})` : ''}`;
  let line = `flame: ${shown}, ${tree.count - 1} call paths, ${layout.count} frames drawn`;
  if (layout.folded > 0) line += `, ${layout.folded} narrower than a cell folded into their callers`;
  if (layout.clipped > 0) line += `, ${layout.clipped} deeper than shown`;
  notes.push(line);
  const differential = (options.differential ?? true) && tree.baseline !== undefined;
  if (differential && tree.baseline) {
    notes.push(`baseline: ${formatValue(tree.baseline.totalValue, t.unit)} ${t.type}; widths are the current profile; ${options.colour ? diffLegend : 'labels show share and change in self share (pp = percentage points)'}`);
    const gone = pathsOnlyInBaseline(tree);
    if (gone.nodes.length > 0) {
      notes.push(`${gone.nodes.length} call paths only in the baseline (${(gone.baseShare * 100).toFixed(2)}% of it) are not drawn; the largest:`);
      for (const n of gone.nodes.slice(0, 5)) {
        const c = nodeChange(tree, n);
        notes.push(`  ${formatDelta(-c.baseTotalShare)}  ${nodePath(tree, n).map(printable).join(';')}`);
      }
    }
  } else if (options.colour) {
    notes.push(`colours: ${kindLegend}`);
  }
  return notes;
}
