// Runs profctl-helper (build/profctl-helper, or $PROFCTL_HELPER) as a child
// process and turns its record stream into a Capture: batches of samples
// (each PROCESS snapshot rides on the sample the helper wrote it for),
// cumulative stats, and a stop() that leaves nothing attached. Its failures
// become UserErrors a person can act on (privilege → exit 3; no helper, no
// BPF, old kernel, verifier rejection → exit 4). It must not symbolize or
// store samples, and it never calls process.exit.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, UserError } from '../errors.js';
import type { Capture, CaptureBatch, CaptureStats, ExitedProcess, KernelName, ProcessSnapshot, RawSample, SampleBlock } from './capture-types.js';
import { HelperErrorCode, HelperStreamDecoder, type HelperRecord, type ReadyRecord, type StatsRecord } from './helper-protocol.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function helperPath(): string {
  return process.env.PROFCTL_HELPER || join(packageRoot, 'build', 'profctl-helper');
}

/** A failure of the BPF engine, with the helper's stable code (or 'not-built'). */
export class HelperError extends UserError {
  constructor(
    readonly code: number | 'not-built' | 'crashed',
    message: string,
    hint: string | undefined,
    exitCode: number,
    /** Full detail, e.g. the verifier's log. */
    readonly details?: string,
  ) {
    super(message, hint, exitCode);
    this.name = 'HelperError';
  }
  /** True when another engine (perf) may still work. */
  get engineUnavailable(): boolean {
    return this.exitCode === ExitCode.environment;
  }
}

const FALLBACK = 'or use `--engine perf`';

export function helperErrorFor(code: number, message: string): HelperError {
  const oneLine = message.split('\n')[0].slice(0, 300);
  switch (code) {
    case HelperErrorCode.permission:
      return new HelperError(code, 'sampling needs root or CAP_BPF+CAP_PERFMON', 'run with sudo, e.g. `sudo profctl record ...`', ExitCode.permission, message);
    case HelperErrorCode.bpfDisabled:
      return new HelperError(code, 'this kernel has BPF disabled (bpf(2) is not available)', `use a kernel built with CONFIG_BPF_SYSCALL, ${FALLBACK}`, ExitCode.environment, message);
    case HelperErrorCode.kernelTooOld:
      return new HelperError(code, `the kernel is too old for profctl's BPF sampler: ${oneLine}`, `profctl needs Linux 5.8 or newer (BPF ring buffer), ${FALLBACK}`, ExitCode.environment, message);
    case HelperErrorCode.verifier: {
      const lastLogLine = message.trim().split('\n').filter(Boolean).pop() ?? '';
      return new HelperError(code, `the kernel rejected profctl's BPF program: ${lastLogLine.slice(0, 200)}`, `${FALLBACK}; please report this with the output of \`uname -r\``, ExitCode.environment, message);
    }
    case HelperErrorCode.perfEvent:
      return new HelperError(code, `cannot open the cpu-clock perf event: ${oneLine}`, `check that perf events are available in this VM/container, ${FALLBACK}`, ExitCode.environment, message);
    case HelperErrorCode.btf:
      return new HelperError(code, `cannot read the kernel's type information: ${oneLine}`, `profctl needs a kernel with CONFIG_DEBUG_INFO_BTF (/sys/kernel/btf/vmlinux), ${FALLBACK}`, ExitCode.environment, message);
    default:
      return new HelperError(code, `the sampling helper failed (code ${code}): ${oneLine}`, 'please report this as a bug', ExitCode.internal, message);
  }
}

export function helperNotBuiltError(path: string): HelperError {
  return new HelperError(
    'not-built',
    `the sampling helper is not built (${path} is missing)`,
    'run `npm run build:native` in the profctl package (needs a C compiler: `sudo apt-get install gcc`), or use `--engine perf`',
    ExitCode.environment,
  );
}

