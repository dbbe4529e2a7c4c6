// The fallback engine: perf(1) (Debian's linux-perf) when the BPF helper
// cannot load. `perf record -g` writes a new file every second
// (--switch-output), each finished file is turned into RawSamples with
// `perf script`, and the file is deleted. Timestamps use CLOCK_MONOTONIC
// (-k mono) and are shifted to wall clock with an offset taken at start, like
// the helper does. It follows a launched command with `-p PID` (perf's
// inherited events cover children forked after attaching). It has no trace
// context, and reports lost chunks that perf script announces.
// It must not symbolize: perf script is asked for raw addresses only (made
// absolute again with perf's own mmap events). Kernel-module addresses stay
// as perf prints them.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ExitCode, UserError } from '../errors.js';
import type { Capture, CaptureOptions, CaptureStats, RawSample } from './capture-types.js';

const KERNEL_START = 0xffff800000000000n;

export function perfAvailable(): boolean {
  return spawnSync('perf', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Executable mappings seen in PERF_RECORD_MMAP/MMAP2 events, per pid. */
export type PerfMappings = Map<number, Array<{ start: bigint; len: bigint; pgoff: bigint; path: string }>>;

/**
 * Parses `perf script -F comm,pid,tid,cpu,time,ip,dso --ns --show-mmap-events
 * --show-lost-events` output into samples. perf prints user frames relative to
 * their mapping ("11c5 (/bin/x)"), so the mmap events, kept across files in
 * `mappings`, turn them back into absolute addresses like the BPF engine's.
 * Pure apart from updating `mappings`.
 */
export function parsePerfScriptRaw(text: string, wallOffsetMs: number, mappings: PerfMappings = new Map()): { samples: RawSample[]; lost: number } {
  const samples: RawSample[] = [];
  let lost = 0;
  let current: RawSample | undefined;
  const header = /^(.*?)\s+(-?\d+)\/(\d+)\s+\[(\d+)\]\s+(\d+)\.(\d+):\s*(.*)$/;
  const mmap = /PERF_RECORD_MMAP2? (-?\d+)\/\d+: \[0x([0-9a-f]+)\(0x([0-9a-f]+)\) @ (0x[0-9a-f]+|0)[^\]]*\]: \S+ (.*)$/;
  const frame = /^\s*([0-9a-f]+)(?: \((.*)\))?\s*$/i;
  for (const line of text.split('\n')) {
    if (line.startsWith('\t') || (current && line.startsWith(' '))) {
      const m = frame.exec(line);
      if (current && m) {
        let ip = BigInt(`0x${m[1]}`);
        const dso = m[2];
        const map = dso ? mappings.get(current.pid)?.find((x) => x.path === dso && ip >= x.pgoff && ip < x.pgoff + x.len) : undefined;
        if (map && ip < KERNEL_START) ip = ip - map.pgoff + map.start;
        (ip >= KERNEL_START ? current.kernelStack : current.userStack).push(ip);
      }
      continue;
    }
    if (current) { samples.push(current); current = undefined; }
    const mm = mmap.exec(line);
    if (mm) {
      const pid = Number(mm[1]);
      const list = mappings.get(pid) ?? [];
      const entry = { start: BigInt(`0x${mm[2]}`), len: BigInt(`0x${mm[3]}`), pgoff: BigInt(mm[4]), path: mm[5].trim() };
      if (!list.some((x) => x.start === entry.start && x.path === entry.path)) list.push(entry);
      mappings.set(pid, list);
      continue;
    }
    const lostMatch = /LOST\b.*?(\d+)\s*$/.exec(line);
    if (lostMatch) { lost += Number(lostMatch[1]); continue; }
    const m = header.exec(line);
    if (!m || m[7]) continue; // other PERF_RECORD_* events
    const monoMs = Number(m[5]) * 1000 + Number(m[6].padEnd(9, '0').slice(0, 6)) / 1000;
    current = { timeMs: monoMs + wallOffsetMs, pid: Number(m[2]), tid: Number(m[3]), cpu: Number(m[4]), comm: m[1].trim(), userStack: [], kernelStack: [] };
  }
  if (current) samples.push(current);
  return { samples, lost };
}

function monotonicToWallOffsetMs(): number {
  // process.hrtime reads CLOCK_MONOTONIC on Linux, the clock of `perf record -k mono`.
  const mono = Number(process.hrtime.bigint()) / 1e6;
  return Date.now() - mono;
}

export async function startPerfCapture(opts: CaptureOptions): Promise<Capture> {
  if (!perfAvailable()) {
    throw new UserError('perf is not installed', 'install it (Debian: `sudo apt-get install linux-perf`), or build the BPF helper with `npm run build:native`', ExitCode.environment);
  }
  const dir = mkdtempSync(join(tmpdir(), 'profctl-perf-'));
  const targets = [...(opts.pids ?? []), ...(opts.followChildrenOf !== undefined ? [opts.followChildrenOf] : [])];
  const args = ['record', '-F', String(Math.round(opts.hz)), '-g', '-k', 'mono', '--switch-output=1s', '--sample-cpu', '-q', '-o', join(dir, 'perf.data')];
  args.push(...(targets.length ? ['-p', targets.join(',')] : ['-a']));
  const wallOffsetMs = monotonicToWallOffsetMs();
  const perf: ChildProcess = spawn('perf', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  perf.stderr!.setEncoding('utf8');
  perf.stderr!.on('data', (t: string) => { stderr = (stderr + t).slice(-4000); });
  const stats: CaptureStats = { samples: 0, lost: 0, errors: 0 };
  const mappings: PerfMappings = new Map();
  let exited = false;
  let stopping = false;
  perf.on('close', () => { exited = true; });
  await new Promise<void>((resolve, reject) => {
    // perf prints nothing on success; give it a moment to fail on privileges.
    const timer = setTimeout(resolve, 300);
    perf.once('close', (code) => {
      clearTimeout(timer);
      if (stopping) return resolve();
      const why = stderr.trim().split('\n').find((l) => l.trim()) ?? `exit status ${code}`;
      const denied = /permission|not permitted|paranoid|EACCES|EPERM/i.test(stderr);
      reject(denied
        ? new UserError('perf record needs root or CAP_PERFMON', 'run with sudo, e.g. `sudo profctl record ...`', ExitCode.permission)
        : new UserError(`perf record failed: ${why.trim()}`, 'check `perf record -F 99 -g -a sleep 1` by hand', ExitCode.environment));
    });
  });

  async function convert(file: string): Promise<RawSample[]> {
    const script = spawn('perf', ['script', '-i', join(dir, file), '-F', 'comm,pid,tid,cpu,time,ip,dso', '--ns', '--show-mmap-events', '--show-lost-events'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const lines: string[] = [];
    for await (const line of createInterface({ input: script.stdout! })) lines.push(line);
    rmSync(join(dir, file), { force: true });
    const { samples, lost } = parsePerfScriptRaw(lines.join('\n'), wallOffsetMs, mappings);
    stats.lost += lost;
    for (const s of samples) if (!s.userStack.length && !s.kernelStack.length) stats.errors++;
    return samples;
  }
  const finishedFiles = () => readdirSync(dir).filter((f) => /^perf\.data\.\d+$/.test(f)).sort();

  return {
    engine: 'perf',
    async *samples() {
      for (;;) {
        const done = exited;
        for (const f of finishedFiles()) {
          const batch = await convert(f);
          stats.samples += batch.length;
          if (batch.length) yield batch;
        }
        if (done) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      rmSync(dir, { recursive: true, force: true });
    },
    stats: () => ({ ...stats }),
    stop() {
      stopping = true;
      if (exited) return Promise.resolve();
      return new Promise<void>((done) => {
        const killer = setTimeout(() => perf.kill('SIGKILL'), 5000);
        perf.once('close', () => { clearTimeout(killer); done(); });
        perf.kill('SIGINT'); // perf writes and renames its last chunk on SIGINT
      });
    },
  };
}
