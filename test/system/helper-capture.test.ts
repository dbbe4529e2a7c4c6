// System tests of the BPF capture engine through startCapture: real helper,
// real BPF program, real target programs from test/native/. They need root.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { startCapture, type Capture, type RawSample } from '../../src/capture/engine.js';
import type { ExitedProcess } from '../../src/capture/capture-types.js';
import { startHelper } from '../../src/capture/helper-process.js';
import { KernelSymbols } from '../../src/symbolize/kallsyms.js';
import { Symbolizer } from '../../src/symbolize/symbolizer.js';
import { buildHelper, buildTarget, functionSymbols, nameStack, skipReason } from './helper-fixtures.js';
import { batchSamples } from '../../src/capture/helper-protocol.js';

async function collect(capture: Capture, untilMs: number, stopWhen?: Promise<unknown>): Promise<RawSample[]> {
  const all: RawSample[] = [];
  const stopper = (stopWhen ?? new Promise((r) => setTimeout(r, untilMs))).then(() => capture.stop());
  for await (const batch of capture.samples()) all.push(...batchSamples(batch));
  await stopper;
  return all;
}

/** Whether this kernel's sched_process_exit passes group_dead (the helper then tells of a process's last thread). */
function exitTracepointHasGroupDead(): boolean {
  for (const dir of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) {
    try {
      return /\bgroup_dead\b/.test(readFileSync(`${dir}/events/sched/sched_process_exit/format`, 'utf8'));
    } catch { /* not mounted there */ }
  }
  return false;
}

function run(binary: string, args: string[]): { pid: number; exited: Promise<number> } {
  const child = spawn(binary, args, { stdio: 'ignore' });
  return { pid: child.pid!, exited: new Promise((r) => child.on('close', (code) => r(code ?? -1))) };
}

