// profctl status: is an agent running, and how is it doing (rate, losses, its
// own CPU and memory), and what does the store hold (path, size against the
// cap, oldest and newest data, gaps in coverage). Reads the agent's status
// file and the store's segment names; never talks to the agent.
import { ExitCode } from '../errors.js';
import { colors } from '../render/color.js';
import { formatDuration, formatRoughDuration } from '../slo/duration.js';
import { formatBytes } from './units.js';

function when(ms: number | undefined, now: number): string {
  if (ms === undefined) return '-';
  return `${new Date(ms).toISOString()} (${formatRoughDuration(now - ms)} ago)`;
}

export async function run(_args: string[], options: Record<string, unknown>): Promise<number> {
  const { resolveStoreDir, readAgentStatus, openStoreReader } = await import('../store/index.js');
  const dir = resolveStoreDir(typeof options.store === 'string' ? options.store : undefined);
  const now = Date.now();
  const agent = readAgentStatus(dir, now);
  const warnings: string[] = [];
  let store: ReturnType<ReturnType<typeof openStoreReader>['stats']> | undefined;
  let storeError: string | undefined;
  try {
    store = openStoreReader(dir, { onWarning: (m) => warnings.push(m) }).stats();
  } catch (e) {
    storeError = (e as Error).message;
  }
  // Gaps since the agent started are what an on-call cares about; older ones are history.
  const gaps = store?.gaps ?? [];
  // A health check's answer: is an agent running and writing its store.
  const exitCode = agent?.running && !agent.stale ? ExitCode.ok : ExitCode.checkFailed;

  if (options.json === true) {
    process.stdout.write(
      JSON.stringify(
        {
          agent: agent
            ? {
                running: agent.running,
                stale: agent.stale,
                pid: agent.pid,
                engine: agent.engine ?? null,
                hz: agent.hz,
                startedAt: new Date(agent.startedMs).toISOString(),
                updatedAt: new Date(agent.updatedMs).toISOString(),
                samplesPerSecond: agent.samplesPerSecond,
                lostPerSecond: agent.lostPerSecond,
                cpuPercent: agent.cpuPercent,
                rssBytes: agent.rssBytes,
                otlpAddress: agent.otlpAddress ?? null,
                unwritten: agent.unwritten ?? 0,
              }
            : { running: false },
          store: store
            ? {
                path: store.path,
                sizeBytes: store.sizeBytes,
                maxSizeBytes: agent?.maxSizeBytes ?? null,
                retentionMs: agent?.retentionMs ?? null,
                segments: store.segments,
                oldest: store.oldestMs !== undefined ? new Date(store.oldestMs).toISOString() : null,
                newest: store.newestMs !== undefined ? new Date(store.newestMs).toISOString() : null,
                gaps: gaps.map((g) => ({ from: new Date(g.fromMs).toISOString(), to: new Date(g.toMs).toISOString(), ms: g.toMs - g.fromMs })),
              }
            : { path: dir, error: storeError },
        },
        null,
        2,
      ) + '\n',
    );
    return exitCode;
  }

  const c = colors();
  const out: string[] = [];
  if (!agent) out.push(`agent    ${c.yellow('not running')} (no status in ${dir}; start it with: sudo profctl agent)`);
  else if (!agent.running) out.push(`agent    ${c.red('not running')} (last seen ${when(agent.updatedMs, now)}, pid ${agent.pid})`);
  else {
    out.push(`agent    ${c.green('running')}, pid ${agent.pid}, ${agent.engine ?? '?'} engine at ${agent.hz} Hz, up ${formatRoughDuration(now - agent.startedMs)}`);
    const lost = agent.lostPerSecond > 0 ? c.red(`${agent.lostPerSecond.toFixed(1)} lost/s`) : '0 lost/s';
    out.push(`rate     ${agent.samplesPerSecond.toFixed(1)} samples/s, ${lost}`);
    out.push(`cost     ${agent.cpuPercent.toFixed(1)}% of one CPU, ${formatBytes(agent.rssBytes)} resident`);
    if (agent.otlpAddress) out.push(`otlp     http://${agent.otlpAddress}/v1/traces`);
    if (agent.stale) out.push(`warning  ${c.yellow(`no status written for ${formatRoughDuration(now - agent.updatedMs)}`)}: the agent cannot write to ${dir} (its file system full?); its log says why`);
    else if (agent.unwritten) out.push(`warning  ${c.yellow(`${agent.unwritten} samples and spans waiting`)}: the store refused their write; the agent tries again at each flush, and its log says why`);
  }
  if (store) {
    const cap = agent ? ` of ${formatBytes(agent.maxSizeBytes)} cap, retention ${formatDuration(agent.retentionMs)}` : '';
    out.push(`store    ${store.path}: ${formatBytes(store.sizeBytes)}${cap}, ${store.segments} segment${store.segments === 1 ? '' : 's'}`);
    out.push(`oldest   ${when(store.oldestMs, now)}`);
    out.push(`newest   ${when(store.newestMs, now)}`);
    if (gaps.length) {
      const total = gaps.reduce((a, g) => a + g.toMs - g.fromMs, 0);
      out.push(`gaps     ${c.yellow(`${gaps.length} gaps, ${formatRoughDuration(total)} without data`)}; last: ${new Date(gaps[gaps.length - 1]!.fromMs).toISOString()} to ${new Date(gaps[gaps.length - 1]!.toMs).toISOString()}`);
    } else if (store.segments) out.push('gaps     none');
  } else out.push(`store    ${dir}: ${storeError}`);
  for (const w of warnings.slice(0, 5)) process.stderr.write(`profctl: warning: ${w}\n`);
  process.stdout.write(out.join('\n') + '\n');
  return exitCode;
}
