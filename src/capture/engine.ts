// Chooses the capture engine for `--engine auto|bpf|perf` and starts it.
// auto tries the BPF helper and falls back to perf only when BPF itself is
// unavailable here (no helper built, kernel too old, BPF off, verifier
// rejection) — never on a missing privilege, which perf needs as well.
// It says which engine it fell back to, on stderr. The one entry point other
// stages use; the types it returns are documented in capture-types.ts.

import type { Capture, CaptureOptions } from './capture-types.js';
import { HelperError, startHelper } from './helper-process.js';
import { perfAvailable, startPerfCapture } from './perf-engine.js';

export type { Capture, CaptureOptions, CaptureStats, RawSample } from './capture-types.js';

export async function startCapture(opts: CaptureOptions): Promise<Capture> {
  if (opts.engine === 'perf') return startPerfCapture(opts);
  const helperOpts = {
    hz: opts.hz,
    pids: opts.pids,
    follow: opts.followChildrenOf !== undefined ? [opts.followChildrenOf] : undefined,
    // Stats come with each batch (and with each sync's answer): none in between.
    ...(opts.batchMs !== undefined ? { flushMs: opts.batchMs, statsMs: Math.max(1000, opts.batchMs) } : {}),
  };
  if (opts.engine === 'bpf') return startHelper(helperOpts);
  try {
    return await startHelper(helperOpts);
  } catch (err) {
    if (!(err instanceof HelperError) || !err.engineUnavailable || !perfAvailable()) throw err;
    process.stderr.write(`profctl: ${err.message}; using perf instead\n`);
    return startPerfCapture(opts);
  }
}
