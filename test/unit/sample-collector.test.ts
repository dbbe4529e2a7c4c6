// The sample collector names each of the engine's numbered stacks once (and
// reuses the names in later windows) and keeps every sample's own fields;
// what it must not cache (a frame a later try could name, engines without
// numbered stacks) is named again.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProcessSnapshot, RawSample, SampleBlock, SharedStack } from '../../src/capture/capture-types.js';
import type { Frame } from '../../src/profile/model.js';
import { SampleCollector } from '../../src/symbolize/sample-collector.js';
import type { Symbolizer } from '../../src/symbolize/symbolizer.js';

/** A symbolizer that names address A as fn_A (or, from `unknownFrom` on, as a frame a later try could name), counting calls. */
function stubSymbolizer(opts: { unknownFrom?: bigint } = {}) {
  const frames = new Map<string, Frame>();
  const retryable = new WeakSet<Frame>();
  const frameFor = (addr: bigint, kind: 'native' | 'kernel', epoch: number): Frame => {
    const key = `${kind}:${addr}:${epoch}`;
    let f = frames.get(key);
    if (!f) {
      if (opts.unknownFrom !== undefined && addr >= opts.unknownFrom) {
        f = { name: `[unknown] 0x${addr.toString(16)}`, module: '', kind: 'unknown' };
        retryable.add(f);
        return f; // never shared, like an address outside every mapping
      }
      f = { name: `${epoch ? `v${epoch}_` : ''}fn_${addr.toString(16)}`, module: kind === 'kernel' ? '[kernel.kallsyms]' : 'prog', kind };
      frames.set(key, f);
    }
    return f;
  };
  const epochs = new Map<number, number>();
  const calls = { user: 0, kernel: 0 };
  const noted: number[] = [];
  /** What the symbolizer was told, in order: 'name PID' for a user stack named, 'exit PID/START' for an exit. */
  const told: string[] = [];
  const sym = {
    notePids: (pids: Iterable<number>) => noted.push(...pids),
    noteExit: (pid: number, startTime: string) => told.push(`exit ${pid}/${startTime}`),
    noteProcess: (p: ProcessSnapshot) => epochs.set(p.pid, (epochs.get(p.pid) ?? 0) + 1),
    symbolizeUser: (pid: number, addrs: readonly bigint[]) => {
      calls.user++;
      told.push(`name ${pid}`);
      return addrs.map((a) => frameFor(a, 'native', epochs.get(pid) ?? 0));
    },
    symbolizeKernel: (addrs: readonly bigint[]) => {
      calls.kernel++;
      return addrs.map((a) => frameFor(a, 'kernel', 0));
    },
    mayNameLater: (f: Frame) => retryable.has(f),
  };
  return { symbolizer: sym as unknown as Symbolizer, calls, noted, told };
}

/** A numbered stack, as the helper's decoder makes one per STACK record. */
function numbered(user: bigint[], kernel: bigint[]): SharedStack {
  return { userStack: user, kernelStack: kernel };
}

function sample(pid: number, tid: number, stack: SharedStack, extra: Partial<RawSample> = {}, numberedStack = true): RawSample {
  return {
    timeMs: 1_700_000_000_000 + tid,
    pid,
    tid,
    cpu: 0,
    comm: `t${tid}`,
    userStack: stack.userStack,
    kernelStack: stack.kernelStack,
    ...(numberedStack ? { shared: stack } : {}),
    ...extra,
  };
}

const noProc = mkdtempSync(join(tmpdir(), 'profctl-collector-proc-'));

function stacksOf(p: ReturnType<SampleCollector['takeProfile']>): string[] {
  return p.samples.map((s) => p.stacks[s.stack]!.map((f) => p.frames[f]!.name).join(';'));
}

