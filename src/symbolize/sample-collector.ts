// Turns batches of raw samples from capture into the profile model: hands
// the engine's process snapshots to the symbolizer in sample order (an exec
// changes what a pid's addresses mean) and notes the other pids as soon as a
// batch arrives (so processes that exit right after being sampled still get
// names), names every address,
// interns frames and stacks, and keeps each sample's time, pid, tid, thread
// name, process name and trace context, in columns (no object per sample).
// `record` and `agent` both use it; it decides nothing about where the
// profile goes.
import { readFileSync } from 'node:fs';
import type { CaptureBatch, ProcessSnapshot, RawSample, SampleBlock, SharedStack } from '../capture/capture-types.js';
import { Interner, ProfileBuilder, profileFromColumns, type ColumnarProfile, type Frame, type Labels, type Profile, type SampleContext, type ValueType } from '../profile/model.js';
import type { Symbolizer } from './symbolizer.js';

export function cpuSampleTypes(): ValueType[] {
  return [
    { type: 'samples', unit: 'count' },
    { type: 'cpu', unit: 'nanoseconds' },
  ];
}

interface ProcessName {
  name: string;
  seenAt: number;
}

/** Samples per column chunk: a window grows by whole chunks, never by copying. */
const CHUNK = 2048;
/** Threads whose last context a block's loop keeps at hand (a power of two). */
const CONTEXT_CACHE = 64;

interface ColumnChunk {
  stack: Int32Array;
  timeMs: Float64Array;
  /** Index into the window's contexts. */
  context: Int32Array;
}

function newChunk(): ColumnChunk {
  return { stack: new Int32Array(CHUNK), timeMs: new Float64Array(CHUNK), context: new Int32Array(CHUNK) };
}

/**
 * The window's sample contexts, found by their fields' numbers (pid, tid,
 * thread and process name ids, trace id) without a key string per sample:
 * untraced samples by tid, traced ones by trace, then a short scan.
 */
class ContextIds {
  /** pid, tid, thread, process, trace of each context id. */
  readonly fields: number[] = [];
  private readonly byTid = new Map<number, number[]>();
  private readonly byTrace = new Map<number, number[]>();

  id(pid: number, tid: number, thread: number, process: number, trace: number): number {
    const map = trace < 0 ? this.byTid : this.byTrace;
    const key = trace < 0 ? tid : trace;
    let seen = map.get(key);
    if (!seen) map.set(key, (seen = []));
    for (let i = 0; i < seen.length; i += 5) {
      if (seen[i] === pid && seen[i + 1] === tid && seen[i + 2] === thread && seen[i + 3] === process) return seen[i + 4]!;
    }
    const id = this.fields.length / 5;
    this.fields.push(pid, tid, thread, process, trace);
    seen.push(pid, tid, thread, process, id);
    return id;
  }
}

/**
 * A numbered stack's names, kept across windows; its id in the builder of the
 * window it was last used in. Kept on the engine's stack itself
 * (RawSample.shared.memo): a busy process repeats a few stacks thousands of
 * times, and each repeat used to be decoded, named frame by frame and interned
 * again. Only stacks without a frame a later try could name are kept. The
 * engine drops its numbers from time to time, and the names go with them.
 */
interface NamedStack {
  frames: Frame[];
  window: number;
  stack: number;
}

/** A thread's last context (SampleCollector.byThread). */
interface ThreadContext {
  pid: number;
  comm: string;
  context: number;
  epoch: number;
}

/** A window's trace key ("trace_id" or "trace_id/span_id", hex ids) as sample labels. */
function traceLabels(key: string): Labels {
  const slash = key.indexOf('/');
  return slash < 0 ? { trace_id: key } : { trace_id: key.slice(0, slash), span_id: key.slice(slash + 1) };
}

