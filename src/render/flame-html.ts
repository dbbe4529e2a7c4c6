// Draws a call tree as one self-contained HTML page: the whole tree embedded
// as JSON (flat preorder arrays, as the call tree keeps them) and a small
// inline script that lays out the visible frames, zooms on click, resets,
// searches by regular expression (highlight and matched share) and shows
// tooltips with name, module, self and total. Nothing is fetched; it works
// offline. It must not read profiles or decide options; it gets a tree.
//
// Unlike the SVG, nothing is folded away for good: zooming into a frame
// reveals callees that were narrower than a pixel at full width. The script's
// layout is the same preorder scan as flame-layout.ts: a frame narrower than
// a pixel skips its whole subtree (size[i] nodes).

import { nodeChange, maxSelfDelta, type CallTree } from '../query/call-tree.js';
import { baselineOnlyLines } from './flame-svg.js';
import { diffColor, diffLegend, formatValue, kindColor, kindLegend, matchColor, rgbCss, type Rgb } from './flame-style.js';

export interface FlameHtmlOptions {
  title?: string;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function hex([r, g, b]: Rgb): string {
  return `#${((1 << 24) | (r << 16) | (g << 8) | b).toString(16).slice(1)}`;
}

/** JSON safe inside a <script> element: no "</script>", no line separators that old parsers choke on. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** The data the page's script reads. */
export function flameHtmlData(tree: CallTree) {
  const n = tree.count;
  const differential = tree.baseline !== undefined;
  const maxDelta = differential ? maxSelfDelta(tree) : 0;
  const fill: string[] = new Array(n);
  const frameFill = tree.frames.map((f) => hex(kindColor(f.kind, f.name)));
  for (let i = 0; i < n; i++) {
    if (i === 0) fill[i] = hex(kindColor('root', 'all'));
    else fill[i] = differential ? hex(diffColor(nodeChange(tree, i).selfDelta, maxDelta)) : frameFill[tree.frame[i]!]!;
  }
  const b = tree.baseline;
  return {
    type: tree.sampleType.type,
    unit: tree.sampleType.unit,
    inverted: tree.inverted,
    names: tree.frames.map((f) => f.name),
    modules: tree.frames.map((f) => f.module),
    frame: Array.from(tree.frame),
    parent: Array.from(tree.parent),
    depth: Array.from(tree.depth),
    size: Array.from(tree.size),
    start: Array.from(tree.start),
    total: Array.from(tree.total),
    self: Array.from(tree.self),
    fill,
    ...(b ? { baseline: { total: b.totalValue, self: Array.from(b.self), totals: Array.from(b.total) } } : {}),
  };
}

export function renderFlameHtml(tree: CallTree, options: FlameHtmlOptions = {}): string {
  const differential = tree.baseline !== undefined;
  const title = options.title ?? (differential ? 'Differential flame graph' : tree.inverted ? 'Flame graph (callers view)' : 'Flame graph');
  const t = tree.sampleType;
  const subtitle = `${formatValue(tree.total[0]!, t.unit)} ${t.type}${differential ? ` vs baseline ${formatValue(tree.baseline!.totalValue, t.unit)}` : ''} · ${differential ? diffLegend : kindLegend}`;
  const gone = baselineOnlyLines(tree, 10);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { margin: 0; padding: 10px 12px; font: 13px system-ui, sans-serif; background: #fafafa; color: #222; }
h1 { font-size: 17px; margin: 0 0 2px; }
.sub { color: #555; margin: 0 0 8px; }
.bar { display: flex; gap: 8px; align-items: center; margin-bottom: 6px; }
#search { width: 22em; padding: 2px 4px; font: inherit; }
#matched { color: #555; }
#graph { position: relative; overflow: hidden; }
.f { position: absolute; height: 15px; line-height: 15px; padding: 0 3px; box-sizing: border-box; border-radius: 2px;
     font: 11px ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; color: #000; white-space: nowrap;
     overflow: hidden; text-overflow: ellipsis; cursor: pointer; border-right: 1px solid #fafafa; }
.f:hover { outline: 1px solid #000; z-index: 1; }
.f.anc { opacity: 0.55; }
.f.m { background: ${rgbCss(matchColor)} !important; }
#tip { position: fixed; display: none; pointer-events: none; background: #fff; border: 1px solid #999; padding: 4px 6px;
       font: 12px ui-monospace, Menlo, Consolas, monospace; white-space: pre; box-shadow: 0 1px 4px rgba(0,0,0,.2); z-index: 2; }
#details { min-height: 1.4em; margin-top: 6px; font: 12px ui-monospace, Menlo, Consolas, monospace; color: #333; }
.gone { font: 12px ui-monospace, Menlo, Consolas, monospace; color: #444; white-space: pre; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="sub">${escapeHtml(subtitle)}</p>
<div class="bar"><button id="reset" disabled>Reset zoom</button><input id="search" type="search" placeholder="Search frames (regular expression)" spellcheck="false"><span id="matched"></span></div>
<div id="graph"></div>
<div id="details"></div>
${gone.length ? `<div class="gone">${gone.map(escapeHtml).join('\n')}</div>` : ''}
<div id="tip"></div>
<script type="application/json" id="flame-data">${scriptJson(flameHtmlData(tree))}</script>
<script>
${htmlScript()}
</script>
</body>
</html>
`;
}

function htmlScript(): string {
  return `(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('flame-data').textContent);
  var N = D.total.length, ROW = 16;
  var graph = document.getElementById('graph'), tip = document.getElementById('tip'), details = document.getElementById('details');
  var resetBtn = document.getElementById('reset'), searchBox = document.getElementById('search'), matchedEl = document.getElementById('matched');
  var parent = D.parent, zoomed = 0, matched = new Uint8Array(N);
  function name(i) { return i === 0 ? 'all' : D.names[D.frame[i]]; }
  function module(i) { return i === 0 ? '' : D.modules[D.frame[i]]; }
  function fmt(v) {
    var u = D.unit, a = Math.abs(v);
    function sc(steps) { for (var k = 0; k < steps.length; k++) if (a >= steps[k][0] || steps[k][0] === 1) { var x = v / steps[k][0]; return x.toFixed(steps[k][0] === 1 && x % 1 === 0 ? 0 : Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2) + steps[k][1]; } }
    if (u === 'nanoseconds') return sc([[1e9, 's'], [1e6, 'ms'], [1e3, '\\u00b5s'], [1, 'ns']]);
    if (u === 'microseconds') return sc([[1e6, 's'], [1e3, 'ms'], [1, '\\u00b5s']]);
    if (u === 'milliseconds') return sc([[1e3, 's'], [1, 'ms']]);
    if (u === 'bytes') return sc([[1073741824, 'GiB'], [1048576, 'MiB'], [1024, 'KiB'], [1, 'B']]);
    return v % 1 === 0 ? String(v).replace(/\\B(?=(\\d{3})+(?!\\d))/g, ',') : v.toFixed(2);
  }
  function pct(v, of) { return (of > 0 ? 100 * v / of : 0).toFixed(2) + '%'; }
  function pp(d) { var x = d * 100; return (x > 0 ? '+' : x < 0 ? '' : '\\u00b1') + (Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2)) + 'pp'; }
  function describe(i) {
    var T = D.total[0], lines = [name(i)];
    if (module(i)) lines.push('module: ' + module(i));
    lines.push('self: ' + fmt(D.self[i]) + ' (' + pct(D.self[i], T) + ')');
    lines.push('total: ' + fmt(D.total[i]) + ' (' + pct(D.total[i], T) + ')');
    if (D.baseline) {
      var B = D.baseline, bt = B.total;
      lines.push('baseline self: ' + fmt(B.self[i]) + ' (' + pct(B.self[i], bt) + '), total: ' + fmt(B.totals[i]) + ' (' + pct(B.totals[i], bt) + ')');
      var ds = (T > 0 ? D.self[i] / T : 0) - (bt > 0 ? B.self[i] / bt : 0), dt = (T > 0 ? D.total[i] / T : 0) - (bt > 0 ? B.totals[i] / bt : 0);
      lines.push('change in share: self ' + pp(ds) + ', total ' + pp(dt));
    }
    return lines;
  }
  function box(i, x, w, anc) {
    var el = document.createElement('div');
    el.className = 'f' + (anc ? ' anc' : '') + (matched[i] ? ' m' : '');
    el.style.left = x.toFixed(1) + 'px';
    el.style.width = w.toFixed(1) + 'px';
    el.style.top = (D.depth[i] * ROW) + 'px';
    el.style.background = D.fill[i];
    el.dataset.node = String(i);
    el.textContent = i === 0 ? 'all (' + fmt(D.total[0]) + ' ' + D.type + ')' : name(i);
    return el;
  }
  function draw() {
    var W = graph.clientWidth || 1200, z = zoomed, frag = document.createDocumentFragment(), rows = D.depth[z] + 1;
    for (var a = parent[z]; a >= 0; a = parent[a]) frag.appendChild(box(a, 0, W, true));
    frag.appendChild(box(z, 0, W, false));
    var end = z + D.size[z], origin = D.start[z], scale = D.total[z] > 0 ? W / D.total[z] : 0;
    for (var i = z + 1; i < end; ) {
      var w = D.total[i] * scale;
      if (!(w >= 1)) { i += D.size[i]; continue; }
      frag.appendChild(box(i, (D.start[i] - origin) * scale, w, false));
      if (D.depth[i] + 1 > rows) rows = D.depth[i] + 1;
      i++;
    }
    graph.textContent = '';
    graph.style.height = (rows * ROW) + 'px';
    graph.appendChild(frag);
    resetBtn.disabled = z === 0;
    graph.dataset.zoom = String(z);
  }
  function zoom(i) { zoomed = i; draw(); }
  function search(term) {
    matched = new Uint8Array(N);
    if (term === '') { matchedEl.textContent = ''; draw(); return; }
    var re;
    try { re = new RegExp(term); } catch (e) { matchedEl.textContent = 'not a regular expression'; return; }
    var hitFrame = D.names.map(function (n, k) { return re.test(n) || (D.modules[k] !== '' && re.test(D.modules[k])); });
    var value = 0, count = 0, covered = 0;
    for (var i = 1; i < N; i++) {
      if (!hitFrame[D.frame[i]]) continue;
      matched[i] = 1; count++;
      // Samples under a match that is itself inside a match are already counted.
      if (i >= covered) { value += D.total[i]; covered = i + D.size[i]; }
    }
    matchedEl.textContent = 'Matched: ' + pct(value, D.total[0]) + ' (' + count + ' frames)';
    draw();
  }
  graph.addEventListener('click', function (e) { var el = e.target.closest('.f'); if (el) zoom(+el.dataset.node); });
  graph.addEventListener('mousemove', function (e) {
    var el = e.target.closest('.f');
    if (!el) { tip.style.display = 'none'; return; }
    var lines = describe(+el.dataset.node);
    tip.textContent = lines.join('\\n');
    tip.style.display = 'block';
    var x = Math.min(e.clientX + 12, window.innerWidth - tip.offsetWidth - 4), y = e.clientY + 16;
    if (y + tip.offsetHeight > window.innerHeight) y = e.clientY - tip.offsetHeight - 8;
    tip.style.left = x + 'px'; tip.style.top = y + 'px';
    details.textContent = lines.join(' \\u00b7 ');
  });
  graph.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
  resetBtn.addEventListener('click', function () { zoom(0); });
  var pending;
  searchBox.addEventListener('input', function () { clearTimeout(pending); pending = setTimeout(function () { search(searchBox.value); }, 120); });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') { if (document.activeElement === searchBox) { searchBox.value = ''; search(''); searchBox.blur(); } else zoom(0); }
    if (e.key === '/' && document.activeElement !== searchBox) { e.preventDefault(); searchBox.focus(); }
  });
  var resizing;
  window.addEventListener('resize', function () { clearTimeout(resizing); resizing = setTimeout(draw, 80); });
  // For scripts and tests: the same actions without a mouse.
  window.profctlFlame = { zoom: zoom, search: search, reset: function () { zoom(0); }, describe: describe };
  draw();
})();`;
}
