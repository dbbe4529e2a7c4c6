// Ground truth for the sample↔span join, on real BPF samples: a
// thread-per-request C program (test/native/request-server.c) burns CPU in a
// function chosen by each request's kind, writes its spans (with thread.id
// and process.pid) as OTLP JSON lines, and publishes the OpenTelemetry thread
// context. It runs under `profctl record`. Then:
//   - for the longest traces, `top --trace-id` names the request's own
//     function, through the thread-time join (trace labels stripped) and
//     through the in-kernel context (labels, no spans);
//   - over all traces, the precision and recall of both paths against the
//     program's own record of which thread ran which request when;
//   - `trace --json` gives every trace the sample count the join gives it.
// Needs root; in CI (root) it must run. With PROFCTL_GROUND_TRUTH_JSON=FILE
// the measured numbers are also written there (bench/trace-join.mjs).
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHelper, buildTarget, skipReason, repoRoot } from './helper-fixtures.js';
import { readProfileFile } from '../../src/profile/read-file.js';
import { encodePprof } from '../../src/profile/pprof-encode.js';
import { parseOtlpJson } from '../../src/spans/otlp-json.js';
import { joinSamplesToSpans, Kind } from '../../src/query/join.js';
import type { Profile, Sample } from '../../src/profile/model.js';

const bin = join(repoRoot, 'bin', 'profctl');
const dir = mkdtempSync(join(tmpdir(), 'profctl-ground-truth-'));
const THREADS = 4;
const REQUESTS_PER_THREAD = 20;
const HZ = 299;

interface Request {
  pid: number;
  tid: number;
  traceId: string;
  kind: string;
  rootSpan: string;
  childSpan: string;
  startMs: number;
  endMs: number;
  childStartMs: number;
  childEndMs: number;
}

const nsToMs = (ns: string) => Number(BigInt(ns) / 1000n) / 1000;
const attr = (list: Array<{ key: string; value: Record<string, string> }>, key: string) => {
  const v = list.find((a) => a.key === key)?.value;
  return v ? (v.intValue ?? v.stringValue) : undefined;
};

/** The program's own record, read with JSON.parse (not profctl's OTLP reader). */
function readGroundTruth(path: string): Request[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const rs = JSON.parse(line).resourceSpans[0];
      const [root, child] = rs.scopeSpans[0].spans;
      return {
        pid: Number(attr(rs.resource.attributes, 'process.pid')),
        tid: Number(attr(root.attributes, 'thread.id')),
        traceId: root.traceId,
        kind: String(attr(root.attributes, 'request.kind')),
        rootSpan: root.spanId,
        childSpan: child.spanId,
        startMs: nsToMs(root.startTimeUnixNano),
        endMs: nsToMs(root.endTimeUnixNano),
        childStartMs: nsToMs(child.startTimeUnixNano),
        childEndMs: nsToMs(child.endTimeUnixNano),
      };
    });
}

function profctl(args: string[], timeout = 120_000) {
  return spawnSync(bin, args, { encoding: 'utf8', timeout, env: { ...process.env, NO_COLOR: '1' } });
}

interface Score {
  /** Samples of the program taken inside some request. */
  inside: number;
  /** Samples the path attributed to some trace. */
  attributed: number;
  /** Attributed to the trace whose request held the sample. */
  correct: number;
  /** Of the correct ones, attributed to the right span (the kind's child span or the root). */
  correctSpan: number;
  ambiguous: number;
  precision: number;
  recall: number;
}

