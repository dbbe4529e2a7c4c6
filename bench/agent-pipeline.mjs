// The agent's per-sample work in user space, without the machine: a
// synthetic helper stream (40 numbered stacks of 30 frames, two threads,
// 200,000 samples, a pair every 150 out of time order as two CPUs' samples
// meet in the ring), once as protocol version 4 sends them (a SAMPLE_REF
// record each) and once as version 6 does (SAMPLES records of 2,000, one
// 10 s flush of two busy CPUs), each decoded, collected with a
// symbolizer that names addresses from a table (naming itself is not what is
// measured), and written to a store in windows of at least 2,000 samples (10 s at 99 Hz on
// two busy CPUs) without fsync. Prints ns per sample for each stage.
// Run it with the agent's V8 flags, as the launcher does:
//   node --max-opt=1 --no-concurrent-recompilation --no-memory-reducer bench/agent-pipeline.mjs
// Needs dist/ (npx tsc -p .).
import { HelperStreamDecoder } from '../dist/capture/helper-protocol.js';
import { SampleCollector } from '../dist/symbolize/sample-collector.js';
import { openStoreWriter } from '../dist/store/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './stats.mjs';
const N = 200_000;
/** Samples per SAMPLES record in the version 6 stream: one 10 s flush of two busy CPUs at 99 Hz. */
const RUN = 2000;
function rec(type, p) { const b = Buffer.alloc(8); b.writeUInt32LE(8 + p.length, 0); b.writeUInt16LE(type, 4); return Buffer.concat([b, p]); }
const NST = 40;
const t0 = 1_700_000_000_000_000_000n;
/** Sample i's fields; a pair in every 150 out of time order, as two CPUs' samples meet in the ring. */
const wallNs = (i) => t0 + BigInt(i % 150 === 1 ? i - 1 : i % 150 === 0 && i ? i + 1 : i) * 5_050_505n;
function stream(version) {
  const parts = [];
  const h = Buffer.alloc(16); h.writeUInt32LE(0x4c544350, 0); h.writeUInt16LE(version, 4); h.writeUInt16LE(16, 6); parts.push(h);
  for (let i = 0; i < NST; i++) { const f = Buffer.alloc(16 + 8 * 30); f.writeUInt32LE(i, 0); f.writeUInt32LE(1000 + (i % 2), 4); f.writeUInt16LE(25, 8); f.writeUInt16LE(5, 10); f.writeUInt32LE(i === 0 ? 1 : 0, 12); for (let k = 0; k < 25; k++) f.writeBigUInt64LE(0x401000n + BigInt(i * 64 + k), 16 + 8 * k); for (let k = 0; k < 5; k++) f.writeBigUInt64LE(0xffffffff81000000n + BigInt(k * 16 + i), 16 + 200 + 8 * k); parts.push(rec(8, f)); }
  for (let i = 0; i < 2; i++) { const c = Buffer.alloc(20); c.writeUInt32LE(i, 0); c.write('spin' + i, 4); parts.push(rec(9, c)); }
  if (version < 6) {
    for (let i = 0; i < N; i++) { const p = Buffer.alloc(32); p.writeBigUInt64LE(wallNs(i), 0); p.writeUInt32LE(1000 + (i % 2), 8); p.writeUInt32LE(1000 + (i % 2), 12); p.writeUInt32LE(i % 2, 16); p.writeUInt32LE((i * 7) % NST, 20); p.writeUInt32LE(i % 2, 24); parts.push(rec(10, p)); }
  } else {
    for (let from = 0; from < N; from += RUN) {
      const n = Math.min(RUN, N - from);
      const p = Buffer.alloc(8 + 28 * n);
      p.writeUInt32LE(n, 0);
      for (let j = 0; j < n; j++) {
        const i = from + j;
        p.writeDoubleLE(Number(wallNs(i) / 1000n) / 1000, 8 + 8 * j);
        [1000 + (i % 2), 1000 + (i % 2), i % 2, (i * 7) % NST, i % 2].forEach((v, k) => p.writeUInt32LE(v, 8 + 8 * n + 4 * n * k + 4 * j));
      }
      parts.push(rec(11, p));
    }
  }
  return Buffer.concat(parts);
}
const frames = new Map();
const frame = (a, kind) => { let f = frames.get(a); if (!f) frames.set(a, f = { name: 'fn_' + a.toString(16), module: 'm', kind }); return f; };
const sym = { notePids() {}, noteProcess() {}, symbolizeUser: (pid, addrs) => addrs.map((a) => frame(a, 'native')), symbolizeKernel: (addrs) => addrs.map((a) => frame(a, 'kernel')), mayNameLater: () => false };

