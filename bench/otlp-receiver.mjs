#!/usr/bin/env node
// The agent's OTLP/HTTP receiver under a minute of load: `profctl agent
// --otlp` (real capture, needs root) takes 2,000 spans a second from the real
// OpenTelemetry JS SDK and OTLP/protobuf exporter over loopback while a fuzzer
// sends malformed bodies (random bytes, truncated and bit-flipped protobuf,
// broken JSON, wrong content types, bad gzip, a gzip bomb, an oversized body)
// at the same time. Checks: every span the exporter delivered is in the store
// (no loss), the agent's RSS stays bounded (sampled from /proc every 5 s),
// and the agent is alive and still answering at the end. Prints a markdown
// section for bench/RESULTS.md. Peer in the same run: the same load sent by
// the same client to a bare Node HTTP server that only reads and discards the
// bodies (what the client and loopback alone cost).
//
//   node bench/otlp-receiver.mjs [--rate 2000] [--seconds 60] [--engine auto] [--no-fuzz]
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAgent, runSpanLoad, runFuzz, storedSpanIds, rssKiB, freePort } from './otlp-load.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const rate = Number(opt('rate', 2000));
const seconds = Number(opt('seconds', 60));
const engine = opt('engine', 'auto');
const note = (m) => process.stderr.write(`otlp-receiver: ${m}\n`);
const MiB = (kib) => (kib / 1024).toFixed(1);

// Peer: the same client against a server that only drains bodies.
async function bareServerRun() {
  const port = await freePort();
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (c) => (bytes += c.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const cpu0 = process.cpuUsage();
  const load = await runSpanLoad({ url: `http://127.0.0.1:${port}/v1/traces`, spansPerSecond: rate, seconds: Math.min(seconds, 15) });
  const cpu = process.cpuUsage(cpu0);
  await new Promise((r) => server.close(r));
  return { load, bytes, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const store = fs.mkdtempSync(path.join(os.tmpdir(), 'profctl-otlp-bench-'));
const agent = await startAgent({ store, flush: '1s', extra: ['--engine', engine] });
note(`agent pid ${agent.pid} on ${agent.url}; load ${rate} spans/s for ${seconds} s with the fuzzer running`);

const rss = [];
const t0 = Date.now();
const sampler = setInterval(() => rss.push({ s: (Date.now() - t0) / 1000, kib: rssKiB(agent.pid) }), 5000);
rss.push({ s: 0, kib: rssKiB(agent.pid) });
const cpuTicks = () => {
  const f = fs.readFileSync(`/proc/${agent.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
};
const ticks0 = cpuTicks();

let loadDone = false;
const fuzz = args.includes('--no-fuzz') ? Promise.resolve({ sent: 0, replies: new Map() }) : runFuzz({ url: agent.url, until: () => loadDone, pauseMs: 50 });
const load = await runSpanLoad({ url: agent.url, spansPerSecond: rate, seconds });
loadDone = true;
const fuzzed = await fuzz;
const agentCpuS = (cpuTicks() - ticks0) / 100;
clearInterval(sampler);
rss.push({ s: (Date.now() - t0) / 1000, kib: rssKiB(agent.pid) });
const aliveAfter = agent.alive();
const usedEngine = /sampling at \d+ Hz with (\S+?),/.exec(agent.stderr())?.[1] ?? 'unknown';
// Give the last flush time, then stop cleanly: the agent writes what it holds on SIGTERM.
await new Promise((r) => setTimeout(r, 1500));
const exit = await agent.stop();
const stored = new Set(await storedSpanIds(store, 'otlp-load'));
const missing = [...load.delivered].filter((id) => !stored.has(id)).length;

note('peer run: the same client against a bare HTTP server');
const bare = await bareServerRun();

const firstHalf = rss.filter((r) => r.s <= seconds / 2 && r.s >= 5).map((r) => r.kib);
const secondHalf = rss.filter((r) => r.s > seconds / 2).map((r) => r.kib);
const growthKiB = Math.max(...secondHalf) - Math.max(...firstHalf);
const boundKiB = 64 * 1024;

const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? 'unknown';
const out = [];
out.push(`## OTLP receiver: ${rate} spans/s for ${seconds} s with a fuzzer (bench/otlp-receiver.mjs)`);
out.push('');
out.push(`${new Date().toISOString()} · \`nproc\` ${execFileSync('nproc', { encoding: 'utf8' }).trim()}, ${cpu} · load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (shared machine; one run of a minute)`);
out.push('');
out.push(`Command: \`profctl agent --store TMP --flush 1s --otlp 127.0.0.1:PORT --engine ${engine}\` (sampling the machine as usual, with the ${usedEngine} engine). Load: OpenTelemetry JS \`BasicTracerProvider\` → \`BatchSpanProcessor\` (batches of 512, every 200 ms) → \`@opentelemetry/exporter-trace-otlp-proto\`, ${rate} spans/s paced in 10 ms ticks, over loopback; at the same time a fuzzer sends a malformed body every ~50 ms, round-robin over ${fuzzed.replies.size} kinds.`);
out.push('');
out.push('| measure | value |');
out.push('|---|---|');
out.push(`| spans created / reported delivered by the exporter / export failures | ${load.created.length} / ${load.delivered.size} / ${load.failedSpans} spans |`);
out.push(`| spans delivered but missing from the store | **${missing}** |`);
out.push(`| time to create ${load.created.length} spans / until all exported | ${(load.createMs / 1000).toFixed(1)} s / ${(load.flushedMs / 1000).toFixed(1)} s |`);
out.push(`| agent RSS (every 5 s, MiB) | ${rss.map((r) => MiB(r.kib)).join(', ')} |`);
out.push(`| RSS growth, max of 2nd half − max of 1st half (bound ${MiB(boundKiB)} MiB) | ${MiB(growthKiB)} MiB ${growthKiB <= boundKiB ? '(within)' : '(OVER)'} |`);
out.push(`| agent CPU during the load (capture + receiver + store) | ${agentCpuS.toFixed(1)} s over ${seconds} s (${((agentCpuS / seconds) * 100).toFixed(1)}% of a core) |`);
out.push(`| malformed bodies sent | ${fuzzed.sent} |`);
out.push(`| agent alive after the minute / exit on SIGTERM | ${aliveAfter ? 'yes' : 'NO'} / ${exit.code ?? exit.signal} |`);
out.push(`| peer: same client to a bare drain-only HTTP server (${bare.load.created.length} spans, ${Math.min(seconds, 15)} s) | ${bare.load.delivered.size} delivered, client CPU ${(bare.cpuMs / 1000).toFixed(1)} s; the agent's CPU per span is ${((agentCpuS * 1e6) / Math.max(1, load.delivered.size)).toFixed(0)} µs vs the client's own ${((bare.cpuMs * 1e3) / Math.max(1, bare.load.created.length)).toFixed(0)} µs per span (ratio ${(((agentCpuS * 1e6) / Math.max(1, load.delivered.size)) / ((bare.cpuMs * 1e3) / Math.max(1, bare.load.created.length))).toFixed(2)}) |`);
out.push('');
out.push('Replies to the malformed bodies, per kind (HTTP status × count; "reset" = the connection closed before a reply, as after a 413 mid-body):');
out.push('');
for (const [name, m] of fuzzed.replies) out.push(`- ${name}: ${[...m].map(([k, v]) => `${k}×${v}`).join(', ')}`);
out.push('');
process.stdout.write(out.join('\n') + '\n');
fs.rmSync(store, { recursive: true, force: true });
if (missing || !aliveAfter || growthKiB > boundKiB) process.exitCode = 1;
