// profctl record: profiles the whole machine, some pids, or a command it
// launches, for a duration or until the command exits; writes a gzipped
// pprof (-o) or adds the samples to the store. A launched command is held
// stopped until sampling is attached, so its first milliseconds are seen,
// and its exit status becomes profctl's. Node commands get
// --perf-basic-prof so their JS functions have names.
import { constants as osConstants } from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { UserError, ExitCode } from '../errors.js';
import { parseDuration, parseHz, parsePositiveInt } from './units.js';
import { optionList } from './select-profile.js';
import { warnOnStderr } from './data-sources.js';
import { readTgid } from '../symbolize/proc-maps.js';
import type { Capture } from '../capture/capture-types.js';
import type { StoreWriter } from '../store/index.js';
import type { OutputSink } from './write-output.js';

export interface RecordOptions {
  durationMs?: number;
  hz: number;
  pids: number[];
  output?: string;
  engine: 'auto' | 'bpf' | 'perf';
  store?: string;
  command: string[];
}

export function parseRecordOptions(args: string[], o: Record<string, unknown>): RecordOptions {
  const pids = optionList(o.pid).map((p) => parsePositiveInt(p, '--pid'));
  const command = [...args];
  if (command.length && pids.length) throw new UserError('give either --pid or a command to launch, not both');
  const hz = parseHz(o.hz);
  return {
    durationMs: o.duration !== undefined ? parseDuration(String(o.duration), '--duration') : command.length ? undefined : 10_000,
    hz,
    pids,
    output: typeof o.output === 'string' ? o.output : undefined,
    engine: (o.engine as RecordOptions['engine']) ?? 'auto',
    store: typeof o.store === 'string' ? o.store : undefined,
    command,
  };
}

/** node (or nodejs) gets --perf-basic-prof unless the user already chose a perf flag. */
export function withNodePerfMap(command: string[]): string[] {
  const exe = basename(command[0] ?? '');
  if (!/^node(js)?(\d+)?$/.test(exe)) return command;
  if (command.some((a) => a.startsWith('--perf-basic-prof') || a.startsWith('--perf-prof'))) return command;
  // With perf maps on, V8 also opens its log file (isolate-*-v8.log in the
  // working directory); send it nowhere unless the user asked for logging.
  const logging = command.some((a) => a.startsWith('--logfile') || a === '--prof' || a.startsWith('--log'));
  return [command[0]!, '--perf-basic-prof', ...(logging ? [] : ['--logfile=/dev/null']), ...command.slice(1)];
}

