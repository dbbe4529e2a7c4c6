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
import { ProfileBuilder, type Frame, type Profile, type ValueType } from '../profile/model.js';
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

export class SampleCollector {
  private builder!: ProfileBuilder;
  /**
   * The window's frame ids by Frame object: the symbolizer hands out shared,
   * cached Frame objects, so identity finds a frame without building the
   * builder's string key for every frame of every sample.
   */
  private frameIds = new Map<Frame, number>();
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
      }
      const frames: Frame[] = [];
      if (s.kernelStack.length) frames.push(...this.symbolizer.symbolizeKernel(s.kernelStack));
      if (s.userStack.length && s.pid > 0) frames.push(...this.symbolizer.symbolizeUser(s.pid, s.userStack, s.timeMs));
      const ids = frames.map((f) => {
        let id = this.frameIds.get(f);
        if (id === undefined) this.frameIds.set(f, (id = b.frameId(f)));
        return id;
      });
      if (ids.length === 0) ids.push(b.frameId({ name: `[${s.comm || 'unknown'}]`, module: '', kind: 'unknown' }));
      const labels = s.traceId ? { trace_id: s.traceId, ...(s.spanId ? { span_id: s.spanId } : {}) } : undefined;
      b.addSample({
        stack: b.stackId(ids),
        values: [1, this.periodNs],
        timeMs: s.timeMs,
        pid: s.pid,
        tid: s.tid,
        thread: s.comm,
        process: s.pid === 0 ? 'swapper' : this.processName(s.pid, s.comm),
        ...(labels ? { labels } : {}),
      });
      this.samplesInWindow++;
    }
  }

  /** The samples collected since the last call, as a profile; starts a new window. */
  takeProfile(endMs = Date.now()): Profile {
    const profile = this.builder.build();
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