export class SampleCollector {
  private builder!: ProfileBuilder;
  /**
   * The window's frame ids by Frame object: the symbolizer hands out shared,
   * cached Frame objects, so identity finds a frame without building the
   * builder's string key for every frame of every sample.
   */
  private frameIds = new Map<Frame, number>();
  /**
   * The window's samples, in typed-array columns until the window is taken.
   * A window holds every sample of a flush interval (seconds); an object per
   * sample outlived V8's young generation, so each window's samples were
   * promoted and then collected as old-generation garbage: the agent's heap
   * growth and most of its GC work.
   */
  private chunks: ColumnChunk[] = [];
  /** The window's thread and process names. */
  private names = new Interner<string, string>();
  /** The window's trace contexts, as "trace_id" or "trace_id/span_id" (labels are made at the flush). */
  private traces = new Interner<string, string>();
  private contexts = new ContextIds();
  /**
   * Each thread's last context in this window: a sample of the same thread,
   * process and thread name (the usual case) takes it with one lookup, where
   * finding it cost three (thread name, process name, context). Valid for one
   * window and until a process name changes (nameEpoch).
   */
  private byThread = new Map<number, ThreadContext>();
  private nameEpoch = 0;
  /** Counts windows, so a kept name knows whether the builder has its stack. */
  private window = 0;
  private readonly periodNs: number;
  private readonly processNames = new Map<number, ProcessName>();
  private windowStartMs = Date.now();
  samplesInWindow = 0;

  constructor(
    private readonly symbolizer: Symbolizer,
    readonly hz: number,
    private readonly procRoot = '/proc',
  ) {
    this.periodNs = Math.round(1e9 / hz);
    this.reset();
  }

  private reset(): void {
    this.frameIds = new Map();
    this.builder = new ProfileBuilder(cpuSampleTypes(), {
      period: this.periodNs,
      periodType: { type: 'cpu', unit: 'nanoseconds' },
      defaultSampleType: 'cpu',
    });
    this.chunks = [];
    this.names = new Interner();
    this.traces = new Interner();
    this.contexts = new ContextIds();
    this.byThread = new Map();
    this.window++;
    this.samplesInWindow = 0;
  }

  /** The process's name: the comm of its main thread, read while it is alive. */
  private processName(pid: number, fallback: string): string {
    const known = this.processNames.get(pid);
    if (known) return known.name;
    let name = fallback;
    try {
      name = readFileSync(`${this.procRoot}/${pid}/comm`, 'utf8').trim() || fallback;
    } catch {
      // Gone already: the thread's own comm is the best name left.
    }
    this.processNames.set(pid, { name, seenAt: Date.now() });
    return name;
  }

  /** Takes a batch from capture: sample objects, or a run of samples in columns. */
  addBatch(batch: CaptureBatch): void {
    if (Array.isArray(batch)) this.addSamples(batch);
    else this.addBlock(batch);
  }

  private addSamples(batch: RawSample[]): void {
    if (batch.length === 0) return;
    // Pids whose addresses are about to be named (a stack named before needs
    // no maps): noted with the symbolizer first, so that a process that has
    // already exited is named from what was read while it lived.
    const pids = new Map<number, string>();
    const snapshotted = new Set<number>();
    // Indexed loops over the batch: at V8's baseline tier, where the agent runs, a for-of
    // loop allocates an iterator result per sample, a sixth of what the agent allocated.
    for (let i = 0; i < batch.length; i++) {
      const s = batch[i]!;
      if (s.process) snapshotted.add(s.pid);
      else if (s.shared?.memo !== undefined) continue;
      // Only user addresses need a process's maps: kernel threads are never noted (nor re-checked every batch).
      if (s.pid > 0 && !pids.has(s.pid) && s.userStack.length > 0) pids.set(s.pid, s.comm);
    }
    this.notePids(pids, snapshotted);
    for (let i = 0; i < batch.length; i++) {
      const s = batch[i]!;
      if (s.process) this.noteSnapshot(s.process, s.comm);
      const known = s.shared?.memo as NamedStack | undefined;
      const stack = known ? this.knownStack(known) : this.nameStack(s.pid, s.comm, s.timeMs, s.kernelStack, s.userStack, s.shared);
      const context = s.traceId ? this.tracedContext(s.pid, s.tid, s.comm, s.traceId, s.spanId) : this.threadContext(s.pid, s.tid, s.comm);
      this.push(stack, s.timeMs, context);
    }
  }

