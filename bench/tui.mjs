// Benchmark of the interactive flame view (`profctl flame` on a terminal) on
// a generated profile whose call tree has about 100,000 distinct nodes:
//   first frame = call tree from the profile + the view's initial state (the
//   reducer settles the selection, laying the graph out) + the whole screen
//   as text + ink's render of what it draws (header and status lines; the
//   runner paints the graph rows straight to the terminal, see views.tsx);
//   key press = one reduceKey (reducer + layout) + the next screen, per key.
// Peer in the same run: `go tool pprof -top` on the same profile written as
// gzipped pprof (the terminal report an on-call would otherwise read), and
// profctl's own pprof decode of that file, so the ratio compares whole
// "file to first screen" paths. Runs over dist/ (run `npx tsc -p .` first).
// Medians of several runs; the machine is shared, so numbers are noisy.
// Prints a markdown section; with --append, appends it to bench/RESULTS.md.
import { spawnSync, execSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { seededRandom as seeded } from '../test/support/seeded-random.mjs';
import { median } from './stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', p));
const { ProfileBuilder } = await dist('profile/model.js');
const { encodePprof } = await dist('profile/pprof.js');
const { readProfileFile } = await dist('profile/read-file.js');
const { buildCallTree } = await dist('query/call-tree.js');
const { initialViewState } = await dist('render/tui/view-state.js');
const { reduceKey } = await dist('render/tui/key-map.js');
const { screenLines } = await dist('render/tui/screen-text.js');
const { tuiTheme } = await dist('render/tui/theme.js');
const { FlameScreen } = await dist('render/tui/views.js');
const { Chalk } = await import('chalk');
const { renderToString } = await import('ink');
const React = await import('react');

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const TARGET_NODES = 100_000;
const SIZE = { columns: 200, rows: 60 };
const theme = tuiTheme(new Chalk({ level: 3 }));


/** Paths grown from earlier ones (shared callers, skewed weights) until the tree has TARGET_NODES nodes. */
function makeProfile() {
  const random = seeded(17);
  const b = new ProfileBuilder([{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }], { period: 10_000_000 });
  const frames = Array.from({ length: 8000 }, (_, i) =>
    b.frameId({ name: `example.com/shop/pkg${i % 61}.(*Svc${i % 11}).Handle${i}`, module: i % 9 === 0 ? '[kernel.kallsyms]' : 'shop', kind: i % 9 === 0 ? 'kernel' : i % 5 === 0 ? 'jit' : 'native' }),
  );
  const paths = [];
  const seen = new Set();
  let nodes = 1;
  while (nodes < TARGET_NODES) {
    const from = paths.length > 10 && random() < 0.9 ? paths[Math.floor(random() ** 1.5 * paths.length)] : [];
    const depth = 4 + Math.floor(random() * 40);
    const p = from.slice(0, Math.floor(random() * Math.min(from.length, depth)));
    while (p.length < depth) p.push(frames[Math.floor(random() ** 2 * frames.length)]);
    for (let k = 1; k <= p.length; k++) {
      const key = p.slice(0, k).join(',');
      if (!seen.has(key)) {
        seen.add(key);
        nodes++;
      }
    }
    paths.push(p);
    const weight = 1 + Math.floor(random() ** 4 * 400);
    b.addSample({ stack: b.stackId([...p].reverse()), values: [weight, weight * 10_000_000] });
  }
  return b.build();
}

const ms = (x) => x.toFixed(x < 10 ? 2 : 1);
function time(fn) {
  const t0 = performance.now();
  const value = fn();
  return [performance.now() - t0, value];
}

const profile = makeProfile();
const typeIndex = 1;
const dir = mkdtempSync(join(tmpdir(), 'profctl-tui-bench-'));
const file = join(dir, 'big.pb.gz');
writeFileSync(file, encodePprof(profile));

const first = { tree: [], state: [], screen: [], ink: [], total: [], read: [] };
let nodes = 0;
for (let r = 0; r < RUNS; r++) {
  const [tRead] = time(() => undefined);
  const t0 = performance.now();
  await readProfileFile(file);
  first.read.push(performance.now() - t0 + tRead);
  const [tTree, tree] = time(() => buildCallTree({ profile, typeIndex }));
  const [tState, state] = time(() => initialViewState(tree, SIZE));
  const [tScreen, lines] = time(() => screenLines(state, theme).join('\n'));
  const [tInk] = time(() => renderToString(React.createElement(FlameScreen, { state, theme, painter: { lines: [] } }), { columns: SIZE.columns }));
  if (!lines.includes('all')) throw new Error('the first screen has no root frame');
  nodes = tree.count;
  first.tree.push(tTree);
  first.state.push(tState);
  first.screen.push(tScreen);
  first.ink.push(tInk);
  first.total.push(tTree + tState + tScreen + tInk);
}

