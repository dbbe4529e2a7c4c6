// Turns batches of raw samples from capture into the profile model: hands
// the engine's process snapshots to the symbolizer in sample order (an exec
// changes what a pid's addresses mean) and notes the other pids as soon as a
// batch arrives (so processes that exit right after being sampled still get
// names), names every address,
// interns frames and stacks, and keeps each sample's time, pid, tid, thread
// name, process name and trace context. `record` and `agent` both use it;
// it decides nothing about where the profile goes.
import { readFileSync } from 'node:fs';
import type { RawSample } from '../capture/capture-types.js';
import { Interner, ProfileBuilder, type Frame, type Labels, type Profile, type ValueType } from '../profile/model.js';
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

interface ColumnChunk {
  stack: Int32Array;
  timeMs: Float64Array;
  pid: Int32Array;
  tid: Int32Array;
  /** Index into the window's names: the thread's name, then the process's. */
  thread: Int32Array;
  process: Int32Array;
  /** Index into the window's trace labels, or -1. */
  trace: Int32Array;
}

function newChunk(): ColumnChunk {
  return {
    stack: new Int32Array(CHUNK),
    timeMs: new Float64Array(CHUNK),
    pid: new Int32Array(CHUNK),
    tid: new Int32Array(CHUNK),
    thread: new Int32Array(CHUNK),
    process: new Int32Array(CHUNK),
    trace: new Int32Array(CHUNK),
  };
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
  /**
   * The window's stack ids by raw stack (pid, snapshot epoch, the engine's
   * stackKey): a busy process repeats a few stacks thousands of times, and
   * each repeat used to be decoded, named frame by frame and interned again.
   * Only stacks without a frame a later try could name are kept.
   */
  private rawStacks = new Map<string, number>();
  /** Snapshots seen per pid this window: an exec gives the same addresses another meaning. */
  private epochs = new Map<number, number>();
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
    this.rawStacks = new Map();
    this.epochs = new Map();
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

  addBatch(batch: RawSample[]): void {
    if (batch.length === 0) return;
    const pids = new Map<number, string>();
    const snapshotted = new Set<number>();
    for (const s of batch) {
      if (s.process) snapshotted.add(s.pid);
      if (s.pid > 0 && !pids.has(s.pid)) pids.set(s.pid, s.comm);
    }
    // Pids the engine snapshots are named from their snapshots; /proc is read only for the others.
    const unsnapshotted = [...pids.keys()].filter((pid) => !snapshotted.has(pid));
    this.symbolizer.notePids(unsnapshotted);
    for (const pid of unsnapshotted) this.processName(pid, pids.get(pid)!);
    const b = this.builder;
    for (const s of batch) {
      if (s.process) {
        this.symbolizer.noteProcess(s.process);
        this.processNames.set(s.pid, { name: s.process.comm || s.comm, seenAt: Date.now() });
        this.epochs.set(s.pid, (this.epochs.get(s.pid) ?? 0) + 1);
      }
      const key = s.stackKey ? `${s.pid}:${this.epochs.get(s.pid) ?? 0}:${s.stackKey}` : undefined;
      let stack = key !== undefined ? this.rawStacks.get(key) : undefined;
      if (stack === undefined) {
        const ids: number[] = [];
        let settled = true;
        if (s.kernelStack.length) settled = this.internFrames(this.symbolizer.symbolizeKernel(s.kernelStack), ids) && settled;
        if (s.userStack.length && s.pid > 0) settled = this.internFrames(this.symbolizer.symbolizeUser(s.pid, s.userStack, s.timeMs), ids) && settled;
        if (ids.length === 0) ids.push(b.frameId({ name: `[${s.comm || 'unknown'}]`, module: '', kind: 'unknown' }));
        stack = b.stackId(ids);
        if (key !== undefined && settled) this.rawStacks.set(key, stack);
      }
      const n = this.samplesInWindow++;
      const at = n % CHUNK;
      if (at === 0) this.chunks.push(newChunk());
      const c = this.chunks[this.chunks.length - 1]!;
      c.stack[at] = stack;
      c.timeMs[at] = s.timeMs;
      c.pid[at] = s.pid;
      c.tid[at] = s.tid;
      c.thread[at] = this.names.id(s.comm, s.comm);
      const processName = s.pid === 0 ? 'swapper' : this.processName(s.pid, s.comm);
      c.process[at] = this.names.id(processName, processName);
      if (s.traceId) {
        const key = s.spanId ? `${s.traceId}/${s.spanId}` : s.traceId;
        c.trace[at] = this.traces.id(key, key);
      } else c.trace[at] = -1;
    }
  }

  /** Appends the frames' ids; false when one of them may get a better name on another try. */
  private internFrames(frames: Frame[], ids: number[]): boolean {
    let settled = true;
    for (const f of frames) {
      let id = this.frameIds.get(f);
      if (id === undefined) this.frameIds.set(f, (id = this.builder.frameId(f)));
      if (settled && this.symbolizer.mayNameLater(f)) settled = false;
      ids.push(id);
    }
    return settled;
  }

  /** The samples collected since the last call, as a profile; starts a new window. */
  takeProfile(endMs = Date.now()): Profile {
    const b = this.builder;
    const names = this.names.values;
    const labels = this.traces.values.map(traceLabels);
    for (let i = 0; i < this.samplesInWindow; i++) {
      const c = this.chunks[Math.floor(i / CHUNK)]!;
      const at = i % CHUNK;
      const trace = c.trace[at]!;
      b.addSample({
        stack: c.stack[at]!,
        values: [1, this.periodNs],
        timeMs: c.timeMs[at]!,
        pid: c.pid[at]!,
        tid: c.tid[at]!,
        thread: names[c.thread[at]!]!,
        process: names[c.process[at]!]!,
        ...(trace >= 0 ? { labels: labels[trace]! } : {}),
      });
    }
    const profile = b.build();
    profile.timeMs = this.windowStartMs;
    profile.durationMs = endMs - this.windowStartMs;
    this.windowStartMs = endMs;
    this.reset();
    this.forgetOldNames(endMs);
    return profile;
  }

  /** Process names of pids not seen for a while are dropped, so pid reuse gets a fresh name. */
  private forgetOldNames(nowMs: number): void {
    for (const [pid, n] of this.processNames) if (nowMs - n.seenAt > 60_000) this.processNames.delete(pid);
  }
}
