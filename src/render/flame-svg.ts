// Draws a call tree as one self-contained SVG file: frames placed by
// flame-layout.ts (root on top), coloured by kind or by change in share,
// with a small inline script for zoom on click, reset, regex search with
// highlight and the matched share, and tooltips (name, module, self, total).
// Nothing is fetched: the file works offline, in incident notes and as a CI
// artifact. It must not read profiles or decide options; it gets a tree.
//
// The static drawing works without script (image viewers, previews); each
// frame carries its value-space span (data-s, data-t) and depth (data-d) so
// the script can zoom by rescaling, the way FlameGraph's SVGs do.

import { nodeChange, nodePath, pathsOnlyInBaseline, maxSelfDelta, type CallTree } from '../query/call-tree.js';
import { layoutFlame } from './flame-layout.js';
import { diffColor, diffLegend, formatDelta, formatShare, formatValue, kindColor, kindLegend, matchColor, rgbCss } from './flame-style.js';

export interface FlameSvgOptions {
  title?: string;
  /** Pixels; default 1200. */
  width?: number;
}

const ROW = 16;
const PAD = 10;
const HEAD = 50;
const CHAR = 6.6; // width of one character of the 11px monospace font, for cutting labels

export function escapeXml(s: string): string {
  // Control characters are not allowed in XML 1.0 at all.
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '?').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Tooltip lines of a node: name, module, self, total, and the change for a differential tree. */
export function nodeDetails(tree: CallTree, node: number): string[] {
  const unit = tree.sampleType.unit;
  const whole = tree.total[0]!;
  const f = node === 0 ? undefined : tree.frames[tree.frame[node]!]!;
  const share = (v: number, of: number) => (of > 0 ? formatShare(v / of) : '0.00%');
  const lines = [
    f ? f.name : 'all',
    ...(f?.module ? [`module: ${f.module}`] : []),
    `self: ${formatValue(tree.self[node]!, unit)} (${share(tree.self[node]!, whole)})`,
    `total: ${formatValue(tree.total[node]!, unit)} (${share(tree.total[node]!, whole)})`,
  ];
  const b = tree.baseline;
  if (b) {
    const c = nodeChange(tree, node);
    lines.push(`baseline self: ${formatValue(b.self[node]!, unit)} (${share(b.self[node]!, b.totalValue)}), total: ${formatValue(b.total[node]!, unit)} (${share(b.total[node]!, b.totalValue)})`);
    lines.push(`change in share: self ${formatDelta(c.selfDelta)}, total ${formatDelta(c.totalDelta)}`);
  }
  return lines;
}

/** Lines naming what only the baseline had (it has no width in a graph sized by the current profile). */
export function baselineOnlyLines(tree: CallTree, limit = 5): string[] {
  const gone = pathsOnlyInBaseline(tree);
  if (gone.nodes.length === 0) return [];
  return [
    `${gone.nodes.length} call paths only in the baseline (${formatShare(gone.baseShare)} of it), not drawn; the largest:`,
    ...gone.nodes.slice(0, limit).map((n) => `${formatDelta(-nodeChange(tree, n).baseTotalShare)}  ${nodePath(tree, n).join(';')}`),
  ];
}

function fitText(name: string, width: number): string {
  const chars = Math.floor((width - 6) / CHAR);
  if (chars < 3) return '';
  return name.length <= chars ? name : `${name.slice(0, chars - 2)}..`;
}