/** Decodes, collects and stores one stream in 64 KiB chunks, as the agent reads its helper; ns per stage. */
function run(bytes) {
  const c = new SampleCollector(sym, 99, '/nonexistent');
  const dir = mkdtempSync(join(tmpdir(), 'profctl-pipeline-'));
  const w = openStoreWriter(dir, { durable: false });
  const dec = new HelperStreamDecoder();
  let tDec = 0, tAdd = 0, tFlush = 0;
  const CH = 64 * 1024;
  let inWindow = 0, win = 0;
  for (let off = 0; off < bytes.length; off += CH) {
    let t = process.hrtime.bigint();
    const recs = dec.push(bytes.subarray(off, off + CH));
    const batches = [];
    const batch = [];
    for (const r of recs) {
      if (r.type === 'sample') batch.push(r.sample);
      else if (r.type === 'samples') batches.push(r.block);
    }
    if (batch.length) batches.push(batch);
    tDec += Number(process.hrtime.bigint() - t);
    t = process.hrtime.bigint();
    for (const b of batches) c.addBatch(b);
    tAdd += Number(process.hrtime.bigint() - t);
    for (const b of batches) inWindow += Array.isArray(b) ? b.length : b.count;
    if (inWindow >= 2000) {
      t = process.hrtime.bigint();
      const cols = c.takeColumns(1_700_000_000_000 + win * 10000);
      w.appendSegment({ startMs: 1_700_000_000_000 + win * 10000, endMs: 1_700_000_000_000 + (win + 1) * 10000, columns: cols });
      tFlush += Number(process.hrtime.bigint() - t);
      inWindow = 0; win++;
    }
  }
  w.close();
  rmSync(dir, { recursive: true, force: true });
  return { tDec, tAdd, tFlush, win };
}

// Alternated, so drift on a shared machine falls on both alike.
const streams = { 4: stream(4), 6: stream(6) };
const times = { 4: [], 6: [] };
for (let round = 0; round < 3; round++) for (const v of round % 2 ? [6, 4] : [4, 6]) times[v].push(run(streams[v]));
const row = (v, label) => {
  const m = (k) => median(times[v].map((t) => t[k])) / N;
  const total = median(times[v].map((t) => t.tDec + t.tAdd + t.tFlush)) / N;
  return { label, dec: m('tDec'), add: m('tAdd'), flush: m('tFlush'), total };
};
const rows = [row(4, 'version 4–5: a SAMPLE_REF record per sample'), row(6, `version 6: SAMPLES records of ${RUN}`)];
const win = times[4][0].win;
console.log(`## agent pipeline per sample (${new Date().toISOString().slice(0, 10)})

Command: \`node ${process.execArgv.join(' ')} bench/agent-pipeline.mjs\` (Node ${process.version}). ${N} samples, ${win} windows; each stream three times, alternated; medians.

| stream | decode | collect | flush to the store | **total** |
|---|---:|---:|---:|---:|
${rows.map((r) => `| ${r.label} | ${r.dec.toFixed(0)} ns | ${r.add.toFixed(0)} ns | ${r.flush.toFixed(0)} ns | **${(r.total / 1000).toFixed(2)} µs** |`).join('\n')}

Version 4–5 / version 6, total: **${(rows[0].total / rows[1].total).toFixed(2)}×**.`);