  /**
   * A run of samples in columns: the agent's steady stream. The same steps as
   * addSamples, read from the block's arrays: no object per sample.
   */
  private addBlock(b: SampleBlock): void {
    const { count, stacks, comms } = b;
    const stackIds = b.stack;
    const pidOf = b.pid;
    const commIds = b.comm;
    let pids: Map<number, string> | undefined;
    for (let i = 0; i < count; i++) {
      const shared = stacks[stackIds[i]!]!;
      if (shared.memo !== undefined) continue;
      const pid = pidOf[i]!;
      if (pid > 0 && !pids?.has(pid) && shared.userStack.length > 0) (pids ??= new Map()).set(pid, comms[commIds[i]!]!);
    }
    const snapshots = b.processes ?? [];
    if (pids) this.notePids(pids, new Set(snapshots.map((p) => p.pid)));
    for (let k = 0; k < snapshots.length; k++) {
      const p = snapshots[k]!;
      const first = pidOf.indexOf(p.pid);
      this.noteSnapshot(p, first >= 0 ? comms[commIds[first]!]! : '');
    }
    // Every sample of these came in earlier runs, so forgetting them at the next flush loses nothing.
    const exited = b.exited;
    if (exited) for (let k = 0; k < exited.length; k++) this.symbolizer.noteExit(exited[k]!.pid, exited[k]!.startTime);
    const { timeMs, tid, traced } = b;
    let nextTraced = 0;
    // The loop runs at V8's baseline tier, where each call and Map lookup costs: the usual sample (a stack
    // named before, the thread's context of a few samples ago) takes neither. The context cache holds for
    // this block only (its thread-name numbers; no snapshot is taken inside it, so names cannot change).
    const window = this.window;
    const cacheTid = new Int32Array(CONTEXT_CACHE).fill(-1);
    const cachePid = new Int32Array(CONTEXT_CACHE);
    const cacheComm = new Int32Array(CONTEXT_CACHE);
    const cacheContext = new Int32Array(CONTEXT_CACHE);
    let n = this.samplesInWindow;
    let chunk = this.chunks[this.chunks.length - 1];
    for (let i = 0; i < count; i++) {
      const shared = stacks[stackIds[i]!]!;
      const known = shared.memo as NamedStack | undefined;
      const pid = pidOf[i]!;
      const commId = commIds[i]!;
      const time = timeMs[i]!;
      const thread = tid[i]!;
      let stack: number;
      if (known !== undefined && known.window === window) stack = known.stack;
      else if (known !== undefined) stack = this.knownStack(known);
      else stack = this.nameStack(pid, comms[commId]!, time, shared.kernelStack, shared.userStack, shared);
      let context: number;
      const t = nextTraced < traced.length ? traced[nextTraced]! : undefined;
      if (t !== undefined && t.index === i) {
        context = this.tracedContext(pid, thread, comms[commId]!, t.traceId, t.spanId);
        nextTraced++;
      } else {
        const h = thread & (CONTEXT_CACHE - 1);
        if (cacheTid[h] === thread && cachePid[h] === pid && cacheComm[h] === commId) context = cacheContext[h]!;
        else {
          context = this.threadContext(pid, thread, comms[commId]!);
          cacheTid[h] = thread;
          cachePid[h] = pid;
          cacheComm[h] = commId;
          cacheContext[h] = context;
        }
      }
      const at = n % CHUNK;
      if (at === 0 || chunk === undefined) this.chunks.push((chunk = newChunk()));
      chunk.stack[at] = stack;
      chunk.timeMs[at] = time;
      chunk.context[at] = context;
      n++;
    }
    this.samplesInWindow = n;
  }

