// profctl agent: the always-on profiler. Samples the machine, names the
// addresses within each drain, and every flush interval writes one segment
// (samples and the spans its OTLP receiver took in) to the ring-buffer store,
// enforces the size cap and retention, and rewrites its status file. Runs
// until SIGTERM, SIGINT or SIGHUP, then flushes what it has and leaves nothing
// attached.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, ExitCode } from '../errors.js';
import { formatBytes, parseDuration, parseHz, parseSize } from './units.js';
import { warnOnStderr } from './data-sources.js';
import type { Span } from '../spans/model.js';
import { WindowQueue } from './agent-windows.js';
import { pushAll } from '../arrays.js';

export interface AgentOptions {
  store?: string;
  hz: number;
  flushMs: number;
  maxSizeBytes: number;
  retentionMs: number;
  engine: 'auto' | 'bpf' | 'perf';
  otlp?: string | true;
  quiet: boolean;
}

const MIN_STORE_BYTES = 4096;
/** How long a flush waits for the helper's answer before writing what it has. */
const SYNC_WAIT_MS = 500;
/** The helper's longest schedule of its own: it then writes when asked (or past a megabyte). */
const UNASKED_BATCH_MS = 600_000;
const MAX_FLUSH_MS = 600_000;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function parseAgentOptions(o: Record<string, unknown>): AgentOptions {
  const flushMs = parseDuration(String(o.flush ?? '10s'), '--flush');
  if (flushMs < 1000) throw new UserError(`--flush ${String(o.flush)}: too short`, 'flush at most once a second (10s is the default)');
  // A window is held in memory until it is written, and a crash loses it: a few minutes at most.
  if (flushMs > MAX_FLUSH_MS) throw new UserError(`--flush ${String(o.flush)}: too long`, 'flush at least every 10 minutes (10s is the default)');
  const maxSizeBytes = parseSize(String(o.maxSize ?? '1GiB'), '--max-size');
  // Below a segment and the tables it needs, every flush would be evicted as it is written.
  if (maxSizeBytes < MIN_STORE_BYTES) throw new UserError(`--max-size ${String(o.maxSize)}: too small`, 'the store needs room for its tables and a few segments: give at least 4KiB (1GiB is the default)');
  return {
    store: typeof o.store === 'string' ? o.store : undefined,
    hz: parseHz(o.hz),
    flushMs,
    maxSizeBytes,
    retentionMs: parseDuration(String(o.retention ?? '7d'), '--retention'),
    engine: (o.engine as AgentOptions['engine']) ?? 'auto',
    otlp: o.otlp === true || typeof o.otlp === 'string' ? (o.otlp as string | true) : undefined,
    quiet: o.quiet === true,
  };
}