export interface HelperOptions {
  hz: number;
  pids?: number[];
  follow?: number[];
  /** Stats record interval, ms (default 1000). */
  statsMs?: number;
  /** Ring buffer size in MiB, a power of two (default: the helper sizes it for 2 s of every CPU at --hz, at least 1). */
  ringbufMb?: number;
  /** How often the helper writes its buffered records, ms (its default: 100). Fewer writes, fewer wakeups here. */
  flushMs?: number;
  /** false: no KSYM records, kernel frames are named from /proc/kallsyms (default: the helper names them where the kernel can). */
  kernelNames?: boolean;
  /** How long the helper's stack and thread-name numbers last, ms (its default: 600000). */
  stackTableMs?: number;
  /** true: user stacks are walked by the kernel (bpf_get_stack), not by the sampler itself (protocol.md, "How it samples"). */
  kernelUserWalk?: boolean;
  /** Called with each stats record (e.g. for `status`). */
  onStats?: (stats: StatsRecord) => void;
  onTls?: (pid: number, offset: number) => void;
}

/** Pending batches handed out by samples(); the stream pauses above this. */
const HIGH_WATER_SAMPLES = 50_000;

export type HelperCapture = Capture & { ready: ReadyRecord; /** The helper's pid (its CPU time is in /proc/PID/stat). */ pid: number };

function emptyBlock(exited: ExitedProcess[]): SampleBlock {
  const none = new Uint32Array(0);
  return { count: 0, timeMs: new Float64Array(0), pid: none, tid: none, cpu: none, stack: none, stacks: [], comm: none, comms: [], traced: [], exited };
}

