// The sample collector names each of the engine's numbered stacks once (and
// reuses the names in later windows) and keeps every sample's own fields;
// what it must not cache (a frame a later try could name, engines without
// numbered stacks) is named again.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProcessSnapshot, RawSample, SharedStack } from '../../src/capture/capture-types.js';
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
  const sym = {
    notePids: (pids: Iterable<number>) => noted.push(...pids),
    noteProcess: (p: ProcessSnapshot) => epochs.set(p.pid, (epochs.get(p.pid) ?? 0) + 1),
    symbolizeUser: (pid: number, addrs: readonly bigint[]) => {
      calls.user++;
      return addrs.map((a) => frameFor(a, 'native', epochs.get(pid) ?? 0));
    },
    symbolizeKernel: (addrs: readonly bigint[]) => {
      calls.kernel++;
      return addrs.map((a) => frameFor(a, 'kernel', 0));
    },
    mayNameLater: (f: Frame) => retryable.has(f),
  };
  return { symbolizer: sym as unknown as Symbolizer, calls, noted };
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
});