  /** Notes with the symbolizer the pids about to be named that came without a snapshot (their /proc is read now). */
  private notePids(pids: Map<number, string>, snapshotted: Set<number>): void {
    if (!pids.size) return;
    // Pids the engine snapshots are named from their snapshots; /proc is read only for the others.
    const unsnapshotted = [...pids.keys()].filter((pid) => !snapshotted.has(pid));
    this.symbolizer.notePids(unsnapshotted);
    for (const pid of unsnapshotted) this.processName(pid, pids.get(pid)!);
  }

  /** An engine's snapshot of a process, taken in sample order. */
  private noteSnapshot(p: ProcessSnapshot, comm: string): void {
    this.symbolizer.noteProcess(p);
    this.processNames.set(p.pid, { name: p.comm || comm, seenAt: Date.now() });
    this.nameEpoch++;
  }

  /** A stack named before: its id in this window's builder. */
  private knownStack(known: NamedStack): number {
    if (known.window !== this.window) {
      known.stack = this.stackOf(known.frames);
      known.window = this.window;
    }
    return known.stack;
  }

  /** Names a stack's addresses; its window stack id. Kept on the engine's shared stack when no frame could be named better later. */
  private nameStack(pid: number, comm: string, timeMs: number, kernelStack: bigint[], userStack: bigint[], shared: SharedStack | undefined): number {
    const frames: Frame[] = [];
    if (kernelStack.length) frames.push(...this.symbolizer.symbolizeKernel(kernelStack));
    if (userStack.length && pid > 0) frames.push(...this.symbolizer.symbolizeUser(pid, userStack, timeMs));
    // A sample without any stack is named after its thread, which the stack's number does not tell apart: not kept.
    const keep = shared !== undefined && frames.length > 0 && !frames.some((f) => this.symbolizer.mayNameLater(f));
    if (frames.length === 0) frames.push({ name: `[${comm || 'unknown'}]`, module: '', kind: 'unknown' });
    const stack = this.stackOf(frames);
    if (keep) shared.memo = { frames, window: this.window, stack } satisfies NamedStack;
    return stack;
  }

  /** Appends a sample to the window's columns. */
  private push(stack: number, timeMs: number, context: number): void {
    const n = this.samplesInWindow++;
    const at = n % CHUNK;
    if (at === 0) this.chunks.push(newChunk());
    const c = this.chunks[this.chunks.length - 1]!;
    c.stack[at] = stack;
    c.timeMs[at] = timeMs;
    c.context[at] = context;
  }

  /** The context of an untraced sample: its thread's last one when pid and thread name are unchanged. */
  private threadContext(pid: number, tid: number, comm: string): number {
    const last = this.byThread.get(tid);
    if (last && last.epoch === this.nameEpoch && last.pid === pid && last.comm === comm) return last.context;
    const context = this.contextOf(pid, tid, comm, -1);
    this.byThread.set(tid, { pid, comm, context, epoch: this.nameEpoch });
    return context;
  }

  private tracedContext(pid: number, tid: number, comm: string, traceId: string, spanId: string | undefined): number {
    const key = spanId ? `${traceId}/${spanId}` : traceId;
    return this.contextOf(pid, tid, comm, this.traces.id(key, key));
  }

  /** The window's context id of a sample's pid, tid, thread and process name, and trace (-1: none). */
  private contextOf(pid: number, tid: number, comm: string, trace: number): number {
    const processName = pid === 0 ? 'swapper' : this.processName(pid, comm);
    return this.contexts.id(pid, tid, this.names.id(comm, comm), this.names.id(processName, processName), trace);
  }

