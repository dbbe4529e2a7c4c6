// Benchmark of the flame graph path on a call tree of about 100,000 distinct
// nodes: building the tree, the first frame of a 200×60 terminal (layout +
// text drawing), a "key press" (zoom into a frame and lay out again), a regex
// search, and the whole `profctl flame` command (text and SVG) against
// `go tool pprof -tree -nodecount=0` — the peer tool's nearest offline
// call-tree report — on the same gzipped pprof file, in the same run.
// In-process steps run over dist/ (run `npx tsc -p .` first). Medians of
// several runs; the machine is shared with other engineers, so numbers are
// noisy. Prints a markdown section (with --append, appends it to RESULTS.md).
import { spawnSync, execSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom as seeded } from '../test/support/seeded-random.mjs';
import { median } from './stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', p));
const { ProfileBuilder } = await dist('profile/model.js');
const { encodePprof } = await dist('profile/pprof.js');
const { buildCallTree, searchCallTree } = await dist('query/call-tree.js');
const { layoutFlame } = await dist('render/flame-layout.js');
const { renderFlameText } = await dist('render/flame-text.js');
const { Chalk } = await import('chalk');

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const TARGET_NODES = 100_000;


/** Stacks that extend earlier ones (shared callers), until the call tree has about TARGET_NODES nodes. */
function makeProfile() {
  const random = seeded(6);
  const b = new ProfileBuilder([{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }], { period: 10_000_000 });
  const frames = Array.from({ length: 6000 }, (_, i) =>
    b.frameId({ name: `github.com/acme/svc/pkg${i % 97}.(*T${i % 13}).Method${i}`, module: i % 7 === 0 ? '[kernel.kallsyms]' : 'svc', kind: i % 7 === 0 ? 'kernel' : 'native' }),
  );
  const rootFirst = [];
  let nodes = 0;
  const seen = new Set();
  while (nodes < TARGET_NODES) {
    const base = rootFirst.length > 20 && random() < 0.85 ? rootFirst[Math.floor(random() * rootFirst.length)] : [];
    const depth = 6 + Math.floor(random() * 30);
    const s = base.slice(0, Math.min(base.length, Math.floor(random() * depth)));
    while (s.length < depth) s.push(frames[Math.floor(random() ** 2 * frames.length)]);
    rootFirst.push(s);
    for (let k = 1; k <= s.length; k++) {
      const key = s.slice(0, k).join(',');
      if (!seen.has(key)) {
        seen.add(key);
        nodes++;
      }
    }
    const count = 1 + Math.floor(random() ** 3 * 40);
    b.addSample({ stack: b.stackId([...s].reverse()), values: [count, count * 10_000_000] });
  }
  return b.build();
}


// CPU time of this process (user + system), not wall time: with other engineers'
// jobs on two cores, wall time mostly measures waiting for a core.
function time(fn) {
  const t0 = process.cpuUsage();
  const r = fn();
  const d = process.cpuUsage(t0);
  return [(d.user + d.system) / 1000, r];
}

const profile = makeProfile();
const chalk = new Chalk({ level: 3 });
const steps = { build: [], first: [], key: [], search: [] };
let tree;
for (let r = 0; r < RUNS; r++) {
  const [tb, t] = time(() => buildCallTree({ profile, typeIndex: 1 }));
  tree = t;
  steps.build.push(tb);
  const [tf] = time(() => renderFlameText(tree, layoutFlame(tree, { width: 200, maxDepth: 58 }), { chalk }));
  steps.first.push(tb + tf);
  // A key press: zoom into a frame a few levels down, lay out and draw again.
  const target = Math.floor((r + 1) * (tree.count / (RUNS + 2)));
  const [tk] = time(() => renderFlameText(tree, layoutFlame(tree, { width: 200, zoom: target, maxDepth: 58 }), { chalk }));
  steps.key.push(tk);
  const [ts] = time(() => searchCallTree(tree, /Method1\d\d$/));
  steps.search.push(ts);
}

const dir = mkdtempSync(join(tmpdir(), 'profctl-bench-flame-'));
const file = join(dir, 'flame-100k.pb.gz');
writeFileSync(file, encodePprof(profile));
const bin = join(root, 'bin/profctl');
const env = { ...process.env, NO_COLOR: '1' };
delete env.FORCE_COLOR;
function run(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
const haveGo = spawnSync('go', ['version']).status === 0;
const cli = { text: [], svg: [], pprof: [] };
for (let r = 0; r < Math.min(RUNS, 5); r++) {
  cli.text.push(run(process.execPath, [bin, 'flame', '--input', file, '--width', '200']));
  cli.svg.push(run(process.execPath, [bin, 'flame', '--input', file, '--format', 'svg', '-o', join(dir, 'f.svg')]));
  if (haveGo) cli.pprof.push(run('go', ['tool', 'pprof', '-tree', '-nodecount=0', file]));
}

const cpu = (() => {
  try {
    return execSync("grep -m1 'model name' /proc/cpuinfo", { encoding: 'utf8' }).split(':')[1].trim();
  } catch {
    return cpus()[0]?.model ?? 'unknown';
  }
})();
const fmt = (xs) => `${median(xs).toFixed(1)} | ${xs.map((x) => x.toFixed(1)).join(', ')}`;
const lines = [
  `## flame (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Machine: ${cpus().length} CPUs, ${cpu}, load average ${execSync('cat /proc/loadavg', { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ')} at the end of the run. Input: synthetic CPU profile, ${profile.samples.length} samples, call tree of ${tree.count} nodes, depth ${tree.maxDepth} (seed 6, bench/flame.mjs); pprof file ${(statSync(file).size / 1e6).toFixed(1)} MB.`,
  '',
  `| step | median of ${RUNS} (ms; CPU time in-process, wall time for commands) | runs (ms) |`,
  '|---|---:|---|',
  `| build the call tree (buildCallTree) | ${fmt(steps.build)} |`,
  `| first frame: build + layout + draw a 200×58 terminal | ${fmt(steps.first)} |`,
  `| key press: zoom, layout + draw again | ${fmt(steps.key)} |`,
  `| regex search over the tree | ${fmt(steps.search)} |`,
  `| \`profctl flame --input F --width 200\` (whole command) | ${fmt(cli.text)} |`,
  `| \`profctl flame --input F --format svg -o f.svg\` | ${fmt(cli.svg)} |`,
  ...(haveGo ? [`| \`go tool pprof -tree -nodecount=0 F\` | ${fmt(cli.pprof)} |`] : []),
  '',
  haveGo
    ? `profctl flame (text) / go tool pprof -tree: **${(median(cli.text) / median(cli.pprof)).toFixed(2)}×**; SVG: **${(median(cli.svg) / median(cli.pprof)).toFixed(2)}×** (below 1 is faster). Targets for the interactive view: first frame < 500 ms, key press < 50 ms. Shared machine: numbers are noisy.`
    : 'go is not installed: no peer ratio in this run. Shared machine: numbers are noisy.',
  '',
];
const svgSize = statSync(join(dir, 'f.svg')).size;
lines.splice(lines.length - 1, 0, '', `The SVG keeps every frame wider than 0.1 px (for zooming without script support): ${(svgSize / 1e6).toFixed(1)} MB here; the HTML embeds the tree as JSON instead and is several times smaller.`);
rmSync(dir, { recursive: true, force: true });
const section = lines.join('\n');
process.stdout.write(`${section}\n`);
if (process.argv.includes('--append')) appendFileSync(join(root, 'bench/RESULTS.md'), `\n${section}\n`);
