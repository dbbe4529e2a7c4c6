// The agent's per-sample work in user space, without the machine: a
// synthetic helper stream (protocol version 4: 40 numbered stacks of 30
// frames, two threads, 200,000 SAMPLE_REF records, a pair every 150
// out of time order as two CPUs' samples meet in the ring) decoded, collected with a
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
const N = 200_000;
function rec(type, p) { const b = Buffer.alloc(8); b.writeUInt32LE(8 + p.length, 0); b.writeUInt16LE(type, 4); return Buffer.concat([b, p]); }
const parts = [];
const h = Buffer.alloc(16); h.writeUInt32LE(0x4c544350, 0); h.writeUInt16LE(4, 4); h.writeUInt16LE(16, 6); parts.push(h);
const NST = 40;
for (let i = 0; i < NST; i++) { const f = Buffer.alloc(16 + 8 * 30); f.writeUInt32LE(i, 0); f.writeUInt32LE(1000 + (i % 2), 4); f.writeUInt16LE(25, 8); f.writeUInt16LE(5, 10); f.writeUInt32LE(i === 0 ? 1 : 0, 12); for (let k = 0; k < 25; k++) f.writeBigUInt64LE(0x401000n + BigInt(i * 64 + k), 16 + 8 * k); for (let k = 0; k < 5; k++) f.writeBigUInt64LE(0xffffffff81000000n + BigInt(k * 16 + i), 16 + 200 + 8 * k); parts.push(rec(8, f)); }
for (let i = 0; i < 2; i++) { const c = Buffer.alloc(20); c.writeUInt32LE(i, 0); c.write('spin' + i, 4); parts.push(rec(9, c)); }
const t0 = 1_700_000_000_000_000_000n;
for (let i = 0; i < N; i++) { const p = Buffer.alloc(32); p.writeBigUInt64LE(t0 + BigInt(i % 150 === 1 ? i - 1 : i % 150 === 0 && i ? i + 1 : i) * 5_050_505n, 0); p.writeUInt32LE(1000 + (i % 2), 8); p.writeUInt32LE(1000 + (i % 2), 12); p.writeUInt32LE(i % 2, 16); p.writeUInt32LE((i * 7) % NST, 20); p.writeUInt32LE(i % 2, 24); parts.push(rec(10, p)); }
const stream = Buffer.concat(parts);
const frames = new Map();
const frame = (a, kind) => { let f = frames.get(a); if (!f) frames.set(a, f = { name: 'fn_' + a.toString(16), module: 'm', kind }); return f; };
const sym = { notePids() {}, noteProcess() {}, symbolizeUser: (pid, addrs) => addrs.map((a) => frame(a, 'native')), symbolizeKernel: (addrs) => addrs.map((a) => frame(a, 'kernel')), mayNameLater: () => false };
const c = new SampleCollector(sym, 99, '/nonexistent');
const dir = mkdtempSync(join(tmpdir(), 'profctl-pipeline-'));
const w = openStoreWriter(dir, { durable: false });
const dec = new HelperStreamDecoder();
let tDec = 0, tAdd = 0, tFlush = 0;
const CH = 64 * 1024;
let inWindow = 0, win = 0;
for (let off = 0; off < stream.length; off += CH) {
  let t = process.hrtime.bigint();
  const recs = dec.push(stream.subarray(off, off + CH));
  const batch = [];
  for (const r of recs) if (r.type === 'sample') batch.push(r.sample);
  tDec += Number(process.hrtime.bigint() - t);
  t = process.hrtime.bigint();
  c.addBatch(batch);
  tAdd += Number(process.hrtime.bigint() - t);
  inWindow += batch.length;
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
console.log(`## agent pipeline per sample (${new Date().toISOString().slice(0, 10)})

Command: \`node ${process.execArgv.join(' ')} bench/agent-pipeline.mjs\` (Node ${process.version}). ${N} samples, ${win} windows.

| decode | collect | flush to the store | **total** |
|---:|---:|---:|---:|
| ${(tDec / N).toFixed(0)} ns | ${(tAdd / N).toFixed(0)} ns | ${(tFlush / N).toFixed(0)} ns | **${((tDec + tAdd + tFlush) / N / 1000).toFixed(2)} µs** |`);
