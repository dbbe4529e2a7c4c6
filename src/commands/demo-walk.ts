// The walk that `profctl demo` shows once its data is in the store: the same
// profctl commands an on-call would type — slo, then the trace command slo
// suggests, then flame and top of the slowest trace — each run as a child
// process and printed with its real output. Each step also runs once with
// --json so the demo can say, without parsing tables, what the walk found.
// It reads the store through those commands only; it starts no service.
import { colors } from '../render/color.js';
import { DemoInterrupted, type DemoProcesses } from './demo-processes.js';

export interface WalkStep {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface SlowestTrace {
  traceId: string;
  root: string;
  durationMs: number;
  samples: number;
  hottest: string | null;
}

export interface WalkResult {
  steps: WalkStep[];
  slo: { name: string; status: string; burnRates?: Record<string, number>; next: string | null } | null;
  slowestTrace: SlowestTrace | null;
  hottestFunction: string | null;
}

export interface WalkContext {
  procs: DemoProcesses;
  /** Runs `profctl ARGS` (the same installation) in the demo's folder, with its store in the environment. */
  profctlCommand: { command: string; prefixArgs: string[]; cwd: string; env: NodeJS.ProcessEnv };
  service: string;
  sloName: string;
  /** The start of the demo's traffic, for the trace window when slo suggests none. */
  sinceClock: string;
  /** Print the steps as they run (off with --json). */
  print: boolean;
  width: number;
  /** Aborted on Ctrl-C/SIGTERM: no further step starts. */
  abort: AbortSignal;
}

/** Splits a command line that slo printed (words, single-quoted words) into argv. */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) words.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]!);
  return words;
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export async function runWalk(ctx: WalkContext): Promise<WalkResult> {
  const { procs, profctlCommand: pc } = ctx;
  const steps: WalkStep[] = [];
  const c = colors();
  const exec = async (args: string[]) => {
    if (ctx.abort.aborted) throw new DemoInterrupted(String(ctx.abort.reason));
    const r = await procs.run(`profctl ${args[0]}`, pc.command, [...pc.prefixArgs, ...args], { cwd: pc.cwd, env: pc.env });
    if (ctx.abort.aborted) throw new DemoInterrupted(String(ctx.abort.reason));
    return r;
  };

  /** A step as the reader sees it: the command, then its output. */
  const show = async (args: string[]): Promise<WalkStep> => {
    const command = ['profctl', ...args].join(' ');
    const r = await exec(args);
    const step = { command, exitCode: r.code, stdout: r.stdout, stderr: r.stderr };
    steps.push(step);
    if (ctx.print) {
      process.stdout.write(`\n${c.bold(`$ ${command}`)}\n${r.stdout}`);
      if (r.stderr) process.stderr.write(r.stderr);
    }
    return step;
  };

  // 1. Which SLO burns, and the next command it suggests.
  await show(['slo']);
  type SloJson = { slos: Array<{ name: string; status: string; burnRates?: Record<string, number>; next: string | null; error?: string }> };
  const sloData = parseJson<SloJson>((await exec(['slo', '--json'])).stdout);
  const sloRow = sloData?.slos.find((s) => s.name === ctx.sloName) ?? null;
  const slo = sloRow ? { name: sloRow.name, status: sloRow.status, ...(sloRow.burnRates ? { burnRates: sloRow.burnRates } : {}), next: sloRow.next } : null;

  // 2. The slowest traces of the burning window, with the command slo printed.
  const suggested = slo?.next ? splitCommandLine(slo.next) : [];
  const traceArgs = suggested[0] === 'profctl' && suggested[1] === 'trace' ? suggested.slice(1) : ['trace', '--service', ctx.service, '--since', ctx.sinceClock, '--slowest'];
  await show([...traceArgs, '--limit', '5']);
  type TraceJson = { traces: SlowestTrace[] };
  const traceData = parseJson<TraceJson>((await exec([...traceArgs, '--limit', '1', '--json'])).stdout);
  const slowest = traceData?.traces[0];
  const slowestTrace = slowest
    ? { traceId: slowest.traceId, root: slowest.root, durationMs: slowest.durationMs, samples: slowest.samples, hottest: slowest.hottest ?? null }
    : null;
  if (!slowestTrace) return { steps, slo, slowestTrace: null, hottestFunction: null };

  // 3. Where that trace's CPU went: a static flame graph, then the table.
  await show(['flame', '--trace-id', slowestTrace.traceId, '--no-interactive', '--width', String(ctx.width)]);
  await show(['top', '--trace-id', slowestTrace.traceId, '--limit', '10']);
  type TopJson = { rows: Array<{ function: string; self: number }> };
  const topData = parseJson<TopJson>((await exec(['top', '--trace-id', slowestTrace.traceId, '--limit', '1', '--json'])).stdout);
  const hottestFunction = topData?.rows[0]?.function ?? null;
  return { steps, slo, slowestTrace, hottestFunction };
}