function helperRssBytes(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export async function run(_args: string[], options: Record<string, unknown>): Promise<number> {
  const opts = parseAgentOptions(options);
  const { openStoreWriter, resolveStoreDir, writeAgentStatus } = await import('../store/index.js');
  const { startCapture } = await import('../capture/engine.js');
  const { Symbolizer } = await import('../symbolize/symbolizer.js');
  const { SampleCollector } = await import('../symbolize/sample-collector.js');

  const dir = resolveStoreDir(opts.store);
  const writer = openStoreWriter(dir, { maxSizeBytes: opts.maxSizeBytes, retentionMs: opts.retentionMs, onWarning: warnOnStderr });
  let capture;
  try {
    // The helper keeps the samples until the agent asks for them at its flush
    // (it snapshots new processes itself, so waiting costs no names), so
    // neither process wakes for a batch in between; it writes unasked only
    // past a megabyte (see syncAndFlush below).
    capture = await startCapture({ hz: opts.hz, engine: opts.engine, batchMs: UNASKED_BATCH_MS });
  } catch (e) {
    writer.close();
    throw e;
  }
  const symbolizer = new Symbolizer({ kernelNames: capture.kernelNames });
  const collector = new SampleCollector(symbolizer, opts.hz);
  const pendingSpans: Span[] = [];
  let spansReceived = 0;

  let receiver: Awaited<ReturnType<typeof import('../spans/otlp-receiver.js').startOtlpReceiver>> | undefined;
  if (opts.otlp !== undefined) {
    const { startOtlpReceiver, parseListenAddress } = await import('../spans/otlp-receiver.js');
    let addr;
    try {
      addr = parseListenAddress(opts.otlp);
    } catch (e) {
      await capture.stop();
      writer.close();
      throw new UserError(`--otlp: ${(e as Error).message}`, 'give host:port, e.g. --otlp 127.0.0.1:4318');
    }
    try {
      receiver = await startOtlpReceiver({
        ...addr,
        onSpans: (spans) => {
          spansReceived += spans.length;
          pushAll(pendingSpans, spans);
        },
      });
    } catch (e) {
      await capture.stop();
      writer.close();
      const code = (e as NodeJS.ErrnoException).code;
      throw new UserError(`cannot listen for OTLP on ${addr.host}:${addr.port}: ${code ?? (e as Error).message}`, code === 'EADDRINUSE' ? 'another process (a collector?) has that port: pass --otlp HOST:PORT' : undefined, ExitCode.environment);
    }
  }

  const startedMs = Date.now();
  let windowStart = startedMs;
  let lastStats = capture.stats();
  let lastCpu = process.cpuUsage();
  let lastEngineCpu = capture.engineCpuNs?.() ?? 0;
  let lastTick = startedMs;
  const helperPid = (capture as { pid?: number }).pid;

  process.stderr.write(
    `profctl agent: sampling at ${opts.hz} Hz with ${capture.engine}, flushing every ${opts.flushMs / 1000}s to ${dir}` +
      (receiver ? `, OTLP on http://${receiver.address}/v1/traces` : '') +
      '\n',
  );

  const windows = new WindowQueue(writer, {
    onWarning: warnOnStderr,
    onWritten: opts.quiet
      ? undefined
      : (r, b) => {
          const evicted = b.deletedSegments ? `, evicted ${plural(b.deletedSegments, 'old segment')}` : '';
          process.stderr.write(`profctl agent: ${plural(r.samples, 'sample')}, ${plural(r.spans, 'span')} → ${formatBytes(r.bytes)}; store ${formatBytes(b.sizeBytes)} of ${formatBytes(opts.maxSizeBytes)}${evicted}\n`);
        },
  });

  const flush = () => {
    const now = Date.now();
    const columns = collector.takeColumns(now);
    const spans = pendingSpans.splice(0);
    const written = windows.write({ startMs: windowStart, endMs: now, columns, spans });
    windowStart = now;
    symbolizer.forgetExited(capture.reportsExits ?? false);
    const stats = capture.stats();
    const secs = Math.max(0.001, (now - lastTick) / 1000);
    const cpu = process.cpuUsage(lastCpu);
    const engineCpu = capture.engineCpuNs?.() ?? 0;
    const cpuPercent = ((cpu.user + cpu.system) / 1e6 / secs + (engineCpu - lastEngineCpu) / 1e9 / secs) * 100;
    const status = {
      pid: process.pid,
      updatedMs: now,
      startedMs,
      hz: opts.hz,
      flushMs: opts.flushMs,
      engine: capture.engine,
      samplesPerSecond: (stats.samples - lastStats.samples) / secs,
      lostPerSecond: (stats.lost - lastStats.lost) / secs,
      cpuPercent: Number(cpuPercent.toFixed(2)),
      rssBytes: process.memoryUsage().rss + helperRssBytes(helperPid),
      maxSizeBytes: opts.maxSizeBytes,
      retentionMs: opts.retentionMs,
      ...(receiver ? { otlpAddress: receiver.address } : {}),
      samplesTotal: stats.samples,
      lostTotal: stats.lost,
      spansReceived,
      ...(windows.unwritten ? { unwritten: windows.unwritten } : {}),
    };
    try {
      writeAgentStatus(dir, status);
    } catch (e) {
      // One line per flush: a store that cannot be written has said so already.
      if (written) warnOnStderr(`cannot write the agent's status to ${dir}: ${(e as Error).message}`);
    }
    lastStats = stats;
    lastCpu = process.cpuUsage();
    lastEngineCpu = engineCpu;
    lastTick = now;
  };

  const drained = (async () => {
    for await (const batch of capture.samples()) {
      collector.addBatch(batch);
      // Processes the engine saw exit leave now, not at the flush: a build starts hundreds a flush.
      if (capture.reportsExits) symbolizer.forgetNotedExits();
    }
  })();

  const flushSafely = () => {
    try {
      flush();
    } catch (e) {
      warnOnStderr(`flush failed: ${(e as Error).message}`);
    }
  };
  /**
   * The samples taken so far, then the flush. Every wakeup of an idle process
   * costs about a millisecond of CPU on a virtual machine, and taking a
   * batch through node's stream machinery about as much again: the agent
   * wakes once a flush, on its timer, asks the helper, and reads the answer
   * in the same turn (capture.syncNow). A helper that does not answer within
   * SYNC_WAIT_MS (stopped, overloaded) does not hold the flush up: its
   * samples come through the stream and go into a later window.
   */
  const syncAndFlush = async () => {
    if (capture.syncNow) {
      const answered = capture.syncNow(SYNC_WAIT_MS);
      if (answered) await answered;
    } else if (capture.sync) {
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([capture.sync(), new Promise<void>((r) => (timeout = setTimeout(r, 2000)))]);
      clearTimeout(timeout);
    }
    flushSafely();
  };
  let flushing: Promise<void> | undefined;
  let stopping = false;
  const requestFlush = () => {
    if (stopping) return;
    flushing ??= syncAndFlush().finally(() => (flushing = undefined));
  };
  const timer = setInterval(requestFlush, opts.flushMs);

  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    // A terminal that hangs up on a foreground agent: stop as cleanly as for SIGTERM.
    process.once('SIGHUP', () => resolve('SIGHUP'));
  });
  const failure = drained.then(
    () => 'capture ended',
    (e: unknown) => {
      throw e;
    },
  );
  let why: string;
  try {
    why = await Promise.race([stopped, failure]);
  } finally {
    stopping = true;
    clearInterval(timer);
  }
  await capture.stop();
  await drained.catch(() => {});
  await flushing;
  await receiver?.close();
  flushSafely();
  writer.close();
  if (windows.unwritten) warnOnStderr(`${windows.unwritten} samples and spans could not be written to the store before stopping, and are lost`);
  // Leave a status that says the agent is gone.
  try {
    rmSync(join(dir, 'agent-status.json'), { force: true });
  } catch {
    // A reader will see a stale status and a dead pid: also "not running".
  }
  process.stderr.write(`profctl agent: stopped (${why})\n`);
  return ExitCode.ok;
}
