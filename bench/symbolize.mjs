// Symbolization throughput of profctl's Symbolizer (dist/symbolize) against
// binutils' addr2line on the same addresses, in the same run.
//
// Target: a Node process (the NodeSource binary, ~78k functions) plus libc.
// Stacks are 40 frames of real function addresses (taken with nm) at the
// target's runtime addresses. Three numbers:
//   cold   — a new Symbolizer names its first stack of a new process: maps,
//            opening its binaries, building node's and libc's symbol tables
//   memory — heap + external bytes the Symbolizer retains after that (after GC)
//   warm   — 100 Hz × 2 cores × 60 s of 40-frame stacks drawn from 2,000 distinct stacks
//   miss   — every frame a different address (caches do not help)
// Peer: `addr2line -f -e <binary>` fed the first 4,000 of the same distinct
// addresses (one process per binary, stdin; it is slow on a 100 MB binary, so
// it gets a subset and rates are compared per frame).
// Usage: node --expose-gc bench/symbolize.mjs [repeats=5]

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Symbolizer } from '../dist/symbolize/symbolizer.js';
import { median } from './stats.mjs';

const repeats = Number(process.argv[2] ?? 5);

// Deterministic pseudo-random numbers so every run draws the same stacks.
let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 300));
const pid = child.pid;
const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').filter(Boolean).map((l) => {
  const [range, perms, offset, , , path = ''] = l.split(/\s+/);
  const [start, end] = range.split('-').map((x) => parseInt(x, 16));
  return { start, end, perms, offset: parseInt(offset, 16), path };
});
const nodePath = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
const exe = execFileSync('readlink', [`/proc/${pid}/exe`], { encoding: 'utf8' }).trim();
const libc = maps.find((m) => m.path.includes('libc.so') && m.perms.includes('x')).path;

function functions(path, dynamic) {
  const out = execFileSync('nm', ['-S', '--defined-only', ...(dynamic ? ['-D'] : []), path], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return out.split('\n').map((l) => l.split(' ')).filter((f) => f.length === 4 && /[tTwW]/.test(f[2]) && parseInt(f[1], 16) > 4).map((f) => ({ addr: parseInt(f[0], 16), size: parseInt(f[1], 16) }));
}
const isExec = (p) => /Type:\s+EXEC/.test(execFileSync('readelf', ['-h', p], { encoding: 'utf8' }));
const bias = (p) => (isExec(p) ? 0 : maps.find((m) => m.path === p && m.offset === 0).start);
const targets = [
  { path: exe, funcs: functions(exe, false), bias: bias(exe) },
  { path: libc, funcs: functions(libc, true), bias: bias(libc) },
];

/** A runtime address inside a random function (90% node, 10% libc) and its binary-relative address. */
function randomFrame() {
  const t = targets[rand() < 0.9 ? 0 : 1];
  const f = t.funcs[Math.floor(rand() * t.funcs.length)];
  const rel = f.addr + 1 + Math.floor(rand() * (f.size - 2));
  return { addr: t.bias + rel, rel, t };
}

const distinct = Array.from({ length: 2000 }, () => Array.from({ length: 40 }, randomFrame));
const warmStacks = Array.from({ length: 100 * 2 * 60 }, () => distinct[Math.floor(rand() * distinct.length)].map((f) => f.addr));
const missFrames = Array.from({ length: 40 * 2000 }, randomFrame);
const missStacks = Array.from({ length: 2000 }, (_, i) => missFrames.slice(i * 40, i * 40 + 40).map((f) => f.addr));

const PEER_FRAMES = 4000;
const cold = [], warm = [], miss = [], peer = [], retained = [];
const heldBytes = () => {
  globalThis.gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
};
for (let r = 0; r < repeats; r++) {
  let t = performance.now();
  let sym = new Symbolizer();
  sym.notePids([pid]);
  sym.symbolizeUser(pid, missStacks[0]);
  cold.push(performance.now() - t);
  // What the Symbolizer holds: memory with it, less memory once it is dropped.
  const held = heldBytes();
  sym = null;
  retained.push((held - heldBytes()) / 2 ** 20);
  sym = new Symbolizer();
  sym.notePids([pid]);
  t = performance.now();
  for (const s of warmStacks) sym.symbolizeUser(pid, s);
  warm.push(performance.now() - t);
  const fresh = new Symbolizer();
  fresh.notePids([pid]);
  t = performance.now();
  for (const s of missStacks) fresh.symbolizeUser(pid, s);
  miss.push(performance.now() - t);
  const st = fresh.stats();
  if (st.userUnresolved > st.userFrames * 0.01) throw new Error(`too many unresolved frames: ${JSON.stringify(st)}`);
  t = performance.now();
  for (const target of targets) {
    const input = missFrames.slice(0, PEER_FRAMES).filter((f) => f.t === target).map((f) => '0x' + f.rel.toString(16)).join('\n') + '\n';
    const res = spawnSync('addr2line', ['-f', '-e', target.path], { input, maxBuffer: 1 << 28 });
    if (res.status !== 0) throw new Error('addr2line failed');
  }
  peer.push(performance.now() - t);
}
child.kill();

const fmt = (x) => x.toFixed(0);
const frames = 40 * warmStacks.length;
const cpu = os.cpus()[0]?.model ?? 'unknown';
const lines = [
  `## symbolize (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Machine: ${os.cpus().length} CPUs, ${cpu}. Node ${process.version}. Command: \`node --expose-gc bench/symbolize.mjs ${repeats}\` (after \`npx tsc -p .\`).`,
  `Target: a live \`node\` process (${nodePath}; ${targets[0].funcs.length} sized functions) and libc (${targets[1].funcs.length}); stacks of 40 frames at real function addresses; median of ${repeats} runs. Shared, noisy machine.`,
  '',
  '| what | median (ms) | runs (ms) | rate |',
  '|---|---:|---|---:|',
  `| cold: a new Symbolizer names a first stack (maps + node's and libc's symbol tables) | ${fmt(median(cold))} | ${cold.map(fmt).join(', ')} | |`,
  `| memory held after cold (MiB, heap + external, after GC${globalThis.gc ? '' : ' — run with --expose-gc'}) | ${median(retained).toFixed(1)} | ${retained.map((x) => x.toFixed(1)).join(', ')} | |`,
  `| warm: ${warmStacks.length} stacks (100 Hz × 2 cores × 60 s) from 2,000 distinct | ${fmt(median(warm))} | ${warm.map(fmt).join(', ')} | ${fmt(frames / (median(warm) / 1000))} frames/s |`,
  `| miss: 2,000 stacks, 80,000 distinct addresses | ${fmt(median(miss))} | ${miss.map(fmt).join(', ')} | ${fmt(80000 / (median(miss) / 1000))} frames/s |`,
  `| peer: \`addr2line -f -e BINARY\` on the first ${PEER_FRAMES} of those addresses (incl. its start-up) | ${fmt(median(peer))} | ${peer.map(fmt).join(', ')} | ${fmt(PEER_FRAMES / (median(peer) / 1000))} frames/s |`,
  '',
  `Per frame, profctl (miss) / addr2line: **${((median(miss) / 80000) / (median(peer) / PEER_FRAMES)).toFixed(4)}×** the time (below 1 is faster; profctl also demangles, addr2line without -C does not; addr2line is a one-shot tool, not a resident symbolizer). `
    + `Warm symbolization of one minute of 2-core sampling takes ${fmt(median(warm))} ms: ${((median(warm) / 60000) * 100).toFixed(2)}% of one core.`,
  '',
];
console.log(lines.join('\n'));