export function startHelper(opts: HelperOptions): Promise<HelperCapture> {
  const path = helperPath();
  if (!existsSync(path)) return Promise.reject(helperNotBuiltError(path));
  const args = ['--hz', String(Math.round(opts.hz))];
  for (const pid of opts.pids ?? []) args.push('--pid', String(pid));
  for (const pid of opts.follow ?? []) args.push('--follow', String(pid));
  if (opts.statsMs) args.push('--stats-ms', String(opts.statsMs));
  if (opts.ringbufMb) args.push('--ringbuf-mb', String(opts.ringbufMb));
  if (opts.flushMs !== undefined) args.push('--flush-ms', String(Math.round(opts.flushMs)));
  if (opts.kernelNames === false) args.push('--no-kernel-names');
  if (opts.kernelUserWalk) args.push('--kernel-user-walk');
  if (opts.stackTableMs !== undefined) args.push('--stack-table-ms', String(Math.round(opts.stackTableMs)));
  const child: ChildProcessWithoutNullStreams = spawn(path, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const decoder = new HelperStreamDecoder();
  const queue: CaptureBatch[] = [];
  let queued = 0;
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  let ended = false;
  let stopRequested = false;
  let delivered = 0;
  /** Samples queued since the start, and those whose batch the consumer has finished with. */
  let received = 0;
  let consumed = 0;
  /** sync() calls in order: each waits for its answer (a batch-flagged stats record), then for the consumer. */
  const syncs: { target: number; resolve: () => void }[] = [];
  let last: StatsRecord | undefined;
  /** The stream's protocol version (the `batch` command is version 5). */
  let version = 0;
  let decodeErrors = 0;
  let stderrTail = '';
  /** Snapshots waiting for their process's next sample (the helper writes one right before it). */
  const snapshots = new Map<number, ProcessSnapshot>();
  /** Exits waiting for the next run of samples, which the consumer takes after those before them. */
  let exited: ExitedProcess[] = [];
  /** KSYM records: the kernel's names for the kernel addresses of samples (a later record for an address replaces the earlier). */
  const kernelNames = new Map<bigint, KernelName>();

  const notify = () => { const w = wake; wake = undefined; w?.(); };
  const settleSyncs = () => {
    while (syncs.length && ((syncs[0]!.target >= 0 && consumed >= syncs[0]!.target) || ended || failure)) syncs.shift()!.resolve();
  };

  return new Promise((resolve, reject) => {
    let ready: ReadyRecord | undefined;
    const fail = (err: Error) => {
      if (!ready) reject(err);
      else if (!failure) failure = err;
      notify();
      settleSyncs();
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      fail(err.code === 'ENOENT' || err.code === 'EACCES' ? helperNotBuiltError(path) : err);
    });
    child.stdin.on('error', () => {}); // the helper may exit first: EPIPE is not news
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => { stderrTail = (stderrTail + text).slice(-4000); });
    /** A piece of the helper's stream, read by the stream or by syncNow. */
    const onChunk = (chunk: Buffer): void => {
      let records: HelperRecord[];
      try {
        records = decoder.push(chunk);
      } catch (err) {
        decodeErrors++;
        fail(err as Error);
        child.kill('SIGTERM');
        return;
      }
      let batch: RawSample[] = [];
      let arrived = 0;
      const enqueue = (b: CaptureBatch, count: number) => {
        queue.push(b);
        queued += count;
        received += count;
        arrived += count;
      };
      let answers = 0;
      // Indexed, not for-of: see SampleCollector.addBatch.
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        if (r.type === 'sample') {
          const snap = snapshots.size ? snapshots.get(r.sample.pid) : undefined;
          if (snap) {
            r.sample.process = snap;
            snapshots.delete(r.sample.pid);
          }
          batch.push(r.sample);
        } else if (r.type === 'samples') {
          // Samples of a version 6 helper come in runs, each after the snapshots taken for it.
          if (batch.length) enqueue(batch, batch.length);
          batch = [];
          if (snapshots.size) {
            r.block.processes = [...snapshots.values()];
            snapshots.clear();
          }
          if (exited.length) {
            r.block.exited = exited;
            exited = [];
          }
          enqueue(r.block, r.block.count);
        } else if (r.type === 'process') snapshots.set(r.process.pid, r.process);
        else if (r.type === 'exit') exited.push({ pid: r.pid, startTime: r.startTime });
        else if (r.type === 'ksym') kernelNames.set(r.addr, { name: r.name, module: r.module });
        else if (r.type === 'stats') {
          last = r;
          // A flagged stats record answers a `batch` command.
          if (r.batch) answers++;
          opts.onStats?.(r);
        }
        else if (r.type === 'tls') opts.onTls?.(r.pid, r.offset);
        else if (r.type === 'error') fail(helperErrorFor(r.code, r.message));
        else if (r.type === 'ready' && !ready) { ready = r; resolve(capture); }
        else if (r.type === 'header') version = r.version;
      }
      if (batch.length) enqueue(batch, batch.length);
      // Exits no run of samples followed in this chunk go on in a run of none, in stream order, so
      // that a quiet machine (or a --pid target that has exited) does not keep them waiting.
      if (exited.length) {
        queue.push(emptyBlock(exited));
        exited = [];
        notify();
      }
      if (arrived) {
        if (queued > HIGH_WATER_SAMPLES) child.stdout.pause(); /* the helper's buffer, then the kernel's, absorb it; overflow counts as lost */
        notify();
      }
      // An answer follows the samples it covers: those are all queued by now (this chunk's included).
      for (const s of syncs) {
        if (!answers) break;
        if (s.target < 0) { s.target = received; answers--; }
      }
      settleSyncs();
    };
    child.stdout.on('data', onChunk);
    // The helper's end of the stream, read here at once by syncNow (libuv's own reads go to onChunk as well).
    const streamFd = (child.stdout as unknown as { _handle?: { fd?: number } })._handle?.fd;
    const nap = new Int32Array(new SharedArrayBuffer(4));
    /** Sends `batch`; the entry gets its target when the answer comes, and `done` resolves once the consumer has every sample it covers. */
    const ask = () => {
      let entry!: { target: number; resolve: () => void };
      const done = new Promise<void>((resolve) => syncs.push((entry = { target: -1, resolve })));
      child.stdin.write('batch\n');
      return { entry, done };
    };
    child.on('close', (code, signal) => {
      ended = true;
      if (!ready || (!stopRequested && !failure)) {
        const why = stderrTail.trim().split('\n').pop() ?? '';
        if (code !== null && code >= 10 && code <= 17) fail(helperErrorFor(code, why));
        else if (!stopRequested) fail(new HelperError('crashed', `the sampling helper exited unexpectedly (${signal ?? `status ${code}`})${why ? `: ${why}` : ''}`, 'please report this as a bug', ExitCode.internal));
      }
      notify();
      settleSyncs();
    });

    const capture: HelperCapture = {
      engine: 'bpf',
      pid: child.pid ?? 0,
      get ready() { return ready as ReadyRecord; },
      get kernelNames() { return ready?.kernelNames ? kernelNames : undefined; },
      get reportsExits() { return version >= 7; },
      async *samples() {
        for (;;) {
          if (queue.length) {
            const batch = queue.shift()!;
            const count = Array.isArray(batch) ? batch.length : batch.count;
            queued -= count;
            delivered += count;
            if (child.stdout.isPaused() && queued < HIGH_WATER_SAMPLES / 2) child.stdout.resume();
            yield batch;
            // The consumer asks for the next batch only when it is done with this one.
            consumed += count;
            settleSyncs();
            continue;
          }
          if (failure) throw failure;
          if (ended) return;
          await new Promise<void>((r) => { wake = r; });
        }
      },
      stats(): CaptureStats {
        return { samples: delivered, lost: last?.lost ?? 0, errors: (last?.errors ?? 0) + decodeErrors };
      },
      stop() {
        stopRequested = true;
        if (ended) return Promise.resolve();
        child.stdout.resume();
        return new Promise<void>((done) => {
          const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
          child.once('close', () => { clearTimeout(killer); done(); });
          child.kill('SIGTERM');
        });
      },
      follow(pid: number) {
        if (!ended) child.stdin.write(`follow ${pid}\n`);
      },
      engineCpuNs: () => last?.helperCpuNs ?? 0,
      sync() {
        if (ended || failure || version < 5) return Promise.resolve();
        return ask().done;
      },
      // Only where the stream's descriptor can be read here (a libuv pipe on Unix).
      syncNow: streamFd === undefined || streamFd < 0 ? undefined : (waitMs: number) => {
        if (ended || failure || version < 5) return undefined;
        // Bytes the stream has read but not yet handed on (paused while the consumer
        // catches up) come first: reading past them here would take the stream out of order.
        if (child.stdout.isPaused() || child.stdout.readableLength > 0) return undefined;
        const { entry, done: answered } = ask();
        // The helper answers within a millisecond or two: read its stream here
        // until the answer is in, napping a millisecond while it is empty,
        // instead of going back to the event loop to be woken for it.
        const deadline = Date.now() + waitMs;
        let chunk: Buffer | undefined;
        for (;;) {
          chunk ??= Buffer.allocUnsafe(64 * 1024);
          let n: number;
          try {
            n = readSync(streamFd, chunk, 0, chunk.length, null);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') break; // the stream's own read reports it
            n = -1;
          }
          if (n === 0) break; // the helper is gone: 'close' says why
          if (n > 0) {
            onChunk(chunk.subarray(0, n));
            chunk = undefined; // the decoder may keep a partial record's bytes: a new buffer for the next read
            if (entry.target >= 0 || failure) break;
          } else if (Date.now() >= deadline) break;
          else Atomics.wait(nap, 0, 0, 1);
        }
        // Not answered in time (a stopped helper): the answer comes through the stream later.
        return entry.target >= 0 || ended || failure ? answered : undefined;
      },
    };
  });
}
