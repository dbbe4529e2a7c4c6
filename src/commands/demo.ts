// profctl demo: the newcomer's path from nothing to the walk, on this machine.
// It starts a profctl agent (this same installation) with its OTLP receiver
// on a free port, a small Node service instrumented with OpenTelemetry
// (demo/service.js, run with --perf-basic-prof) and a load generator
// (demo/load.js); after a while it plants a regression — one endpoint starts
// burning CPU in computeLoyaltyDiscount — so that a latency SLO pages. Then it
// stops them and runs the walk itself (slo, trace, flame, top; see
// demo-walk.ts). Every process it started is stopped however it ends,
// Ctrl-C and SIGTERM included. It needs root, as the agent does.
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError, ExitCode } from '../errors.js';
import { colors } from '../render/color.js';
import { parseDuration } from './units.js';
import { DemoInterrupted, DemoProcesses, freePort, sleep, waitForLine, type DemoChild } from './demo-processes.js';
import { runWalk, type WalkResult } from './demo-walk.js';

export interface DemoOptions {
  durationMs: number;
  keep: boolean;
  json: boolean;
  store?: string;
}

const minDurationMs = 20_000;
const serviceName = 'checkout';
const sloName = 'checkout-latency';
export const plantedFunction = 'computeLoyaltyDiscount';
/** Requests per second the load generator aims at (one at a time). */
const requestRate = 20;
/** The share of the run before the regression is planted. */
const baselineShare = 0.4;

// 99.9% of checkout requests under 100 ms over 30 days. The burn-rate windows
// (5m, 1h, ...) all hold just the demo's minute of data, so the SLO pages when
// the bad share of that minute exceeds 14.4 × 0.1% = 1.44%. After the
// regression every /checkout (a third of the requests) takes 200 ms of CPU;
// on a busy machine those requests slow the one-at-a-time load down, yet even
// at one request a second the bad share stays above 2%: a PAGE however loaded
// the machine is, while the normal traffic (well under 100 ms) burns little.
const sloYaml = `# The demo's SLO (profctl demo): a latency SLO on the checkout service's
# root server spans, as the agent received them over OTLP.
slos:
  - name: ${sloName}
    service: ${serviceName}
    objective: 99.9
    latency: 100ms
    window: 30d
`;

export function parseDemoOptions(o: Record<string, unknown>): DemoOptions {
  const durationMs = o.duration !== undefined ? parseDuration(String(o.duration), '--duration') : 60_000;
  if (durationMs < minDurationMs) throw new UserError(`--duration ${String(o.duration)}: too short`, `give at least ${minDurationMs / 1000}s: the regression needs time to make the SLO burn`);
  return { durationMs, keep: o.keep === true, json: o.json === true, store: typeof o.store === 'string' ? o.store : undefined };
}

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const setpriv = '/usr/bin/setpriv';

function note(message: string): void {
  process.stderr.write(`profctl demo: ${message}\n`);
}