  /** The window's stack id of these frames (leaf first). */
  private stackOf(frames: Frame[]): number {
    const ids = new Array<number>(frames.length);
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      let id = this.frameIds.get(f);
      if (id === undefined) this.frameIds.set(f, (id = this.builder.frameId(f)));
      ids[i] = id;
    }
    return this.builder.stackId(ids);
  }

  /**
   * Names again the window's frames of JIT code that no perf map named when
   * they were sampled, from the perf maps as they are now (see
   * Symbolizer.nameFromPerfMap): `record` calls it once its command is done,
   * before taking the profile, since a runtime may write its map only at exit.
   * A sample's stack is named again per process: the same unknown address
   * means different code in two processes. Returns the samples whose stack
   * changed.
   */
  nameJitFromPerfMaps(): number {
    const { frames, stacks } = this.builder;
    const candidate = new Uint8Array(stacks.length);
    let any = false;
    for (let s = 0; s < stacks.length; s++) {
      if (!stacks[s]!.some((id) => this.symbolizer.isJitCandidate(frames[id]!))) continue;
      candidate[s] = 1;
      any = true;
    }
    if (!any) return 0;
    const pidOf = this.contexts.fields;
    const hasMap = new Map<number, boolean>();
    const renamed = new Map<string, number>();
    let changed = 0;
    for (let n = 0; n < this.samplesInWindow; n++) {
      const chunk = this.chunks[Math.floor(n / CHUNK)]!;
      const at = n % CHUNK;
      const stack = chunk.stack[at]!;
      if (candidate[stack] !== 1) continue;
      const pid = pidOf[chunk.context[at]! * 5]!;
      const key = `${pid} ${stack}`;
      let to = renamed.get(key);
      if (to === undefined) {
        let mapped = hasMap.get(pid);
        if (mapped === undefined) hasMap.set(pid, (mapped = this.symbolizer.rereadPerfMap(pid)));
        const named = mapped ? this.symbolizer.nameFromPerfMap(pid, stacks[stack]!.map((id) => frames[id]!)) : undefined;
        to = named ? this.stackOf(named) : stack;
        renamed.set(key, to);
      }
      if (to !== stack) {
        chunk.stack[at] = to;
        changed++;
      }
    }
    return changed;
  }

  /** The samples collected since the last call, as a profile; starts a new window. */
  takeProfile(endMs = Date.now()): Profile {
    return profileFromColumns(this.takeColumns(endMs));
  }

  /** The samples collected since the last call, in columns; starts a new window. */
  takeColumns(endMs = Date.now()): ColumnarProfile {
    const count = this.samplesInWindow;
    const stack = new Int32Array(count);
    const time = new Float64Array(count);
    const context = new Int32Array(count);
    this.chunks.forEach((c, i) => {
      const n = Math.min(CHUNK, count - i * CHUNK);
      stack.set(c.stack.subarray(0, n), i * CHUNK);
      time.set(c.timeMs.subarray(0, n), i * CHUNK);
      context.set(c.context.subarray(0, n), i * CHUNK);
    });
    const names = this.names.values;
    const labels = this.traces.values.map(traceLabels);
    const f = this.contexts.fields;
    const contexts: SampleContext[] = [];
    for (let i = 0; i < f.length; i += 5) {
      const trace = f[i + 4]!;
      contexts.push({ pid: f[i]!, tid: f[i + 1]!, thread: names[f[i + 2]!]!, process: names[f[i + 3]!]!, ...(trace >= 0 ? { labels: labels[trace]! } : {}) });
    }
    const b = this.builder;
    const columns: ColumnarProfile = {
      ...b.extra,
      sampleTypes: b.sampleTypes,
      frames: b.frames,
      stacks: b.stacks,
      timeMs: this.windowStartMs,
      durationMs: endMs - this.windowStartMs,
      count,
      stack,
      time,
      context,
      contexts,
      values: [1, this.periodNs],
    };
    this.windowStartMs = endMs;
    this.reset();
    this.forgetOldNames(endMs);
    return columns;
  }

  /** Process names of pids not seen for a while are dropped, so pid reuse gets a fresh name. */
  private forgetOldNames(nowMs: number): void {
    for (const [pid, n] of this.processNames) if (nowMs - n.seenAt > 60_000) this.processNames.delete(pid);
  }
}