describe.skipIf(skipReason !== undefined)('BPF capture engine', () => {
  let callChain: string;
  let syscallHeavy: string;
  let exitTail: string;
  let leaderExit: string;
  let frameWalk: string;
  beforeAll(() => {
    buildHelper();
    const flags = ['-O0', '-fno-omit-frame-pointer', '-no-pie'];
    callChain = buildTarget('call-chain', flags);
    syscallHeavy = buildTarget('syscall-heavy', flags);
    exitTail = buildTarget('exit-tail', flags);
    leaderExit = buildTarget('leader-exit', [...flags, '-pthread']);
    if (process.arch === 'x64') frameWalk = buildTarget('frame-walk', flags);
  });

  it('unwinds a frame-pointer call chain to its hottest leaf, only for --pid', async () => {
    const target = run(callChain, ['3']);
    const bystander = run(callChain, ['3']);
    const capture = await startCapture({ hz: 199, pids: [target.pid], engine: 'bpf' });
    expect(capture.engine).toBe('bpf');
    const samples = await collect(capture, 2500);
    await Promise.all([target.exited, bystander.exited]);
    expect(samples.length).toBeGreaterThan(20); // the machine is shared: the target may get little CPU
    expect(new Set(samples.map((s) => s.pid))).toEqual(new Set([target.pid]));
    const symbols = functionSymbols(callChain);
    const named = samples.map((s) => nameStack(s.userStack, symbols));
    const leafCounts = new Map<string, number>();
    for (const stack of named) leafCounts.set(stack[0], (leafCounts.get(stack[0]) ?? 0) + 1);
    const hottest = [...leafCounts].sort((a, b) => b[1] - a[1])[0][0];
    expect(hottest).toBe('chain_leaf');
    const fullChain = named.filter((st) => st.slice(0, 4).join(' ') === 'chain_leaf chain_beta chain_alpha main');
    expect(fullChain.length / samples.length).toBeGreaterThan(0.8);
    for (const s of samples) {
      expect(s.comm).toBe('call-chain');
      expect(s.cpu).toBeGreaterThanOrEqual(0);
      expect(Math.abs(s.timeMs - Date.now())).toBeLessThan(60_000);
    }
    const st = capture.stats();
    expect(st.samples).toBe(samples.length);
    expect(st.lost).toBe(0);
  });

  /**
   * The user stacks, named, of a frame-walk target run with ARGS, walked by the sampler or by the kernel,
   * of the samples taken in user mode (no kernel stack) or in the kernel.
   */
  async function walkedStacks(args: string[], kernelUserWalk: boolean, mode: 'user' | 'kernel' = 'user'): Promise<string[][]> {
    const target = run(frameWalk, args);
    const capture = await startHelper({ hz: 199, pids: [target.pid], kernelUserWalk });
    const samples = (await collect(capture, 1800)).filter((s) => (s.kernelStack.length > 0) === (mode === 'kernel'));
    await target.exited;
    expect(samples.length).toBeGreaterThan(20);
    const symbols = functionSymbols(frameWalk);
    return samples.map((s) => nameStack(s.userStack, symbols));
  }

  // The sampler walks a 64-bit user-mode sample's frame pointers itself (protocol.md, "How it samples"):
  // the same stacks as the kernel's walk, up to the same limit, without reading a frame that cannot be one.
  it.skipIf(process.arch !== 'x64')('walks a user stack deeper than its limit to 127 entries, as the kernel does', async () => {
    for (const kernelUserWalk of [false, true]) {
      const stacks = await walkedStacks(['deep', '1.5', '300'], kernelUserWalk);
      const inLeaf = stacks.filter((st) => st[0] === 'walk_down' && st[1] === 'walk_down');
      expect(inLeaf.length / stacks.length, `kernel walk: ${kernelUserWalk}`).toBeGreaterThan(0.8);
      for (const st of inLeaf) expect(st, `kernel walk: ${kernelUserWalk}`).toEqual(new Array(127).fill('walk_down'));
      // 40 calls deep: the whole chain, main and what called it.
      const shallow = await walkedStacks(['deep', '1.5', '40'], kernelUserWalk);
      const whole = shallow.filter((st) => st[0] === 'walk_down' && st.length > 41);
      expect(whole.length / shallow.length, `kernel walk: ${kernelUserWalk}`).toBeGreaterThan(0.8);
      for (const st of whole) expect(st.slice(0, 41), `kernel walk: ${kernelUserWalk}`).toEqual([...new Array(40).fill('walk_down'), 'main']);
    }
  });

  // Frames of irregular sizes (alloca of 64 to 1,072 bytes): 80 to 1,100 bytes apart, across pages, at many offsets in one.
  it.skipIf(process.arch !== 'x64')('walks frames near and far apart, at many offsets in a page, as the kernel does', async () => {
    const chain = ['walk_down', ...new Array(60).fill('walk_wide'), 'main'];
    for (const kernelUserWalk of [false, true]) {
      const stacks = await walkedStacks(['wide', '1.5', '60'], kernelUserWalk);
      const inLeaf = stacks.filter((st) => st[0] === 'walk_down');
      expect(inLeaf.length / stacks.length, `kernel walk: ${kernelUserWalk}`).toBeGreaterThan(0.8);
      for (const st of inLeaf) expect(st.slice(0, chain.length), `kernel walk: ${kernelUserWalk}`).toEqual(chain);
    }
  });

  it.skipIf(process.arch !== 'x64')('reads no frame below the stack pointer, where the kernel\'s walk reads garbage', async () => {
    const own = await walkedStacks(['below', '1.5'], false);
    const kernel = await walkedStacks(['below', '1.5'], true);
    const inLoop = (stacks: string[][]) => stacks.filter((st) => st[0] === 'walk_below');
    expect(inLoop(own).length / own.length).toBeGreaterThan(0.8);
    expect(inLoop(kernel).length / kernel.length).toBeGreaterThan(0.8);
    // The kernel follows the frame pointer into static memory and reports its decoy as the caller.
    for (const st of inLoop(kernel)) expect(st).toEqual(['walk_below', 'walk_decoy']);
    for (const st of inLoop(own)) expect(st).toEqual(['walk_below']);
  });

  it.skipIf(process.arch !== 'x64')('walks the user stack of a sample taken in the kernel from the registers saved on entry', async () => {
    // getpid in a loop: most samples are in the kernel, their user leaf is the instruction after the syscall.
    const own = await walkedStacks(['below-syscalls', '1.5'], false, 'kernel');
    const kernel = await walkedStacks(['below-syscalls', '1.5'], true, 'kernel');
    const inLoop = (stacks: string[][]) => stacks.filter((st) => st[0] === 'walk_below_syscalls');
    expect(inLoop(own).length / own.length).toBeGreaterThan(0.8);
    expect(inLoop(kernel).length / kernel.length).toBeGreaterThan(0.8);
    for (const st of inLoop(kernel)) expect(st).toEqual(['walk_below_syscalls', 'walk_decoy']);
    for (const st of inLoop(own)) expect(st).toEqual(['walk_below_syscalls']);
  });

  it('carries kernel stacks for a syscall-heavy program', async () => {
    const target = run(syscallHeavy, ['3']);
    const capture = await startCapture({ hz: 199, pids: [target.pid], engine: 'bpf' });
    const samples = await collect(capture, 2000);
    await target.exited;
    const inKernel = samples.filter((s) => s.kernelStack.length > 0);
    expect(inKernel.length / samples.length).toBeGreaterThan(0.3);
    for (const s of inKernel) for (const a of s.kernelStack) expect(a >= 0xffff800000000000n).toBe(true);
    // The user part of a kernel-mode sample still starts in user space.
    expect(inKernel.filter((s) => s.userStack.length > 0).length).toBeGreaterThan(0);
  });

  it('names kernel frames with the kernel\'s own names, without /proc/kallsyms', async () => {
    const target = run(syscallHeavy, ['2']);
    const capture = await startCapture({ hz: 199, pids: [target.pid], engine: 'bpf' });
    const names = capture.kernelNames;
    expect(names, 'this kernel (5.14+) can run the kernel namer').toBeDefined();
    const samples = await collect(capture, 1500);
    await target.exited;
    const inKernel = samples.filter((s) => s.kernelStack.length > 0);
    expect(inKernel.length).toBeGreaterThan(10);
    // Every kernel address arrived named before its sample, as kallsyms names it.
    const kallsyms = KernelSymbols.read();
    const namesAt = new Map<bigint, Set<string>>();
    for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
      const [addr, type, name] = line.split(/\s+/);
      if (!name || !/^[tTwW]$/.test(type!)) continue;
      const a = BigInt(`0x${addr}`);
      if (!namesAt.has(a)) namesAt.set(a, new Set());
      namesAt.get(a)!.add(name);
    }
    let checked = 0;
    for (const s of inKernel) {
      s.kernelStack.forEach((raw, i) => {
        const addr = i > 0 ? raw - 1n : raw;
        const got = names!.get(addr);
        expect(got, `a name for 0x${addr.toString(16)}`).toBeDefined();
        const expected = kallsyms.lookup(addr);
        if (!got!.name || !expected) return; // neither side can name it (e.g. a trampoline)
        // The kernel and kallsyms may pick different aliases of one address.
        expect(namesAt.get(expected.start), `0x${addr.toString(16)}`).toContain(got!.name);
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(20);
    // The symbolizer uses them and never opens kallsyms.
    const sym = new Symbolizer({ kernelNames: names, kallsymsPath: '/nonexistent/kallsyms' });
    const frames = sym.symbolizeKernel(inKernel[0]!.kernelStack);
    expect(frames.filter((f) => f.kind === 'kernel').length).toBeGreaterThan(0);
    expect(frames.every((f) => f.kind !== 'kernel' || f.module === '[kernel.kallsyms]')).toBe(true);
    // Without them (--no-kernel-names, or a kernel before 5.14), kallsyms names kernel frames.
    const plain = await startHelper({ hz: 99, pids: [process.pid], kernelNames: false });
    expect(plain.kernelNames).toBeUndefined();
    expect(plain.ready.kernelNames).toBe(false);
    await plain.stop();
  });

  it('includes children a launched command forks after capture started', async () => {
    // The shell waits before forking, so the children are born after the
    // helper attached: only the in-kernel fork follower can add them.
    const shell = spawn('/bin/sh', ['-c', `sleep 1; ${callChain} 1.5 & ${callChain} 1.5 & wait`], { stdio: 'ignore' });
    const exited = new Promise((r) => shell.on('close', r));
    const bystander = run(callChain, ['3']);
    const capture = await startCapture({ hz: 199, followChildrenOf: shell.pid!, engine: 'bpf' });
    const samples = await collect(capture, 0, exited);
    await bystander.exited;
    const pids = new Set(samples.filter((s) => s.comm === 'call-chain').map((s) => s.pid));
    expect(pids.size).toBe(2);
    expect(pids.has(bystander.pid)).toBe(false);
    expect(pids.has(shell.pid!)).toBe(false); // the shell exec'd nothing itself; its children did
  });

  it('keeps every sample named across restarts of the stack numbering', async () => {
    // Numbers last 50 ms here (a minute in the agent): a 2.5 s capture sees dozens of restarts,
    // and a sample that named a voided number would end the stream with a ProtocolError.
    const target = run(callChain, ['3']);
    const capture = await startHelper({ hz: 499, pids: [target.pid], stackTableMs: 50, flushMs: 20 });
    const samples = await collect(capture, 2500);
    await target.exited;
    expect(samples.length).toBeGreaterThan(100);
    const shared = new Set(samples.map((s) => s.shared));
    // One hot stack and a few others, numbered afresh at each restart: many more objects than stacks.
    expect(shared.size).toBeGreaterThan(20);
    const symbols = functionSymbols(callChain);
    const named = samples.map((s) => nameStack(s.userStack, symbols).slice(0, 4).join(' '));
    expect(named.filter((n) => n === 'chain_leaf chain_beta chain_alpha main').length / samples.length).toBeGreaterThan(0.8);
    for (const s of samples) expect(s.comm).toBe('call-chain');
    expect(capture.stats().errors).toBe(0);
  });

  it('keeps its samples until asked, then hands over all of them (sync)', async () => {
    // The agent's way: the helper's own write timer is a minute off; only sync() brings samples.
    const target = run(callChain, ['3']);
    const capture = await startHelper({ hz: 199, pids: [target.pid], flushMs: 60_000 });
    const got: RawSample[] = [];
    const consumed = (async () => { for await (const batch of capture.samples()) got.push(...batchSamples(batch)); })();
    await new Promise((r) => setTimeout(r, 1200));
    expect(got.length, 'nothing is written before it is asked for').toBe(0);
    const askedMs = Date.now();
    await capture.sync!();
    const first = got.length;
    expect(first).toBeGreaterThan(20);
    // Everything sampled before the ask came; the ring is read at most 500 ms apart, so the newest is recent.
    expect(Math.max(...got.map((s) => s.timeMs))).toBeGreaterThan(askedMs - 700);
    await new Promise((r) => setTimeout(r, 800));
    await capture.sync!();
    expect(got.length).toBeGreaterThan(first);
    expect(got.slice(first).every((s) => s.timeMs >= got[first - 1]!.timeMs - 1)).toBe(true);
    await capture.stop();
    await consumed;
    await target.exited;
    expect(capture.stats().lost).toBe(0);
    expect(capture.stats().samples).toBe(got.length);
    await capture.sync!(); // after the end: resolves at once
  });

  it('syncNow reads the answer in the same turn, and gives up on a stopped helper without blocking long', async () => {
    // The agent flushes on its own timer: syncNow asks the helper and reads its answer before returning,
    // so the flush needs no second wakeup for the stream. A helper that cannot answer must not hold it up.
    const target = run(callChain, ['3']);
    const capture = await startHelper({ hz: 199, pids: [target.pid], flushMs: 600_000, statsMs: 600_000 });
    const got: RawSample[] = [];
    const consumed = (async () => { for await (const batch of capture.samples()) got.push(...batchSamples(batch)); })();
    await new Promise((r) => setTimeout(r, 1000));
    expect(got.length, 'nothing is written before it is asked for').toBe(0);
    const askedMs = Date.now();
    const answered = capture.syncNow!(2000);
    // Read before syncNow returned: the answer is in, only the consumer's turn is left.
    expect(answered).toBeDefined();
    await answered;
    expect(got.length).toBeGreaterThan(20);
    expect(Math.max(...got.map((s) => s.timeMs))).toBeGreaterThan(askedMs - 700);
    const before = got.length;
    await new Promise((r) => setTimeout(r, 500));
    await capture.syncNow!(2000);
    expect(got.length).toBeGreaterThan(before);
    // A stopped helper: no answer, and syncNow returns after its wait.
    process.kill(capture.pid, 'SIGSTOP');
    const t0 = Date.now();
    expect(capture.syncNow!(300)).toBeUndefined();
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(2000);
    process.kill(capture.pid, 'SIGCONT');
    // The late answer comes through the stream; the next ask is answered at once again.
    await new Promise((r) => setTimeout(r, 300));
    const after = got.length;
    await capture.syncNow!(2000);
    expect(got.length).toBeGreaterThan(after);
    await capture.stop();
    await consumed;
    await target.exited;
    expect(capture.stats().lost).toBe(0);
    expect(capture.syncNow!(100)).toBeUndefined(); // after the end: nothing to ask
  }, 30_000);

  it('sends a flush of samples as one run, however many new stacks came during it', async () => {
    // call-chain nests its loop one call deeper every 10 ms: a new stack each time. Their STACK records go out
    // ahead of the waiting samples rather than ending the run, so the reader gets one SAMPLES record, not one per stack.
    const target = run(callChain, ['3', '50']);
    // As the agent runs it: no write and no stats record (which does end a run) until asked.
    let tlsRecords = 0;
    const capture = await startHelper({ hz: 199, pids: [target.pid], flushMs: 60_000, statsMs: 60_000, onTls: () => tlsRecords++ });
    const blocks: { count: number; stacks: Set<number> }[] = [];
    const got: RawSample[] = [];
    let snapshots = 0;
    let exits = 0;
    const consumed = (async () => {
      for await (const batch of capture.samples()) {
        if (Array.isArray(batch)) throw new Error('a version 7 helper sends runs of samples');
        if (batch.count) blocks.push({ count: batch.count, stacks: new Set(batch.stack) });
        snapshots += batch.processes?.length ?? 0;
        exits += batch.exited?.length ?? 0;
        got.push(...batchSamples(batch));
      }
    })();
    await new Promise((r) => setTimeout(r, 1500));
    await capture.sync!();
    await capture.stop();
    await consumed;
    await target.exited;
    const stacks = new Set(blocks.flatMap((b) => [...b.stacks]));
    expect(stacks.size, 'the loop gave many distinct stacks').toBeGreaterThanOrEqual(20);
    // The records that still end a run: a kernel name (KSYM, one per address), a snapshot, an exit, a TLS offset.
    // Each splits the samples at most once more, and the sync's answer ends the last run; one more for slack.
    // (With STACK records ending runs too, as before 900dc47, there was a run per new stack: 130.)
    const enders = (capture.kernelNames?.size ?? 0) + snapshots + exits + tlsRecords;
    expect(blocks.length, `runs of ${blocks.map((b) => b.count).join(', ')} samples, ${enders} records that end a run`).toBeLessThanOrEqual(enders + 2);
    // Every STACK record came before the run that uses it: the decoder refuses a sample whose stack number is not
    // defined yet (ProtocolError), which would have failed the capture and `consumed`. Nearly every sample carries
    // the target's user stack.
    expect(got.filter((s) => s.userStack.length > 0).length).toBeGreaterThan(got.length * 0.9);
  });

  /** Samples and exits of one process, in stream order, until its exit is told or 5 s after it ended. */
  async function exitOrder(target: { pid: number; exited: Promise<number> }, hz: number) {
    const capture = await startHelper({ hz, pids: [target.pid] });
    expect(capture.reportsExits).toBe(true);
    const events: ('sample' | 'exit')[] = [];
    let snapshotStart: string | undefined;
    const exits: ExitedProcess[] = [];
    const tids = new Set<number>();
    const consumed = (async () => {
      for await (const batch of capture.samples()) {
        if (Array.isArray(batch)) throw new Error('a version 7 helper sends runs of samples');
        for (const p of batch.processes ?? []) if (p.pid === target.pid) snapshotStart ??= p.startTime;
        // A run's exits came before its samples in the stream.
        for (const e of batch.exited ?? []) if (e.pid === target.pid) exits.push(e), events.push('exit');
        for (let i = 0; i < batch.count; i++) if (batch.pid[i] === target.pid) events.push('sample'), tids.add(batch.tid[i]);
      }
    })();
    await target.exited;
    for (let tries = 0; tries < 50 && !exits.length; tries++) {
      await capture.sync!();
      await new Promise((r) => setTimeout(r, 100));
    }
    await capture.stop();
    await consumed;
    expect(snapshotStart).toBeDefined();
    expect(exits).toEqual([{ pid: target.pid, startTime: snapshotStart }]);
    return { events, tids, samples: events.filter((e) => e === 'sample').length };
  }

  it("tells of a sampled process's exit once, after all of its samples, the kernel's exit work included", async () => {
    // 256 MB of touched heap and thousands of pipes: unmapping and closing them
    // is sampled for tens of milliseconds after the kernel's exit event.
    const { events, samples } = await exitOrder(run(exitTail, ['0.5', '256']), 499);
    expect(samples).toBeGreaterThan(20);
    expect(events.lastIndexOf('sample')).toBeLessThan(events.indexOf('exit'));
  });

  it('tells of the exit of a process whose main thread left early only when its last thread has', async () => {
    const { events, tids, samples } = await exitOrder(run(leaderExit, ['1.5']), 199);
    expect(tids.size).toBe(2);
    expect(samples).toBeGreaterThan(20);
    if (exitTracepointHasGroupDead()) expect(events.lastIndexOf('sample')).toBeLessThan(events.indexOf('exit'));
    else console.log('sched_process_exit has no group_dead here: the exit is told when the main thread leaves');
  });

  it('is woken when its ring is a quarter full, so a long sleep loses nothing', async () => {
    // No timer wakes it within 10 s here; 2 CPUs at 1 kHz fill the 1 MiB ring in about 4 s.
    const burners = [run(callChain, ['6']), run(callChain, ['6'])];
    const capture = await startHelper({ hz: 1000, ringbufMb: 1, flushMs: 60_000, statsMs: 60_000, pids: burners.map((b) => b.pid) });
    const got: RawSample[] = [];
    const consumed = (async () => { for await (const batch of capture.samples()) got.push(...batchSamples(batch)); })();
    await Promise.all(burners.map((b) => b.exited));
    await capture.sync!();
    expect(capture.stats().lost).toBe(0);
    expect(got.length).toBeGreaterThan(5000); // ~12,000 when both loops get a CPU
    await capture.stop();
    await consumed;
  });

  it('is woken by a new process, not by every sample of a known one', async () => {
    const burners = [run(callChain, ['3']), run(callChain, ['3'])];
    const capture = await startHelper({ hz: 499, pids: burners.map((b) => b.pid) });
    const switches = () => Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${capture.pid}/status`, 'utf8'))![1]);
    const before = switches();
    let after = 0;
    const samples = await collect(capture, 2000, new Promise((r) => setTimeout(r, 2000)).then(() => (after = switches())));
    await Promise.all(burners.map((b) => b.exited));
    // About 2,000 samples; the helper reads the ring on its timers, once per new process, and when it is a quarter full.
    expect(samples.length).toBeGreaterThan(500);
    expect(after - before, `${after - before} wakeups for ${samples.length} samples`).toBeLessThan(samples.length / 10);
    expect(capture.stats().lost).toBe(0);
  });

  it('counts samples lost while the reader stalls, and loses none after it', async () => {
    const burners = [run(callChain, ['8']), run(callChain, ['8'])];
    let lastStats = { samples: 0, lost: 0 };
    const capture = await startHelper({ hz: 1000, ringbufMb: 1, statsMs: 100, onStats: (s) => { lastStats = s; } });
    const helperPid = capture.pid;
    // The kernel keeps sampling; records are cut to their stacks (~140 bytes here), so the
    // 1 MiB ring holds ~7,500 samples: 5 s of both CPUs at 1000 Hz overfill it.
    process.kill(helperPid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 5000));
    process.kill(helperPid, 'SIGCONT');
    const samples = await collect(capture, 800);
    await Promise.all(burners.map((b) => b.exited));
    expect(capture.stats().lost).toBeGreaterThan(0);
    expect(capture.stats().lost).toBe(lastStats.lost);
    // Everything the helper wrote reached us: the only losses are the counted ones.
    expect(lastStats.samples).toBe(samples.length);
  });
});