/** Scores per-sample attributions against the ground truth. */
function score(samples: Sample[], owner: (i: number) => { traceId?: string; spanId?: string } | undefined, truth: (s: Sample) => { req: Request; spanId: string } | undefined, ambiguous = 0): Score {
  let inside = 0;
  let attributed = 0;
  let correct = 0;
  let correctSpan = 0;
  samples.forEach((s, i) => {
    const t = truth(s);
    const o = owner(i);
    if (t) inside++;
    if (!o?.traceId) return;
    attributed++;
    if (t && o.traceId === t.req.traceId) {
      correct++;
      if (o.spanId === t.spanId) correctSpan++;
    }
  });
  return { inside, attributed, correct, correctSpan, ambiguous, precision: correct / attributed, recall: correct / inside };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

describe.skipIf(skipReason !== undefined)('the sample↔span join against ground truth (real BPF)', () => {
  let requests: Request[];
  let profile: Profile;
  let pid: number;
  const recorded = join(dir, 'requests.pb.gz');
  const stripped = join(dir, 'requests-no-labels.pb.gz');
  const spansFile = join(dir, 'spans.jsonl');
  const measured: Record<string, unknown> = {};

  beforeAll(async () => {
    buildHelper();
    const server = buildTarget('request-server', ['-O1', '-fno-omit-frame-pointer', '-mno-omit-leaf-frame-pointer', '-pthread']);
    const r = profctl(['record', '--hz', String(HZ), '-o', recorded, '--', server, String(THREADS), String(REQUESTS_PER_THREAD), spansFile], 300_000);
    if (r.status !== 0) throw new Error(`profctl record failed (${r.status}): ${r.stderr}`);
    requests = readGroundTruth(spansFile);
    pid = requests[0]!.pid;
    profile = await readProfileFile(recorded);
    // The same samples with no trace context: only span data can attribute them.
    const bare: Profile = { ...profile, samples: profile.samples.map(({ labels, ...rest }) => ({ ...rest, ...(labels ? { labels: Object.fromEntries(Object.entries(labels).filter(([k]) => k !== 'trace_id' && k !== 'span_id')) } : {}) })) };
    writeFileSync(stripped, encodePprof(bare));
  }, 360_000);

  /** The request (and span) that held a sample, from the program's own record. */
  const truthOf = (s: Sample) => {
    if (s.pid !== pid || s.timeMs === undefined) return undefined;
    const req = requests.find((q) => q.tid === s.tid && s.timeMs! >= q.startMs && s.timeMs! <= q.endMs);
    if (!req) return undefined;
    return { req, spanId: s.timeMs >= req.childStartMs && s.timeMs <= req.childEndMs ? req.childSpan : req.rootSpan };
  };

  it('has a meaningful workload: every request written, most samples inside requests', () => {
    expect(requests.length).toBe(THREADS * REQUESTS_PER_THREAD);
    expect(new Set(requests.map((q) => q.tid)).size).toBe(THREADS);
    const mine = profile.samples.filter((s) => s.pid === pid);
    const inside = mine.filter((s) => truthOf(s));
    expect(mine.length).toBeGreaterThan(500);
    expect(inside.length / mine.length).toBeGreaterThan(0.8);
    expect(mine.some((s) => !truthOf(s))).toBe(true); // between_requests: work outside any span
  });

  it('thread-time join (spans only): precision ≥ 99%, recall ≥ 95% over all traces', () => {
    const spans = parseOtlpJson(readFileSync(spansFile, 'utf8'), spansFile).spans;
    expect(spans.length).toBe(2 * requests.length);
    const bare = profile.samples.map(({ labels: _labels, ...rest }) => rest as Sample);
    const j = joinSamplesToSpans({ ...profile, samples: bare }, spans);
    let ambiguous = 0;
    const kinds = new Set<number>();
    const owner = (i: number) => {
      const k = j.kind[i]!;
      if (k === Kind.Ambiguous) ambiguous++;
      if (k !== Kind.Thread && k !== Kind.Process) return undefined;
      kinds.add(k);
      const sp = j.spans[j.span[i]!]!;
      return { traceId: sp.traceId, spanId: sp.spanId };
    };
    const s = score(bare, owner, truthOf);
    s.ambiguous = ambiguous;
    measured.threadTime = s;
    console.log(`thread-time join: ${s.attributed} attributed, ${s.inside} inside requests, precision ${pct(s.precision)}, recall ${pct(s.recall)}, right span ${pct(s.correctSpan / s.correct)}`);
    expect([...kinds]).toEqual([Kind.Thread]); // spans carry thread.id: no process-time guesses
    expect(ambiguous).toBe(0);
    expect(s.inside).toBeGreaterThan(400);
    expect(s.precision).toBeGreaterThanOrEqual(0.99);
    expect(s.recall).toBeGreaterThanOrEqual(0.95);
    expect(s.correctSpan / s.correct).toBeGreaterThanOrEqual(0.99);
  });

  it('in-kernel thread context (labels only, no spans): precision ≥ 99%, recall ≥ 95% over all traces', () => {
    const j = joinSamplesToSpans(profile, []);
    const owner = (i: number) => (j.kind[i] === Kind.Exact ? j.exactTrace.get(i) : undefined);
    const s = score(profile.samples, owner, truthOf);
    // When did the samples inside a request that carry no context happen,
    // counted from the program's first sample? (The sampler needs the new
    // process's TLS offset before it can read the context.)
    const mine = profile.samples.filter((x) => x.pid === pid);
    const firstMs = Math.min(...mine.map((x) => x.timeMs!));
    const missedAt = profile.samples.flatMap((x, i) => (truthOf(x) && owner(i)?.traceId !== truthOf(x)!.req.traceId ? [x.timeMs! - firstMs] : []));
    const lastMissMs = missedAt.length ? Math.max(...missedAt) : 0;
    measured.threadContext = { ...s, missed: missedAt.length, lastMissMsAfterStart: Math.round(lastMissMs) };
    console.log(`in-kernel thread context: ${s.attributed} attributed, ${s.inside} inside requests, precision ${pct(s.precision)}, recall ${pct(s.recall)}, right span ${pct(s.correctSpan / s.correct)}; ${missedAt.length} missed, the last ${lastMissMs.toFixed(0)} ms after the program's first sample`);
    expect(s.inside).toBeGreaterThan(400);
    expect(s.precision).toBeGreaterThanOrEqual(0.99);
    expect(s.recall).toBeGreaterThanOrEqual(0.95);
    expect(s.correctSpan / s.correct).toBeGreaterThanOrEqual(0.99);
    // No sample outside every request carries a context.
    const outside = profile.samples.filter((x, i) => x.pid === pid && !truthOf(x) && owner(i));
    expect(outside.length).toBeLessThanOrEqual(Math.ceil(s.attributed * 0.01));
  });

  it('top --trace-id names the request’s own function for the longest traces, by either path', () => {
    const longest = [...requests].sort((a, b) => b.endMs - b.startMs - (a.endMs - a.startMs));
    const checked: string[] = [];
    for (const req of longest) {
      const inside = profile.samples.filter((s) => truthOf(s)?.req === req).length;
      if (inside < 15) continue; // too few samples for a hottest function to mean anything
      for (const [input, extra, kindWord] of [
        [stripped, ['--spans', spansFile], 'thread-time'],
        [recorded, [], 'exact'],
        [recorded, ['--spans', spansFile], 'both'], // the sample's own context first, spans for the rest
      ] as const) {
        const r = profctl(['top', '--trace-id', req.traceId, '--input', input, ...extra, '--json', '--sample-type', 'samples']);
        expect(r.status, r.stderr).toBe(0);
        const rows: Array<{ function: string; self: number }> = JSON.parse(r.stdout).rows;
        expect(rows[0]!.function, `trace ${req.traceId} (${kindWord})`).toBe(`kind_${req.kind}`);
        const m = /samples: (\d+) \(exact (\d+), thread-time (\d+), process-time (\d+), ambiguous (\d+)\)/.exec(r.stderr);
        expect(m, r.stderr).not.toBeNull();
        const [total, exact, thread] = [Number(m![1]), Number(m![2]), Number(m![3])];
        if (kindWord === 'exact') expect(exact).toBe(total);
        else if (kindWord === 'thread-time') expect(thread).toBe(total);
        else {
          expect(exact + thread).toBe(total);
          expect(exact).toBe(profile.samples.filter((x) => x.labels?.trace_id === req.traceId).length);
        }
        if (kindWord === 'exact') {
          // Exactly the samples whose context names the trace.
          expect(total).toBe(profile.samples.filter((x) => x.labels?.trace_id === req.traceId).length);
        } else {
          expect(total).toBeGreaterThanOrEqual(Math.floor(inside * 0.95));
          expect(total).toBeLessThanOrEqual(Math.ceil(inside * 1.01) + 1);
        }
      }
      checked.push(`${req.kind} ${(req.endMs - req.startMs).toFixed(0)} ms (${inside} samples)`);
      if (checked.length === 3) break;
    }
    console.log(`top --trace-id named the request's function for: ${checked.join('; ')}`);
    expect(checked.length).toBe(3);
  });

  it('trace --json gives every trace the samples the join attributes to it', () => {
    const r = profctl(['trace', '--input', stripped, '--spans', spansFile, '--json', '--limit', '0', '--since', '1d']);
    expect(r.status, r.stderr).toBe(0);
    const traces: Array<{ traceId: string; samples: number; durationMs: number; hottest?: string; root: string }> = JSON.parse(r.stdout).traces;
    expect(traces.length).toBe(requests.length);
    for (let i = 1; i < traces.length; i++) expect(traces[i - 1]!.durationMs).toBeGreaterThanOrEqual(traces[i]!.durationMs);
    let exactCounts = 0;
    for (const t of traces) {
      const req = requests.find((q) => q.traceId === t.traceId)!;
      const truth = profile.samples.filter((s) => truthOf(s)?.req === req).length;
      expect(t.root).toBe(`GET /${req.kind}`);
      if (t.samples === truth) exactCounts++;
      expect(Math.abs(t.samples - truth)).toBeLessThanOrEqual(Math.max(1, Math.ceil(truth * 0.05)));
      if (truth >= 15) expect(t.hottest).toBe(`kind_${req.kind}`);
    }
    measured.traceCountsExact = `${exactCounts}/${traces.length}`;
    if (process.env.PROFCTL_GROUND_TRUTH_JSON) writeFileSync(process.env.PROFCTL_GROUND_TRUTH_JSON, JSON.stringify({ hz: HZ, threads: THREADS, requests: requests.length, samples: profile.samples.filter((s) => s.pid === pid).length, ...measured }, null, 2));
  });
});