// Key presses, in the order an on-call might type them.
const tree = buildCallTree({ profile, typeIndex });
const script = [
  ['j (callee)', { input: 'j', key: {} }],
  ['j (callee)', { input: 'j', key: {} }],
  ['l (next frame)', { input: 'l', key: {} }],
  ['h (previous frame)', { input: 'h', key: {} }],
  ['Enter (zoom)', { input: '', key: { return: true } }],
  ['Esc (zoom out)', { input: '', key: { escape: true } }],
  ['/Handle1 Enter (search)', { input: '/Handle1\r', key: {} }],
  ['n (next match)', { input: 'n', key: {} }],
  ['r (reset)', { input: 'r', key: {} }],
  ['Tab (table)', { input: '', key: { tab: true } }],
  ['Tab (graph)', { input: '', key: { tab: true } }],
  ['i (callers view)', { input: 'i', key: {} }],
  ['i (back)', { input: 'i', key: {} }],
  ['resize 120x40', { resize: { columns: 120, rows: 40 } }],
];
const keyTimes = new Map();
for (let r = 0; r < RUNS; r++) {
  let state = initialViewState(tree, SIZE);
  for (const [name, k] of script) {
    const t0 = performance.now();
    state = k.resize ? reduceKey(state, { type: 'resize', ...k.resize }) : reduceKey(state, { type: 'key', ...k });
    const text = screenLines(state, theme).join('\n');
    const t1 = performance.now();
    renderToString(React.createElement(FlameScreen, { state, theme, painter: { lines: [] } }), { columns: state.columns });
    const t2 = performance.now();
    if (text.length === 0) throw new Error('empty screen');
    const row = keyTimes.get(name) ?? { text: [], ink: [] };
    row.text.push(t1 - t0);
    row.ink.push(t2 - t0);
    keyTimes.set(name, row);
  }
}

// The peer: go tool pprof -top on the same file, whole process; and profctl's own whole process to its first text frame.
const peer = [];
const whole = [];
const goOk = spawnSync('go', ['version']).status === 0;
for (let r = 0; r < RUNS; r++) {
  if (goOk) {
    const t0 = performance.now();
    const res = spawnSync('go', ['tool', 'pprof', '-top', '-nodecount=50', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (res.status !== 0) throw new Error(`go tool pprof failed: ${res.stderr}`);
    peer.push(performance.now() - t0);
  }
  const t1 = performance.now();
  const own = spawnSync(join(root, 'bin/profctl'), ['flame', '--input', file, '--no-interactive', '--width', String(SIZE.columns)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (own.status !== 0) throw new Error(`profctl flame failed: ${own.stderr}`);
  whole.push(performance.now() - t1);
}
rmSync(dir, { recursive: true, force: true });

const cpu = cpus()[0]?.model ?? 'unknown';
let nproc = String(cpus().length);
try {
  nproc = execSync('nproc', { encoding: 'utf8' }).trim();
} catch {}
const date = new Date().toISOString().slice(0, 10);
const inProcessFile = median(first.read) + median(first.total);
const out = [];
out.push(`## interactive flame view (bench/tui.mjs), ${date}`, '');
out.push(`Machine: ${nproc} CPUs (\`nproc\`), ${cpu}; node ${process.version}. Shared with other engineers: numbers are noisy; medians of ${RUNS} runs.`);
out.push(`Command: \`npx tsc -p . && node bench/tui.mjs\`. Input: a generated profile whose call tree has ${nodes.toLocaleString('en-US')} nodes (${profile.samples.length.toLocaleString('en-US')} samples, ${profile.frames.length.toLocaleString('en-US')} functions); screen ${SIZE.columns}x${SIZE.rows}, 24-bit colour.`, '');
out.push('First frame (target: 500 ms):', '');
out.push('| step | median (ms) | runs (ms) |', '|---|---:|---|');
const row = (name, xs) => out.push(`| ${name} | ${ms(median(xs))} | ${xs.map(ms).join(', ')} |`);
row('call tree from the profile', first.tree);
row('initial view state (reducer settles the selection: layout)', first.state);
row('whole screen as text (header, icicle, status)', first.screen);
row('ink: header and status lines around the graph (renderToString; the runner paints the graph rows itself)', first.ink);
row('**first frame: tree + state + text + ink**', first.total);
row('(reading the gzipped pprof file before that)', first.read);
out.push('', 'Key press to the next frame (target: 50 ms), reduceKey + layout + screen text, and with ink\'s render of the header and status lines added:', '');
out.push('| key | text: median (ms) | text: max (ms) | with ink: median (ms) | with ink: max (ms) |', '|---|---:|---:|---:|---:|');
for (const [name, t] of keyTimes) out.push(`| ${name} | ${ms(median(t.text))} | ${ms(Math.max(...t.text))} | ${ms(median(t.ink))} | ${ms(Math.max(...t.ink))} |`);
out.push('');
if (goOk) {
  out.push(`Same run, whole processes on the same gzipped pprof: \`go tool pprof -top -nodecount=50\` ${ms(median(peer))} ms (runs ${peer.map(ms).join(', ')}); \`profctl flame --no-interactive --width ${SIZE.columns}\` ${ms(median(whole))} ms (runs ${whole.map(ms).join(', ')}).`);
  out.push(`Ratios: profctl's file-to-first-interactive-frame in process (read + first frame, ${ms(inProcessFile)} ms) / go tool pprof -top = **${(inProcessFile / median(peer)).toFixed(2)}×**; whole \`profctl flame\` process / go tool pprof -top = **${(median(whole) / median(peer)).toFixed(2)}×** (below 1 is faster).`);
} else {
  out.push('go is not installed: no peer comparison in this run.');
}
out.push('');
const text = out.join('\n');
console.log(text);
if (process.argv.includes('--append')) appendFileSync(join(root, 'bench/RESULTS.md'), `\n${text}\n`);
