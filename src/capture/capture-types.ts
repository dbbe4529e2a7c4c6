// The capture stage's contract: what every engine (the BPF helper, perf)
// hands to the rest of profctl. `record`, `agent` and symbolization build on
// these types, so they change only by adding optional fields.
//
// - Stacks are leaf first and hold raw instruction addresses as bigint (kernel
//   addresses need all 64 bits; a number would round them). The leaf is the
//   sampled instruction pointer; callers' entries are return addresses, so a
//   symbolizer looking up a caller should subtract 1 before the lookup.
// - timeMs is wall-clock milliseconds since the epoch with microseconds kept
//   as the fraction (the kernel's monotonic clock shifted by an offset taken
//   when capture started).
// - pid is the process (tgid), tid the thread; comm is the thread's name.
// This module must not import anything: it is the shared vocabulary.

export interface RawSample {
  timeMs: number;
  pid: number;
  tid: number;
  cpu: number;
  /** The sampled thread's comm (up to 15 bytes). */
  comm: string;
  /** User-space return addresses, leaf first; empty for kernel threads. */
  userStack: bigint[];
  /** Kernel return addresses, leaf first; empty when sampled in user mode. */
  kernelStack: bigint[];
  /**
   * The engine's numbered stack (bpf engine): samples of one process image
   * with equal stacks share this object, so a consumer can name a repeated
   * stack once, by identity, without reading userStack/kernelStack.
   */
  shared?: SharedStack;
  /** OpenTelemetry trace id (32 lowercase hex) read from the thread at sample time. */
  traceId?: string;
  /** OpenTelemetry span id (16 lowercase hex). */
  spanId?: string;
  /**
   * The process as the engine saw it just before this sample (bpf engine):
   * set on the first sample of a process, after an exec, and when its
   * executable mappings changed. Symbolize with it, not with /proc, which may
   * be gone or describe a later program by the time the sample is named.
   */
  process?: ProcessSnapshot;
}

/**
 * A run of samples in columns (bpf engine): each of a RawSample's fields as
 * one typed array, so that a consumer handling thousands of samples a second
 * makes no object per sample. Sample i's stack is stacks[stack[i]] and its
 * thread name comms[comm[i]]; the arrays are the engine's numbering when the
 * run was read (a later restart of the numbering does not change them).
 */
export interface SampleBlock {
  readonly count: number;
  readonly timeMs: Float64Array;
  readonly pid: Uint32Array;
  readonly tid: Uint32Array;
  readonly cpu: Uint32Array;
  readonly stack: Uint32Array;
  readonly stacks: readonly SharedStack[];
  readonly comm: Uint32Array;
  readonly comms: readonly string[];
  /** The samples with a trace context, by ascending index. */
  readonly traced: readonly TracedSample[];
  /**
   * Process snapshots taken since the previous run, in order: to be noted
   * before these samples are named (see RawSample.process).
   */
  processes?: ProcessSnapshot[];
  /**
   * Processes (pid and start time, as in their snapshots) the engine saw exit
   * since the previous run, after all of their samples.
   */
  exited?: ExitedProcess[];
}

export interface ExitedProcess {
  pid: number;
  startTime: string;
}

export interface TracedSample {
  index: number;
  traceId: string;
  spanId: string;
}

/** What an engine hands over at a time: sample objects, or one run of them in columns. */
export type CaptureBatch = RawSample[] | SampleBlock;

/** Stacks an engine numbered once and samples refer to (see RawSample.shared). */
export interface SharedStack {
  readonly userStack: bigint[];
  readonly kernelStack: bigint[];
  /**
   * The consumer's own note on this stack (the collector keeps the stack's
   * names here): a property read per sample where a WeakMap lookup cost a
   * hash probe. Engines create it undefined and never read it.
   */
  memo?: unknown;
}

/** A process's identity and executable mappings, read while it was alive. */
export interface ProcessSnapshot {
  pid: number;
  /** Why it was sent: first seen, after an exec (same pid and start time), or its mappings changed. */
  reason: 'new' | 'exec' | 'maps';
  /** Start time in clock ticks since boot (field 22 of /proc/PID/stat), as decimal text. */
  startTime: string;
  /** Wall-clock ms when it was read. */
  timeMs: number;
  /** The pid inside the process's own pid namespace (names its perf map). */
  nsPid: number;
  /** The main thread's comm: the process name. */
  comm: string;
  /** The executable lines of /proc/PID/maps, as text. */
  maps: string;
  /** A host path of its perf map (/tmp/perf-N.map) when it had one and shares the host's root. */
  perfMapPath?: string;
  /** It sees the same root file system as profctl: mapped paths are host paths. */
  sameRoot: boolean;
}

/** Cumulative counters since capture started. */
export interface CaptureStats {
  /** Samples delivered to samples(). */
  samples: number;
  /** Samples the kernel took but could not hand over (buffer full). */
  lost: number;
  /** Samples with no stack at all, and records that could not be decoded. */
  errors: number;
}

/** The kernel's own name for a kernel address (bpf engine). */
export interface KernelName {
  /** Empty when the kernel could not name the address. */
  name: string;
  /** "[modname]" for a loadable module, empty for the kernel image. */
  module: string;
}

export interface Capture {
  readonly engine: 'bpf' | 'perf';
  /**
   * Names of the samples' kernel addresses as the kernel gave them, by lookup
   * address (a leaf as sampled, a caller's return address minus one), each
   * filled in before the first batch that holds it; absent when the engine
   * does not name kernel frames (then /proc/kallsyms does).
   */
  readonly kernelNames?: ReadonlyMap<bigint, KernelName>;
  /** Batches of samples, in arrival order, until stop() or the engine fails (then it throws). */
  samples(): AsyncIterable<CaptureBatch>;
  stats(): CaptureStats;
  /** Stops sampling and detaches; samples() ends after the last batch. Idempotent. */
  stop(): Promise<void>;
  /** Adds a process and, later, its descendants to the targets (bpf engine only). */
  follow?(pid: number): void;
  /** CPU time the engine's own process has used, ns (bpf: from its stats records). */
  engineCpuNs?(): number;
  /**
   * Hands over everything sampled so far: resolves once those samples are in
   * batches samples() has yielded and its consumer has finished with (the
   * consumer must keep iterating). Lets a caller that writes the samples
   * ask for them when it writes instead of taking batches all the time
   * (bpf engine; resolves at once when the engine has stopped).
   */
  sync?(): Promise<void>;
  /**
   * sync(), with the engine's answer read at once, in this turn of the event
   * loop, waiting at most `waitMs` for it: a caller woken by its own timer
   * then gets the samples without being woken a second time for them. The
   * promise resolves once the consumer has finished with them (it must keep
   * iterating samples()); undefined when no answer came in time (the samples
   * come later, through samples()) or the engine cannot be read this way (bpf engine).
   */
  syncNow?(waitMs: number): Promise<void> | undefined;
  /**
   * The engine tells of every exit of a process it sent a snapshot for
   * (SampleBlock.exited): those need not be looked for in /proc.
   */
  readonly reportsExits?: boolean;
}

export interface CaptureOptions {
  /** Sampling frequency per CPU, Hz. */
  hz: number;
  /** Only these processes (tgids); their later children are not added. */
  pids?: number[];
  /** A launched command: it and all its descendants, including later forks. */
  followChildrenOf?: number;
  engine: 'auto' | 'bpf' | 'perf';
  /** How often the engine hands over a batch unasked, ms (bpf engine; default 100). Longer costs less CPU. */
  batchMs?: number;
}
