// The interactive flame view's colours: frame fills by kind and by change in
// share come from flame-style.ts (so the terminal, text, SVG and HTML graphs
// look alike); this adds what only the interactive view has — the selected
// frame, the header and status bars, the table cursor. It returns chalk
// styles built from the chalk it is given; it must not decide whether colour
// is on (src/render/color.ts does), nor place or label frames.

import type { ChalkInstance } from 'chalk';
import type { FrameKind } from '../../profile/model.js';
import { diffColor, kindColor, matchColor, type Rgb } from '../flame-style.js';

export interface TuiTheme {
  colour: boolean;
  /** A frame's fill and black label. */
  frame(fill: Rgb, text: string): string;
  /** The selected frame: the fill turned to text on black, bold, so it stands out on any colour. */
  selected(fill: Rgb, text: string): string;
  bar(text: string): string;
  dim(text: string): string;
  emphasis(text: string): string;
  /** The table row under the cursor. */
  cursor(text: string): string;
  grew(text: string): string;
  shrank(text: string): string;
  warn(text: string): string;
}

export const fills = {
  kind: (kind: FrameKind, name: string, alternate: boolean): Rgb => kindColor(kind, name, alternate),
  root: kindColor('root', 'all'),
  diff: diffColor,
  match: matchColor,
};

/**
 * The escape codes that open and close a style, taken from chalk once per
 * colour: a 200-column graph has thousands of frames, and building a chalk
 * style per frame costs more than the rest of a key press.
 */
function cachedStyle(make: (fill: Rgb) => (text: string) => string): (fill: Rgb, text: string) => string {
  const cache = new Map<number, [string, string]>();
  return (fill, text) => {
    const key = (fill[0] << 16) | (fill[1] << 8) | fill[2];
    let codes = cache.get(key);
    if (!codes) {
      const marked = make(fill)('\u0000');
      const at = marked.indexOf('\u0000');
      codes = [marked.slice(0, at), marked.slice(at + 1)];
      cache.set(key, codes);
    }
    return codes[0] + text + codes[1];
  };
}

export function tuiTheme(chalk: ChalkInstance): TuiTheme {
  const colour = chalk.level > 0;
  const plain = (t: string): string => t;
  const frame = cachedStyle((f) => chalk.bgRgb(f[0], f[1], f[2]).black);
  const selected = cachedStyle((f) => chalk.bgBlack.rgb(f[0], f[1], f[2]).bold);
  return {
    colour,
    frame: (fill, text) => (colour ? frame(fill, text) : text),
    selected: (fill, text) => (colour ? selected(fill, text) : text),
    bar: colour ? (t) => chalk.bgRgb(45, 50, 70).rgb(235, 235, 235)(t) : plain,
    dim: colour ? (t) => chalk.dim(t) : plain,
    emphasis: colour ? (t) => chalk.bold(t) : plain,
    cursor: colour ? (t) => chalk.inverse(t) : plain,
    grew: colour ? (t) => chalk.red(t) : plain,
    shrank: colour ? (t) => chalk.blue(t) : plain,
    warn: colour ? (t) => chalk.yellow(t) : plain,
  };
}