function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Starts the command stopped (it stops itself before exec) and resolves once it is. */
async function launchStopped(command: string[]): Promise<ChildProcess> {
  const child = spawn('/bin/sh', ['-c', 'kill -STOP $$; exec "$0" "$@"', ...command], { stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    child.once('error', (e) => reject(new UserError(`cannot start ${command[0]}: ${e.message}`, undefined, ExitCode.usage)));
    child.once('spawn', () => resolve());
  });
  for (let i = 0; i < 500; i++) {
    if (processState(child.pid!) === 'T') return child;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  return child;
}

export async function run(args: string[], options: Record<string, unknown>): Promise<number> {
  const opts = parseRecordOptions(args, options);
  // A pid that names no process, or a thread (sampling filters by process), would record nothing, silently.
  for (const pid of opts.pids) {
    const tgid = readTgid('/proc', pid);
    if (tgid === undefined) throw new UserError(`no process has pid ${pid}`, 'check the pid (ps -p PID); the process may have exited', ExitCode.usage);
    if (tgid !== pid) throw new UserError(`${pid} is a thread of process ${tgid}`, `pass --pid ${tgid}`, ExitCode.usage);
  }
  // Open the output first: a bad path should fail before anything is recorded.
  const { openOutput, refuseBinaryOnTerminal } = await import('./write-output.js');
  if (opts.output) refuseBinaryOnTerminal(opts.output, 'a pprof profile');
  const sink = opts.output ? openOutput(opts.output) : undefined;
  // Likewise the store: its writer lock is taken now, so that a store another
  // writer (a running agent) holds is refused before the command runs, not after.
  let store: StoreWriter | undefined;
  if (!sink) {
    const { openStoreWriter, resolveStoreDir } = await import('../store/index.js');
    store = openStoreWriter(resolveStoreDir(opts.store), { onWarning: warnOnStderr });
  }
  try {
    return await recordInto(opts, sink, store);
  } finally {
    store?.close();
  }
}

async function recordInto(opts: RecordOptions, sink: OutputSink | undefined, store: StoreWriter | undefined): Promise<number> {
  const { startCapture } = await import('../capture/engine.js');
  const { Symbolizer } = await import('../symbolize/symbolizer.js');
  const { SampleCollector } = await import('../symbolize/sample-collector.js');

  const command = withNodePerfMap(opts.command);
  let child: ChildProcess | undefined;
  if (command.length) {
    child = await launchStopped(command);
    if (!command[0]!.includes('/') && child.exitCode !== null) throw new UserError(`cannot run ${command[0]}`, 'check the command name and PATH');
  }

  let capture: Capture;
  try {
    capture = await startCapture({
      hz: opts.hz,
      engine: opts.engine,
      ...(opts.pids.length ? { pids: opts.pids } : {}),
      ...(child ? { followChildrenOf: child.pid! } : {}),
    });
  } catch (e) {
    child?.kill('SIGKILL');
    sink?.abort();
    throw e;
  }
  const symbolizer = new Symbolizer({ kernelNames: capture.kernelNames });
  const collector = new SampleCollector(symbolizer, opts.hz);
  const startMs = Date.now();

  const drained = (async () => {
    for await (const batch of capture.samples()) {
      collector.addBatch(batch);
      // A long recording of a build machine sees thousands of processes come and go: those
      // the engine saw exit leave memory now, but for those that may run JIT code, whose
      // perf maps are read once more at the end.
      if (capture.reportsExits) symbolizer.forgetNotedExits(true);
    }
  })();

  let childStatus: number | undefined;
  const done: Promise<void>[] = [];
  if (child) {
    done.push(
      new Promise((resolve) => {
        child!.once('exit', (code, signal) => {
          childStatus = code ?? statusOfSignal(signal);
          resolve();
        });
      }),
    );
    process.kill(child.pid!, 'SIGCONT');
  }
  let timer: NodeJS.Timeout | undefined;
  if (opts.durationMs !== undefined) done.push(new Promise((resolve) => (timer = setTimeout(resolve, opts.durationMs))));
  // Ctrl-C or SIGTERM ends the recording; the profile is still written.
  let stoppedBy: NodeJS.Signals | undefined;
  done.push(
    new Promise((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        stoppedBy = signal;
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }),
  );
  await Promise.race([...done, drained.then(() => undefined)]);
  if (timer) clearTimeout(timer);
  // Give the last in-flight samples of a command that just exited time to arrive.
  await new Promise((r) => setTimeout(r, 50));
  await capture.stop();
  await drained;
  const stats = capture.stats();
  // A runtime may write its perf map only now, at exit (a JVM's -XX:+DumpPerfMapAtExit).
  collector.nameJitFromPerfMaps();
  const profile = collector.takeProfile();

  const seconds = ((Date.now() - startMs) / 1000).toFixed(1);
  const lost = stats.lost ? `, ${stats.lost} lost` : '';
  process.stderr.write(`profctl: recorded ${profile.samples.length} samples in ${seconds}s with ${capture.engine}${lost}\n`);
  if (profile.samples.length === 0) process.stderr.write('profctl: note: no samples: the target used no CPU while recording\n');

  if (sink) {
    const { encodePprof } = await import('../profile/pprof-encode.js');
    sink.write(encodePprof(profile));
    sink.commit();
    if (opts.output !== '-') process.stderr.write(`profctl: wrote ${opts.output}\n`);
  } else if (store) {
    store.appendSegment({ startMs, endMs: Date.now(), profile });
    store.enforceBounds();
    process.stderr.write(`profctl: added to the store at ${store.dir}\n`);
  }
  const cutShort = child !== undefined && child.exitCode === null && child.signalCode === null;
  if (cutShort) {
    child!.kill('SIGTERM');
    if (stoppedBy) process.stderr.write(`profctl: note: ${basename(command[0]!)} had not finished: stopped it with SIGTERM\n`);
  }
  if (childStatus !== undefined) return childStatus;
  // A command stopped before it finished did not succeed: the status says which signal stopped the recording.
  if (cutShort && stoppedBy) return statusOfSignal(stoppedBy);
  // Ctrl-C is how a whole-machine recording is ended: the profile is written, and that is success.
  return ExitCode.ok;
}

/** A shell's exit status for a process killed by `signal`: 128 + its number. */
function statusOfSignal(signal: NodeJS.Signals | null): number {
  const n = signal ? osConstants.signals[signal] : undefined;
  return n ? 128 + n : 1;
}