export function renderFlameSvg(tree: CallTree, options: FlameSvgOptions = {}): string {
  const width = options.width ?? 1200;
  const inner = width - 2 * PAD;
  const layout = layoutFlame(tree, { width: inner, unit: 'pixel' });
  const differential = tree.baseline !== undefined;
  const maxDelta = differential ? maxSelfDelta(tree) : 0;
  const gone = baselineOnlyLines(tree);
  const title = options.title ?? (differential ? 'Differential flame graph' : tree.inverted ? 'Flame graph (callers view)' : 'Flame graph');
  const t = tree.sampleType;
  const subtitle = `${formatValue(tree.total[0]!, t.unit)} ${t.type}${differential ? ` vs baseline ${formatValue(tree.baseline!.totalValue, t.unit)}` : ''} · ${differential ? diffLegend : kindLegend}`;
  const graphBottom = HEAD + layout.rows * ROW;
  const height = graphBottom + 30 + gone.length * 14;

  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<svg version="1.1" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" data-total="${tree.total[0]}" data-pad="${PAD}" data-width="${inner}">
<style>
text { font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 11px; fill: #000; }
#title { font-size: 16px; font-weight: bold; }
#subtitle, #details, #matched, .note { fill: #444; }
.btn { cursor: pointer; fill: #036; text-decoration: underline; }
g.f { cursor: pointer; }
g.f:hover rect { stroke: #000; stroke-width: 0.6; }
g.f.anc { opacity: 0.55; }
g.f.hide { display: none; }
</style>
<rect x="0" y="0" width="${width}" height="${height}" fill="#fafafa"/>
<text id="title" x="${width / 2}" y="20" text-anchor="middle">${escapeXml(title)}</text>
<text id="subtitle" x="${width / 2}" y="38" text-anchor="middle">${escapeXml(subtitle)}</text>
<text id="reset" class="btn" x="${PAD}" y="20" style="display:none">Reset zoom</text>
<text id="search" class="btn" x="${width - PAD}" y="20" text-anchor="end">Search</text>
<text id="details" x="${PAD}" y="${graphBottom + 18}"> </text>
<text id="matched" x="${width - PAD}" y="${graphBottom + 18}" text-anchor="end"> </text>
<g id="frames">`);
  for (let k = 0; k < layout.count; k++) {
    const n = layout.node[k]!;
    const f = n === 0 ? undefined : tree.frames[tree.frame[n]!]!;
    const name = f?.name ?? 'all';
    const fill = differential && n > 0 ? diffColor(nodeChange(tree, n).selfDelta, maxDelta) : kindColor(f?.kind ?? 'root', name, k % 2 === 1);
    const x = PAD + layout.x[k]!;
    const w = layout.width[k]!;
    const y = HEAD + layout.depth[k]! * ROW;
    const label = n === 0 ? `all (${formatValue(tree.total[0]!, t.unit)} ${t.type})` : name;
    out.push(
      `<g class="f" data-s="${tree.start[n]}" data-t="${tree.total[n]}" data-d="${layout.depth[k]}" data-n="${escapeXml(label)}" data-m="${escapeXml(f?.module ?? '')}">` +
        `<title>${escapeXml(nodeDetails(tree, n).join('\n'))}</title>` +
        `<rect x="${x.toFixed(2)}" y="${y}" width="${Math.max(0.1, w - 0.5).toFixed(2)}" height="${ROW - 1}" rx="2" fill="${rgbCss(fill)}"/>` +
        `<text x="${(x + 3).toFixed(2)}" y="${y + 11.5}">${escapeXml(fitText(label, w))}</text></g>`,
    );
  }
  out.push('</g>');
  gone.forEach((line, i) => out.push(`<text class="note" x="${PAD}" y="${graphBottom + 34 + i * 14}">${escapeXml(line)}</text>`));
  out.push(`<script type="text/ecmascript"><![CDATA[\n${svgScript(rgbCss(matchColor))}\n]]></script>\n</svg>\n`);
  return out.join('\n');
}

// The script runs in the browser, from the file alone: plain ES5-level DOM code, no modules.
function svgScript(match: string): string {
  return `(function () {
  var svg = document.documentElement;
  var PAD = +svg.getAttribute('data-pad'), W = +svg.getAttribute('data-width'), TOTAL = +svg.getAttribute('data-total');
  var CHAR = ${CHAR}, MATCH = '${match}';
  var frames = Array.prototype.slice.call(document.querySelectorAll('g.f'));
  var info = frames.map(function (g) {
    var r = g.querySelector('rect');
    return { g: g, r: r, t: g.querySelector('text'), s: +g.getAttribute('data-s'), w: +g.getAttribute('data-t'), d: +g.getAttribute('data-d'),
      name: g.getAttribute('data-n'), module: g.getAttribute('data-m'), fill: r.getAttribute('fill') };
  });
  var details = document.getElementById('details'), matched = document.getElementById('matched'), reset = document.getElementById('reset');
  function fit(f, w) {
    var chars = Math.floor((w - 6) / CHAR);
    f.t.textContent = chars < 3 ? '' : f.name.length <= chars ? f.name : f.name.slice(0, chars - 2) + '..';
  }
  function place(f, x, w) {
    f.r.setAttribute('x', (PAD + x).toFixed(2));
    f.r.setAttribute('width', Math.max(0.1, w - 0.5).toFixed(2));
    f.t.setAttribute('x', (PAD + x + 3).toFixed(2));
    fit(f, w);
  }
  function zoom(z) {
    var end = z.s + z.w;
    info.forEach(function (f) {
      f.g.classList.remove('anc', 'hide');
      if (f.d < z.d && f.s <= z.s && f.s + f.w >= end) { f.g.classList.add('anc'); place(f, 0, W); }
      else if (f.d >= z.d && f.s >= z.s && f.s + f.w <= end && (f.d > z.d || f === z)) place(f, (f.s - z.s) / z.w * W, f.w / z.w * W);
      else f.g.classList.add('hide');
    });
    reset.style.display = z.d === 0 ? 'none' : '';
  }
  function search(term) {
    var re;
    try { re = new RegExp(term); } catch (e) { matched.textContent = 'not a regular expression: ' + term; return; }
    var value = 0, count = 0, coverEnd = -1, coverDepth = 0;
    info.forEach(function (f) {
      var hit = term !== '' && f.d > 0 && (re.test(f.name) || (f.module !== '' && re.test(f.module)));
      f.r.setAttribute('fill', hit ? MATCH : f.fill);
      if (!hit) return;
      count++;
      if (f.s < coverEnd && f.d > coverDepth) return;
      value += f.w; coverEnd = f.s + f.w; coverDepth = f.d;
    });
    matched.textContent = term === '' ? ' ' : 'Matched: ' + (TOTAL > 0 ? (100 * value / TOTAL).toFixed(2) : '0.00') + '% (' + count + ' frames)';
  }
  svg.addEventListener('click', function (e) {
    var g = e.target.closest ? e.target.closest('g.f') : null;
    if (g) { zoom(info[frames.indexOf(g)]); return; }
    if (e.target === reset) zoom(info[0]);
    if (e.target.id === 'search') { var term = prompt('Search frames (regular expression):', ''); if (term !== null) search(term); }
  });
  svg.addEventListener('mouseover', function (e) {
    var g = e.target.closest ? e.target.closest('g.f') : null;
    if (g) details.textContent = g.querySelector('title').textContent.split('\\n').join(' · ');
  });
  svg.addEventListener('mouseout', function () { details.textContent = ' '; });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') zoom(info[0]);
    if ((e.ctrlKey || e.metaKey) && e.key === 'f') { e.preventDefault(); var term = prompt('Search frames (regular expression):', ''); if (term !== null) search(term); }
  });
  // For scripts and tests: the same actions without a mouse.
  window.profctlFlame = { zoom: function (i) { zoom(info[i]); }, search: search, reset: function () { zoom(info[0]); } };
})();`;
}