describe('SampleCollector', () => {
  it('names a numbered stack once, in this window and later ones, and keeps every sample’s own fields', () => {
    const { symbolizer, calls } = stubSymbolizer();
    const c = new SampleCollector(symbolizer, 99, noProc);
    const hot = numbered([0x401000n, 0x402000n], [0xffffffff81000000n]);
    const batch = [1, 2, 3, 4].map((tid) => sample(10, tid, hot, tid === 3 ? { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8) } : {}));
    c.addBatch(batch);
    c.addBatch([sample(11, 5, numbered([0x401000n, 0x402000n], []))]); // same addresses, another process: another number
    expect(calls).toEqual({ user: 2, kernel: 1 });
    const p = c.takeProfile();
    expect(stacksOf(p)).toEqual([...Array(4).fill('fn_ffffffff81000000;fn_401000;fn_402000'), 'fn_401000;fn_402000']);
    expect(p.samples.map((s) => [s.pid, s.tid, s.thread, s.process, s.timeMs])).toEqual([
      [10, 1, 't1', 't1', 1_700_000_000_001],
      [10, 2, 't2', 't1', 1_700_000_000_002],
      [10, 3, 't3', 't1', 1_700_000_000_003],
      [10, 4, 't4', 't1', 1_700_000_000_004],
      [11, 5, 't5', 't5', 1_700_000_000_005],
    ]);
    expect(p.samples.map((s) => s.labels)).toEqual([undefined, undefined, { trace_id: 'ab'.repeat(16), span_id: 'cd'.repeat(8) }, undefined, undefined]);
    expect(p.samples.every((s) => s.values[0] === 1 && s.values[1] === Math.round(1e9 / 99))).toBe(true);
    // A new window reuses the names; the new window's profile holds the stack and its frames.
    c.addBatch([sample(10, 1, hot), sample(10, 2, hot)]);
    expect(calls).toEqual({ user: 2, kernel: 1 });
    const next = c.takeProfile();
    expect(stacksOf(next)).toEqual(Array(2).fill('fn_ffffffff81000000;fn_401000;fn_402000'));
    expect(next.frames).toHaveLength(3);
    expect(next.stacks).toHaveLength(1);
  });

  it('names the new number the engine gives after a snapshot (an exec changes what addresses mean)', () => {
    const { symbolizer, calls } = stubSymbolizer();
    const c = new SampleCollector(symbolizer, 99, noProc);
    const snap = (): ProcessSnapshot => ({ pid: 10, reason: 'exec', startTime: '1', timeMs: 0, nsPid: 10, comm: 'after', maps: '', sameRoot: true });
    const before = numbered([0x401000n], []);
    const after = numbered([0x401000n], []);
    c.addBatch([sample(10, 1, before), sample(10, 1, after, { process: snap() }), sample(10, 1, after), sample(10, 1, after, { comm: 'renamed' })]);
    expect(calls.user).toBe(2);
    const p = c.takeProfile();
    expect(stacksOf(p)).toEqual(['fn_401000', 'v1_fn_401000', 'v1_fn_401000', 'v1_fn_401000']);
    // The same thread, before and after the exec, and after renaming itself: each sample carries the names it had.
    expect(p.samples.map((s) => [s.thread, s.process])).toEqual([['t1', 't1'], ['t1', 'after'], ['t1', 'after'], ['renamed', 'after']]);
  });

  it('does not keep a stack with a frame a later try could name, nor stacks of engines without numbers', () => {
    const { symbolizer, calls } = stubSymbolizer({ unknownFrom: 0x7f0000000000n });
    const c = new SampleCollector(symbolizer, 99, noProc);
    const jit = numbered([0x7f0000001000n, 0x401000n], []);
    c.addBatch([1, 2, 3].map((tid) => sample(10, tid, jit)));
    expect(calls.user).toBe(3);
    const plain = numbered([0x401000n], []);
    c.addBatch([1, 2].map((tid) => sample(12, tid, plain, {}, false)));
    expect(calls.user).toBe(5);
    expect(stacksOf(c.takeProfile())).toEqual([...Array(3).fill('[unknown] 0x7f0000001000;fn_401000'), 'fn_401000', 'fn_401000']);
  });

  it('names a sample without any stack after its own thread, even when threads share the empty stack’s number', () => {
    const { symbolizer } = stubSymbolizer();
    const c = new SampleCollector(symbolizer, 99, noProc);
    const empty = numbered([], []);
    c.addBatch([sample(13, 7, empty), sample(13, 8, empty), sample(13, 7, empty)]);
    expect(stacksOf(c.takeProfile())).toEqual(['[t7]', '[t8]', '[t7]']);
  });

  it('reads /proc only for processes with user addresses to name, not for kernel threads or snapshotted ones', () => {
    const { symbolizer, noted } = stubSymbolizer();
    const c = new SampleCollector(symbolizer, 99, noProc);
    const kernelOnly = numbered([], [0xffffffff81000000n]);
    const user = numbered([0x401000n], [0xffffffff81000000n]);
    const snap: ProcessSnapshot = { pid: 30, reason: 'new', startTime: '1', timeMs: 0, comm: 'p30', maps: '', nsPid: 30, sameRoot: true };
    const other = numbered([0x401000n], [0xffffffff81000000n]); // numbers are per process
    c.addBatch([sample(20, 20, kernelOnly), sample(21, 21, user), sample(30, 30, other, { process: snap }), sample(20, 20, kernelOnly)]);
    expect(noted).toEqual([21]);
    expect(stacksOf(c.takeProfile())).toEqual(['fn_ffffffff81000000', 'fn_ffffffff81000000;fn_401000', 'fn_ffffffff81000000;v1_fn_401000', 'fn_ffffffff81000000']);
  });

  it("tells the symbolizer of a run's exits after the runs before it, a run of no samples included", () => {
    const { symbolizer, told } = stubSymbolizer();
    const c = new SampleCollector(symbolizer, 99, noProc);
    const run = (pids: number[], exited: { pid: number; startTime: string }[]): SampleBlock => {
      const n = pids.length;
      return {
        count: n,
        timeMs: new Float64Array(n).fill(1_700_000_000_000),
        pid: Uint32Array.from(pids),
        tid: Uint32Array.from(pids),
        cpu: new Uint32Array(n),
        stack: Uint32Array.from(pids.map((_, i) => i)),
        stacks: pids.map((pid) => numbered([0x401000n + BigInt(pid)], [])),
        comm: new Uint32Array(n),
        comms: ['t'],
        traced: [],
        exited,
      };
    };
    c.addBatch(run([40, 41], []));
    c.addBatch(run([], [{ pid: 40, startTime: '7' }]));
    c.addBatch(run([42], [{ pid: 41, startTime: '8' }]));
    expect(told).toEqual(['name 40', 'name 41', 'exit 40/7', 'exit 41/8', 'name 42']);
    expect(stacksOf(c.takeProfile())).toEqual(['fn_401028', 'fn_401029', 'fn_40102a']);
  });

  it('takes runs of samples in columns exactly as it takes the same samples as objects', () => {
    // Runs as the helper's decoder makes them: a new run after each snapshot, the snapshot on the run.
    // Each collector gets its own stack objects: a collector keeps its names on them.
    const toBlocks = (samples: RawSample[], own: Map<SharedStack, SharedStack>): SampleBlock[] => {
      const runs: RawSample[][] = [];
      for (const s of samples) {
        if (s.process || runs.length === 0) runs.push([]);
        runs[runs.length - 1]!.push(s);
      }
      return runs.map((run) => {
        const stacks: SharedStack[] = [];
        const comms: string[] = [];
        const number = <T,>(table: T[], v: T) => (table.includes(v) ? table.indexOf(v) : table.push(v) - 1);
        const column = <A extends Float64Array | Uint32Array>(make: new (n: number) => A, f: (s: RawSample) => number) => {
          const a = new make(run.length);
          run.forEach((s, i) => (a[i] = f(s)));
          return a;
        };
        return {
          count: run.length,
          timeMs: column(Float64Array, (s) => s.timeMs),
          pid: column(Uint32Array, (s) => s.pid),
          tid: column(Uint32Array, (s) => s.tid),
          cpu: column(Uint32Array, (s) => s.cpu),
          stack: column(Uint32Array, (s) => number(stacks, own.get(s.shared!)!)),
          stacks,
          comm: column(Uint32Array, (s) => number(comms, s.comm)),
          comms,
          traced: run.flatMap((s, index) => (s.traceId ? [{ index, traceId: s.traceId, spanId: s.spanId! }] : [])),
          ...(run[0]!.process ? { processes: [run[0]!.process] } : {}),
        };
      });
    };
    const addresses: [bigint[], bigint[]][] = [[[0x401000n, 0x402000n], [0xffffffff81000000n]], [[0x7f0000001000n], []], [[], []], [[0x401000n], []]];
    const event = fc.record({
      pid: fc.integer({ min: 0, max: 3 }),
      tid: fc.integer({ min: 1, max: 4 }),
      stack: fc.integer({ min: 0, max: addresses.length - 1 }),
      comm: fc.constantFrom('a', 'b'),
      trace: fc.option(fc.constantFrom('11', '22'), { nil: undefined }),
      snapshot: fc.boolean(),
    });
    fc.assert(fc.property(fc.array(fc.array(event, { maxLength: 12 }), { maxLength: 4 }), (windows) => {
      const objects = stubSymbolizer({ unknownFrom: 0x7f0000000000n });
      const columns = stubSymbolizer({ unknownFrom: 0x7f0000000000n });
      const a = new SampleCollector(objects.symbolizer, 99, noProc);
      const b = new SampleCollector(columns.symbolizer, 99, noProc);
      // The engine numbers stacks per process image: a snapshot (an exec, new mappings) starts new numbers.
      const serials = new Map<number, number>();
      const pool = new Map<string, SharedStack>();
      const own = new Map<SharedStack, SharedStack>();
      const stackFor = (pid: number, index: number): SharedStack => {
        const key = `${pid}/${serials.get(pid) ?? 0}/${index}`;
        let st = pool.get(key);
        if (!st) {
          const [u, k] = addresses[index]!;
          pool.set(key, (st = numbered(u, k)));
          own.set(st, numbered(u, k));
        }
        return st;
      };
      let t = 0;
      for (const events of windows) {
        const samples = events.map((event) => {
          // As the helper does, a process's first sample comes with a snapshot.
          const e = serials.has(event.pid) ? event : { ...event, snapshot: true };
          if (e.snapshot) serials.set(e.pid, (serials.get(e.pid) ?? 0) + 1);
          return sample(e.pid, e.tid, stackFor(e.pid, e.stack), {
          timeMs: 1_700_000_000_000 + t++ + 0.001,
          comm: e.comm,
          ...(e.trace ? { traceId: e.trace.repeat(16), spanId: e.trace.repeat(8) } : {}),
          ...(e.snapshot ? { process: { pid: e.pid, reason: 'exec', startTime: '1', timeMs: 0, nsPid: e.pid, comm: `p${e.pid}`, maps: '', sameRoot: true } satisfies ProcessSnapshot } : {}),
          });
        });
        a.addBatch(samples);
        for (const block of toBlocks(samples, own)) b.addBatch(block);
        const [pa, pb] = [a.takeProfile(), b.takeProfile()];
        expect(stacksOf(pb)).toEqual(stacksOf(pa));
        const fields = (p: typeof pa) => p.samples.map((s) => [s.pid, s.tid, s.thread, s.process, s.timeMs, s.labels]);
        expect(fields(pb)).toEqual(fields(pa));
      }
      expect(columns.calls).toEqual(objects.calls);
      // Pids are noted per batch that names them, unless that batch holds their snapshot: smaller runs may note a
      // pid whose snapshot came in an earlier run (the symbolizer then reads nothing), never miss one.
      expect(objects.noted.filter((pid) => !columns.noted.includes(pid))).toEqual([]);
      const sampled = new Set(windows.flat().map((e) => e.pid));
      expect(columns.noted.filter((pid) => pid === 0 || !sampled.has(pid))).toEqual([]);
    }), { numRuns: 300 });
  });
});