function clockTime(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

function post(port: number, path: string): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST' }, (res) => {
      res.resume();
      res.on('end', () => resolveStatus(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** What a failed child said: its last `profctl: ` error line (else its last line), and its hint. */
function childError(text: string): { message: string; hint?: string } {
  const lines = text.split('\n').map((l) => l.trimEnd()).filter(Boolean);
  let errorAt = lines.length - 1;
  while (errorAt >= 0 && !lines[errorAt]!.startsWith('profctl: ')) errorAt--;
  if (errorAt < 0) return { message: lines[lines.length - 1]?.trim() ?? '' };
  const hint = /^\s+hint: (.*)$/.exec(lines[errorAt + 1] ?? '')?.[1];
  return { message: lines[errorAt]!.slice('profctl: '.length), ...(hint ? { hint } : {}) };
}

interface Started {
  agent: DemoChild;
  service: DemoChild;
  load: DemoChild;
  servicePort: number;
}

async function startAll(procs: DemoProcesses, store: string, workdir: string, abort: AbortSignal): Promise<Started> {
  const node = process.execPath;
  const profctl = join(packageRoot, 'bin', 'profctl');
  const otlpPort = await freePort();
  const agentArgs = [profctl, 'agent', '--store', store, '--otlp', `127.0.0.1:${otlpPort}`, '--flush', '2s', '--quiet'];
  // The service and the load leave when their stdin closes; the agent does not
  // watch its stdin, so where util-linux's setpriv exists it gets SIGTERM from
  // the kernel when the demo dies, even by SIGKILL (setpriv execs: same pid).
  const [command, args] = existsSync(setpriv) ? [setpriv, ['--pdeathsig', 'SIGTERM', node, ...agentArgs]] : [node, agentArgs];
  const agent = procs.start('the agent', command, args, { env: { ...process.env, NO_COLOR: '1' } });
  try {
    await waitForLine(agent, 'stderr', (l) => (/sampling at/.test(l) ? l : undefined), 30_000, abort);
  } catch (e) {
    if (e instanceof DemoInterrupted) throw e;
    const exit = agent.hasExited() ? await agent.exited : undefined;
    const said = childError(agent.stderr());
    const hint = said.hint ?? `try \`sudo profctl agent --otlp --store ${store}\` on its own to see what it needs`;
    throw new UserError(`the agent did not start: ${said.message || (e as Error).message}`, hint, exit?.code === ExitCode.permission ? ExitCode.permission : ExitCode.environment);
  }
  note(`agent (pid ${agent.pid}) sampling at 99 Hz into ${store}, OTLP receiver on 127.0.0.1:${otlpPort}`);

  const service = procs.start('the demo service', node, ['--perf-basic-prof', join(packageRoot, 'demo', 'service.js'), '--otlp', `http://127.0.0.1:${otlpPort}/v1/traces`, '--service', serviceName], {
    // V8 writes an isolate log into its working directory when perf maps are on: keep it out of the package.
    cwd: workdir,
  });
  let servicePort: number;
  try {
    servicePort = await waitForLine(service, 'stdout', (l) => (l.startsWith('{') ? (JSON.parse(l) as { listening?: number }).listening : undefined), 20_000, abort);
  } catch (e) {
    if (e instanceof DemoInterrupted) throw e;
    throw new UserError(`the demo service did not start: ${childError(service.stderr()).message || (e as Error).message}`, `run \`node ${join(packageRoot, 'demo', 'service.js')}\` to see why`, ExitCode.environment);
  }
  note(`demo service "${serviceName}" (pid ${service.pid}) on http://127.0.0.1:${servicePort}, run with --perf-basic-prof, spans over OTLP to the agent`);

  const load = procs.start('the load generator', node, [join(packageRoot, 'demo', 'load.js'), '--target', `http://127.0.0.1:${servicePort}`, '--rate', String(requestRate)]);
  note(`load generator (pid ${load.pid}): about ${requestRate} requests/s to /products, /cart and /checkout, one at a time`);
  return { agent, service, load, servicePort };
}

export interface DemoSummary {
  store: string;
  kept: boolean;
  slo: WalkResult['slo'];
  slowestTrace: WalkResult['slowestTrace'];
  hottestFunction: string | null;
  plantedFunction: string;
  found: boolean;
  requests: { requests: number; errors: number; byPath: Record<string, number> } | null;
  processes: { agent: number; service: number; load: number };
  steps: WalkResult['steps'];
}

export async function run(_args: string[], options: Record<string, unknown>): Promise<number> {
  const opts = parseDemoOptions(options);
  if (process.geteuid?.() !== 0) {
    const again = ['sudo', 'profctl', ...process.argv.slice(2)].join(' ');
    throw new UserError(`demo needs root to sample the CPU with eBPF (as the agent does): run \`${again}\``, undefined, ExitCode.permission);
  }

  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => abort.abort(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const procs = new DemoProcesses();
  const workdir = mkdtempSync(join(tmpdir(), 'profctl-demo-'));
  const store = opts.store ? resolve(opts.store) : join(workdir, 'store');
  const configFile = join(workdir, 'profctl.yaml');
  writeFileSync(configFile, sloYaml);
  note(`working folder ${workdir} (the SLO file${opts.store ? '' : ' and the store'}; ${opts.keep ? 'kept' : 'removed at the end'})`);
  let interrupted = false;
  try {
    const started = await startAll(procs, store, workdir, abort.signal);
    const trafficStartMs = Date.now();
    const baselineMs = Math.round(opts.durationMs * baselineShare);
    note(`${Math.round(baselineMs / 1000)}s of normal traffic...`);
    await sleep(baselineMs, abort.signal);
    if ((await post(started.servicePort, '/_demo/regression?on=1')) !== 200) throw new Error('the demo service refused to plant the regression');
    note(`planted the regression: ${plantedFunction} now burns 200 ms of CPU on every /checkout; ${Math.round((opts.durationMs - baselineMs) / 1000)}s more traffic...`);
    await sleep(opts.durationMs - baselineMs, abort.signal);

    note('stopping the load, the service (it exports its last spans) and the agent (it writes its last segment)');
    await procs.stop(started.load);
    const requests = started.load.stdout().trim() ? (JSON.parse(started.load.stdout().trim().split('\n').pop()!) as DemoSummary['requests']) : null;
    await procs.stop(started.service, 10_000);
    const agentExit = await procs.stop(started.agent, 15_000);
    if (agentExit.code !== 0) note(`warning: the agent exited with ${agentExit.signal ?? `status ${agentExit.code}`}: ${childError(started.agent.stderr()).message}`);
    if (requests) note(`sent ${requests.requests} requests (${requests.errors} failed)`);

    const c = colors();
    const childEnv: NodeJS.ProcessEnv = { ...process.env, PROFCTL_STORE: store };
    delete childEnv.FORCE_COLOR;
    if (!opts.json && c.level > 0) childEnv.FORCE_COLOR = String(c.level);
    else childEnv.NO_COLOR = '1';
    if (!opts.json) {
      process.stdout.write(`\n${c.bold('The walk')}: the commands an on-call types, run against the demo's store and SLO file\n`);
      process.stdout.write(`${c.bold(`$ cd ${workdir} && export PROFCTL_STORE=${store}`)}\n`);
    }
    const walk = await runWalk({
      procs,
      profctlCommand: { command: process.execPath, prefixArgs: [join(packageRoot, 'bin', 'profctl')], cwd: workdir, env: childEnv },
      service: serviceName,
      sloName,
      sinceClock: clockTime(trafficStartMs).slice(0, 5),
      print: !opts.json,
      abort: abort.signal,
      width: Math.max(60, Math.min(160, process.stdout.columns ?? 100)),
    });

    const found = walk.hottestFunction === plantedFunction;
    const pages = walk.slo?.status === 'page';
    const summary: DemoSummary = {
      store,
      kept: opts.keep || opts.store !== undefined,
      slo: walk.slo,
      slowestTrace: walk.slowestTrace,
      hottestFunction: walk.hottestFunction,
      plantedFunction,
      found,
      requests,
      processes: { agent: started.agent.pid, service: started.service.pid, load: started.load.pid },
      steps: walk.steps,
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      const verdict = found
        ? c.green(`found it: ${plantedFunction}, the planted regression, is the hottest function of the slowest trace`)
        : c.red(`the walk did not end at ${plantedFunction} (hottest: ${walk.hottestFunction ?? 'none'})`);
      process.stdout.write(`\n${verdict}\n`);
    }
    if (opts.keep) {
      // Readable (not writable) by the person who ran sudo, for exploring as themselves.
      chmodSync(workdir, 0o755);
      const id = walk.slowestTrace?.traceId ?? '<trace id>';
      note(`the data stays in ${store}; explore it with:`);
      process.stderr.write(`  cd ${workdir} && export PROFCTL_STORE=${store}\n  profctl slo\n  profctl trace --service ${serviceName} --since 10m\n  profctl trace ${id}\n  profctl flame --trace-id ${id}\n  profctl status\n`);
    }
    else if (opts.store) note(`the demo's data stays in ${store}`);
    if (!pages) note(`the SLO ${sloName} did not page (${walk.slo?.status ?? 'no result'}); see the slo step above`);
    return found && pages ? ExitCode.ok : ExitCode.checkFailed;
  } catch (e) {
    if (e instanceof DemoInterrupted) {
      interrupted = true;
      note(`${e.message}: stopping everything it started`);
      return ExitCode.interrupted;
    }
    throw e;
  } finally {
    await procs.stopAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!opts.keep) rmSync(workdir, { recursive: true, force: true });
    else if (interrupted) note(`kept ${workdir}`);
  }
}
