// The look of a flame graph, shared by every drawing of one (text, SVG, HTML,
// the interactive terminal view): colours by frame kind, differential colours
// by change in share, value formatting with units, and labels cut to fit. It
// returns plain data (RGB triples, strings); it must not decide whether colour
// is on (src/render/color.ts does) or place frames (flame-layout.ts does).

import type { FrameKind } from '../profile/model.js';

export type Rgb = readonly [number, number, number];

/** Stable 0..1 value per name, so a function keeps its shade across runs and zooms. */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 0x100000000;
}

/**
 * Fill colour of a frame by kind: native code hot (red to yellow), kernel
 * aqua, JIT/interpreted green, unknown grey. `alternate` picks the other half
 * of the shade range so neighbours in a row never share a colour.
 */
export function kindColor(kind: FrameKind | 'root', name: string, alternate = false): Rgb {
  const t = (alternate ? 0.5 : 0) + 0.5 * nameHash(name);
  const mix = (lo: number, hi: number): number => Math.round(lo + (hi - lo) * t);
  switch (kind) {
    case 'native':
      return [mix(225, 250), mix(95, 205), mix(45, 70)];
    case 'kernel':
      return [mix(80, 150), mix(185, 225), mix(205, 245)];
    case 'jit':
      return [mix(85, 160), mix(195, 240), mix(85, 140)];
    case 'root':
      return [200, 200, 200];
    default:
      return [mix(160, 210), mix(160, 210), mix(160, 210)];
  }
}

export const kindLegend = 'native red-yellow, kernel aqua, JIT/interpreted green, unknown grey';

/**
 * Differential fill: growth in red, shrink in blue, near white for no
 * change; intensity is the change relative to the largest change in the graph.
 */
export function diffColor(delta: number, maxDelta: number): Rgb {
  const t = maxDelta > 0 ? Math.min(1, Math.abs(delta) / maxDelta) : 0;
  const fade = Math.round(235 - 190 * t);
  if (delta > 0) return [255, fade, fade];
  if (delta < 0) return [fade, fade, 255];
  return [235, 235, 235];
}

export const diffLegend = 'red grew, blue shrank (change in self share since the baseline; strongest colour = largest change)';

/** Search matches, drawn over any other colouring. */
export const matchColor: Rgb = [225, 70, 225];

export function rgbCss([r, g, b]: Rgb): string {
  return `rgb(${r},${g},${b})`;
}

/** Picks the largest unit step that fits; steps run from large to the base unit (size 1). */
function scaled(v: number, steps: Array<[number, string]>): string {
  const a = Math.abs(v);
  for (const [size, suffix] of steps) {
    if (a >= size || size === 1) {
      const x = v / size;
      const ax = Math.abs(x);
      const digits = size === 1 && Number.isInteger(x) ? 0 : ax >= 100 ? 0 : ax >= 10 ? 1 : 2;
      return `${x.toFixed(digits)}${suffix}`;
    }
  }
  return String(v);
}

/** A value in its sample type's unit, as a person reads it: 1.25s, 340MiB, 12,345. */
export function formatValue(v: number, unit: string): string {
  switch (unit) {
    case 'nanoseconds':
      return scaled(v, [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs'], [1, 'ns']]);
    case 'microseconds':
      return scaled(v, [[1e6, 's'], [1e3, 'ms'], [1, 'µs']]);
    case 'milliseconds':
      return scaled(v, [[1e3, 's'], [1, 'ms']]);
    case 'seconds':
      return scaled(v, [[1, 's']]);
    case 'bytes':
      return scaled(v, [[2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB'], [1, 'B']]);
    default:
      return Number.isInteger(v) ? v.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',') : v.toFixed(2);
  }
}

/** A share (0..1) as a percentage: 12.34%. */
export function formatShare(share: number): string {
  return `${(share * 100).toFixed(2)}%`;
}

/** A change in share (fractions) as signed percentage points: +3.2pp. */
export function formatDelta(delta: number): string {
  const pp = delta * 100;
  const s = Math.abs(pp) >= 10 ? pp.toFixed(1) : pp.toFixed(2);
  return `${pp > 0 ? '+' : pp < 0 ? '' : '±'}${s}pp`;
}

/** Names come from files and processes: never let one carry a terminal escape or a line break. */
export function printable(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** Cuts a label to at most `width` characters, marking the cut with ".."; a stub shorter than 3 says nothing, so it is left out. */
export function fitLabel(label: string, width: number): string {
  if (width <= 0) return '';
  if (label.length <= width) return label;
  if (width < 3) return '';
  return `${label.slice(0, width - 2)}..`;
}
