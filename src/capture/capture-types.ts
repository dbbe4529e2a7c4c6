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
  /** OpenTelemetry trace id (32 lowercase hex) read from the thread at sample time. */
  traceId?: string;
  /** OpenTelemetry span id (16 lowercase hex). */
  spanId?: string;
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

export interface Capture {
  readonly engine: 'bpf' | 'perf';
  /** Batches of samples, in arrival order, until stop() or the engine fails (then it throws). */
  samples(): AsyncIterable<RawSample[]>;
  stats(): CaptureStats;
  /** Stops sampling and detaches; samples() ends after the last batch. Idempotent. */
  stop(): Promise<void>;
  /** Adds a process and, later, its descendants to the targets (bpf engine only). */
  follow?(pid: number): void;
  /** CPU time the engine's own process has used, ns (bpf: from its stats records). */
  engineCpuNs?(): number;
}

export interface CaptureOptions {
  /** Sampling frequency per CPU, Hz. */
  hz: number;
  /** Only these processes (tgids); their later children are not added. */
  pids?: number[];
  /** A launched command: it and all its descendants, including later forks. */
  followChildrenOf?: number;
  engine: 'auto' | 'bpf' | 'perf';
}
