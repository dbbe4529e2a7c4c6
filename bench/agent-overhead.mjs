// What always-on profiling costs: a CPU-bound benchmark on every core (one
// tight C loop per CPU counting iterations for a fixed time) measured alone,
// with `profctl agent` running, and with the peers at the same 99 Hz:
// `perf record -F 99 -g -a` (to a temp file), bpftrace's
// `profile:hz:99 { @[ustack, kstack] = count(); }` and bcc's
// `profile-bpfcc -F 99`. Configurations are interleaved and repeated.
//
// Every tool is measured the same way, as the CPU it takes to turn an hour of
// sampling into named stacks:
// - throughput kept: iterations / iterations of the loops alone, as the mean
//   of the alone runs just before and just after the tool's (in-kernel
//   costs are billed to the benchmark, so they show here; a shared VM's
//   speed drifts by several percent within minutes, so the reference
//   brackets each tool instead of being one run at the start of a round);
// - CPU while sampling: on-CPU time of the tool's processes' threads (from
//   /proc/PID/task/*/schedstat, in ns; /proc/PID/stat's 10 ms ticks where the
//   kernel has no schedstat) while the loops ran, after a warm-up, scaled to
//   an hour;
// - CPU to start: what the tool's processes took from launch to the end of
//   the warm-up, less what its rate while sampling would have taken in that
//   time (bcc and bpftrace compile their programs, the agent loads and names
//   its first samples); counted once in the hour, as stopping is;
// - CPU after sampling: from the stop signal to exit, read with the shell's
//   `times` (a wrapper shell waits for the tool), plus, for perf, `perf script`
//   over the recording — the step that names its samples. Its cost is a fixed
//   part (start-up, each binary's symbols, loaded once) and a part linear in
//   the samples (found by naming the loops' samples over a long and a short
//   stretch inside their run); an hour-long recording is named in one run, so
//   the fixed part counts once and the per-sample part is scaled to an hour;
// - in-kernel sampling time, the same way for every tool: the time the kernel
//   spends in the cpu-clock event's timer handler (perf_swevent_hrtimer) when
//   it interrupts a benchmark loop. There perf walks and copies a sample's
//   stacks into its buffer and the BPF tools run their program; none of it is
//   billed to the tool's process. Timed between the hrtimer expire entry and
//   exit tracepoints (bpftrace, attached outside the tool's processes), as
//   time per handler call times the calls of an hour (CPUs x 99 x 3600); the
//   tracepoints' own cost is in every tool's figure alike. This one is
//   measured in turns of its own after the rounds, every tool in the same
//   minutes: each turn starts each tool in an order rotated by one place per
//   turn, waits until it has its sampling events open and a few seconds
//   more, times the handler on the loops for KERNEL_TURN_S seconds (20) and
//   stops the tool; KERNEL_TURNS turns (6), the median per tool. Timed in
//   each tool's own slot of a round instead, minutes apart, the same tool's
//   figure moved 2x between rounds (a shared VM's speed drifts), more than
//   the tools differ; seconds apart and in alternation the drift falls on
//   every tool alike;
// - in-kernel BPF program time alone (kernel.bpf_stats_enabled,
//   `run_time_ns` in the fdinfo of the tool's program fds), for the tools
//   that use BPF (part of the handler time, shown for reference);
// - peak RSS (VmHWM of the tool's processes, summed: for profctl, the agent
//   and its helper).
//
// One more configuration, not a peer: profctl's sampling helper alone with its
// output thrown away, the floor under the agent's cost (what capture costs
// before anything is named or stored).
//
// Usage (root): [ONLY=agent,perf] [KERNEL_TURNS=6] [KERNEL_TURN_S=20] [ALLOW_OTHER_SAMPLERS=1] node bench/agent-overhead.mjs [seconds=60] [rounds=3] [warmup=120]
// The warm-up keeps each tool's start-up out of its rate while sampling (bcc
// compiles its program, bpftrace its script); it is counted once instead. The
// agent's start-up is naming its first samples, its own start-up's among them
// (node's symbols: ~250 ms), and its heap settling: V8's first full
// collection came 50 to 70 s in (`--trace-gc`), and no other in the next
// four and a half minutes. With a 30 s warm-up that one collection, 25-30
// ms, fell inside the sampled minute and was counted sixty times in the
// hour: hence 120 s.
// Needs: cc, perf (linux-perf), bpftrace, profile-bpfcc (bpfcc-tools); a
// missing peer is reported and skipped. bcc compiles its program against
// kernel headers: on a kernel that ships none (no /lib/modules/$(uname -r)/build,
// no kheaders module), Debian's headers of another version serve, since
// profile's program uses only stable structures:
//   apt-get install linux-headers-6.1.0-50-amd64
//   mkdir -p /lib/modules/$(uname -r)
//   ln -s /usr/src/linux-headers-6.1.0-50-amd64 /lib/modules/$(uname -r)/build
//   ln -s /usr/src/linux-headers-6.1.0-50-common /lib/modules/$(uname -r)/source
// Prints a markdown section.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { median } from './stats.mjs';
import { bpfPrograms, buildSpinLoop } from './lib-sampling.mjs';

const seconds = Number(process.argv[2] ?? 60);
const rounds = Number(process.argv[3] ?? 3);
const warmup = Number(process.argv[4] ?? 120);
const cpus = os.cpus().length;
const root = join(import.meta.dirname, '..');
// Another sampler already running (a forgotten helper, an agent, a perf record) interrupts the loops too:
// its handler calls are timed with each tool's and its CPU taken from every configuration. Refuse to run then.
const otherSamplers = procDir('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid && perfEventFds([Number(d)]) > 0);
if (otherSamplers.length && process.env.ALLOW_OTHER_SAMPLERS !== '1') {
  const names = otherSamplers.map((p) => { try { return `${p} (${readFileSync(`/proc/${p}/comm`, 'utf8').trim()})`; } catch { return p; } });
  process.stderr.write(`agent-overhead: other processes hold perf events and would be measured with every tool: ${names.join(', ')}; stop them, or set ALLOW_OTHER_SAMPLERS=1\n`);
  process.exit(1);
}

const tmp = mkdtempSync(join(os.tmpdir(), 'profctl-overhead-'));
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

const spinLoop = buildSpinLoop(tmp);
// The CPU of a command run to completion, from wait4's rusage: the shell's `times` counts 10 ms ticks,
// and the difference between naming a long and a short stretch of perf's recording is about that much.
writeFileSync(join(tmp, 'cputime.c'), `#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc,char**argv){pid_t p=fork();if(!p){execvp(argv[1],argv+1);_exit(127);}int st;struct rusage ru;if(wait4(p,&st,0,&ru)<0)return 1;
fprintf(stderr,"cputime %ld.%06ld\\n",(long)(ru.ru_utime.tv_sec+ru.ru_stime.tv_sec+(ru.ru_utime.tv_usec+ru.ru_stime.tv_usec)/1000000),(long)((ru.ru_utime.tv_usec+ru.ru_stime.tv_usec)%1000000));return WIFEXITED(st)?WEXITSTATUS(st):1;}
`);
execFileSync('cc', ['-O2', '-o', join(tmp, 'cputime'), join(tmp, 'cputime.c')]);

/** Iterations all CPUs' loops manage in `forS` seconds. */
async function spin(forS = seconds) {
  const runs = Array.from({ length: cpus }, () => new Promise((resolve) => {
    const c = spawn(spinLoop, [String(forS)], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('exit', () => resolve(Number(out.split(' ')[0])));
  }));
  return (await Promise.all(runs)).reduce((a, b) => a + b, 0);
}

function descendants(pid) {
  const out = [pid];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(...descendants(Number(d)));
    } catch {}
  }
  return out;
}

function usage(pids) {
  let ticks = 0;
  let hwmKb = 0;
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
      hwmKb += Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {}
  }
  return { cpuS: ticks / TICK, hwmMb: hwmKb / 1024 };
}

/** The entries of a /proc directory (a process's tasks or fds); none once the process is gone. */
function procDir(path) {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** How many perf events these processes hold open (a sampling tool opens one per CPU). */
function perfEventFds(pids) {
  let n = 0;
  for (const p of pids) {
    for (const fd of procDir(`/proc/${p}/fd`)) {
      try {
        if (readlinkSync(`/proc/${p}/fd/${fd}`) === 'anon_inode:[perf_event]') n++;
      } catch {}
    }
  }
  return n;
}

/**
 * On-CPU time of these processes' threads, seconds, from /proc/PID/task/TID/schedstat
 * (nanoseconds; user and kernel alike), or undefined where the kernel has no schedstat.
 * /proc/PID/stat counts 10 ms ticks: over a minute, one tick is 0.6 s per hour per
 * process, more than the differences between the tools.
 */
function onCpuSeconds(pids) {
  let ns = 0;
  for (const p of pids) {
    for (const t of procDir(`/proc/${p}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${p}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        if (t === String(p)) return undefined;
      }
    }
  }
  return ns / 1e9;
}

/** Summed BPF program run time (ns) and runs of the programs these processes hold open. */
function bpfProgramTime(pids) {
  let ns = 0;
  let runs = 0;
  const seen = new Set();
  for (const p of pids) {
    for (const [id, prog] of bpfPrograms(p)) {
      if (seen.has(id)) continue;
      seen.add(id);
      ns += prog.ns;
      runs += prog.cnt;
    }
  }
  return { ns, runs };
}

/** Address of the cpu-clock event's timer handler, from /proc/kallsyms (undefined when hidden). */
function swEventTimerHandler() {
  const m = /^([0-9a-f]+) t perf_swevent_hrtimer$/m.exec(readFileSync('/proc/kallsyms', 'utf8'));
  return m && !/^0+$/.test(m[1]) ? m[1] : undefined;
}

/**
 * Times the cpu-clock event's timer handler while it interrupts the benchmark
 * loops (comm "spin"), between the hrtimer expire entry and exit tracepoints
 * (kprobes need CONFIG_KPROBES, which not every kernel has): total ns and
 * calls, printed by bpftrace when stopped.
 */
function startKernelProbe(handler) {
  const program = `tracepoint:timer:hrtimer_expire_entry /(uint64)args->function == 0x${handler} && comm == "spin"/ { @start[cpu] = nsecs; } ` +
    'tracepoint:timer:hrtimer_expire_exit /@start[cpu]/ { @ns = sum(nsecs - @start[cpu]); @calls = count(); delete(@start[cpu]); }';
  const child = spawn('bpftrace', ['-e', program], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let onAttached;
  const attached = new Promise((res) => (onAttached = res));
  const take = (d) => {
    out += d;
    if (/Attaching/.test(out)) onAttached();
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exited = new Promise((res) => child.on('exit', () => { onAttached(); res(); }));
  return {
    /** Resolves once bpftrace has compiled and attached its program (or ended). */
    attached,
    /** Stops the probe; ns per handler call, or NaN when the probe could not run. */
    async stop() {
      // bpftrace now and then misses a SIGINT while no event comes (once in a run here): ask again.
      child.kill('SIGINT');
      const again = setInterval(() => child.kill('SIGINT'), 5000);
      await exited;
      clearInterval(again);
      const ns = Number(/@ns: (\d+)/.exec(out)?.[1]);
      const calls = Number(/@calls: (\d+)/.exec(out)?.[1]);
      if (!(calls > 0)) process.stderr.write(`kernel probe: no handler calls timed (${out.trim().split('\n').slice(-1)[0] ?? ''})\n`);
      return calls > 0 ? ns / calls : NaN;
    },
  };
}

/** Runs argv under a shell that reports its children's CPU (`times`) when it ends. */
function spawnTimed(cmd, args) {
  // A shell starts background commands with SIGINT ignored, and Python (bcc) then never stops on it: env restores the default.
  const script = 'env --default-signal=INT "$@" & p=$!; trap \'kill -INT $p\' INT TERM; wait $p; wait $p; times >&2';
  return spawn('sh', ['-c', script, 'sh', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Starts a configuration's tool (spawnTimed) on a fresh store. `tool.launched` is
 * when it was spawned; `tool.exited` turns true when it exits, and
 * `tool.done` resolves then.
 */
function startTool(c) {
  const [cmd, args] = c.cmd();
  rmSync(join(tmp, 'store'), { recursive: true, force: true });
  const launched = Date.now();
  const prof = spawnTimed(cmd, args);
  const tool = { prof, launched, exited: false };
  tool.done = new Promise((res) => prof.on('exit', () => { tool.exited = true; res(); }));
  return tool;
}

/**
 * Stops a tool started by startTool and resolves when it has exited.
 * Naming at exit is part of a tool's cost (bpftrace resolves its stacks then:
 * 20+ s here after a minute of sampling), so it gets time to finish; only a
 * hung tool is killed.
 */
async function stopTool({ prof, done }) {
  prof.kill('SIGINT');
  const timer = setTimeout(() => { for (const p of descendants(prof.pid).reverse()) try { process.kill(p, 'SIGKILL'); } catch {} }, 180000);
  await done;
  clearTimeout(timer);
}

/** The list turned by k places: the order of the tools in round or turn k. */
const rotated = (list, k) => [...list.slice(k % list.length), ...list.slice(0, k % list.length)];

/** Children's user+sys seconds from the `times` output (its second line). */
function childTimes(text) {
  const lines = text.trim().split('\n').filter((l) => /\d+m[\d.]+s \d+m[\d.]+s/.test(l));
  const last = lines[lines.length - 1];
  if (!last) return NaN;
  return [...last.matchAll(/(\d+)m([\d.]+)s/g)].reduce((a, m) => a + Number(m[1]) * 60 + Number(m[2]), 0);
}

/** CPU seconds of one command run to completion, its children included (for perf script), in microseconds. */
async function timedRun(cmd, args) {
  const c = spawn(join(tmp, 'cputime'), [cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  c.stderr.on('data', (d) => (err += d));
  await new Promise((res) => c.on('exit', res));
  return Number(/cputime (\d+\.\d+)/.exec(err)?.[1] ?? NaN);
}

const has = (cmd) => { try { execFileSync('which', [cmd], { stdio: 'ignore' }); return true; } catch { return false; } };
const perfData = join(tmp, 'perf.data');
/** CPU seconds of `perf script` over a recording, and the samples it printed. */
async function perfScript(data, extra = []) {
  const out = join(tmp, 'perf.txt');
  const cpuS = await timedRun('sh', ['-c', `perf script -i ${data} ${extra.join(' ')} > ${out} 2>/dev/null`]);
  let samples = 0;
  for (const line of readFileSync(out, 'utf8').split('\n')) if (line && line[0] !== '\t' && line[0] !== ' ') samples++;
  rmSync(out, { force: true });
  return { cpuS, samples };
}
const configs = [
  { name: 'alone', cmd: null },
  { name: 'profctl agent', cmd: () => [join(root, 'bin', 'profctl'), ['agent', '--store', join(tmp, 'store'), '--quiet']] },
  // The agent's floor: its sampling helper alone, as the agent runs it (the same BPF program, stacks and
  // thread names numbered, records written every 10 s), to /dev/null: capture with no naming and no store.
  ...(existsSync(join(root, 'build', 'profctl-helper')) ? [{
    name: 'profctl-helper alone (floor)',
    cmd: () => [join(root, 'build', 'profctl-helper'), ['--hz', '99', '--flush-ms', '10000', '--stats-ms', '10000']],
  }] : []),
  ...(has('perf') ? [{
    name: 'perf record -F 99 -g -a',
    cmd: () => ['perf', ['record', '-F', '99', '-g', '-a', '-q', '-o', perfData]],
    // perf.data holds raw addresses: `perf script` names them (what FlameGraph's pipeline reads).
    // Its cost is fixed (start-up, each binary's symbols, loaded once) plus linear in the samples. The
    // per-sample part is the difference between naming the loops' samples over a long and a short
    // stretch that start at the same point inside the loops' run and end before it does (so both load
    // the same binaries: the harness's own samples come at the edges); the rest of the whole run is fixed.
    after: async () => {
      const whole = await perfScript(perfData);
      const from = Math.ceil((100 * (warmup + 2)) / (warmup + seconds));
      const to = (p) => `${from}%-${Math.floor(from + ((100 - from) * p) / 100)}%`;
      const long = await perfScript(perfData, ['--comms', 'spin', '--time', to(90)]);
      const short = await perfScript(perfData, ['--comms', 'spin', '--time', to(30)]);
      const perSampleS = Math.max(0, long.cpuS - short.cpuS) / Math.max(1, long.samples - short.samples);
      return { cpuS: whole.cpuS, samples: whole.samples, perSampleS, fixedS: Math.max(0, whole.cpuS - perSampleS * whole.samples) };
    },
  }] : []),
  ...(has('bpftrace') ? [{ name: 'bpftrace profile:hz:99 ustack+kstack', cmd: () => ['bpftrace', ['-e', 'profile:hz:99 { @[ustack, kstack] = count(); }']] }] : []),
  ...(has('profile-bpfcc') ? [{ name: 'profile-bpfcc -F 99', cmd: () => ['profile-bpfcc', ['-F', '99']] }] : []),
];
// ONLY=agent,perf keeps the configurations whose names contain one of the words (and "alone"), for longer runs of a few tools.
const only = (process.env.ONLY ?? '').split(',').filter(Boolean);
if (only.length) configs.splice(0, configs.length, ...configs.filter((c) => !c.cmd || only.some((w) => c.name.includes(w))));
const skipped = ['perf', 'bpftrace', 'profile-bpfcc'].filter((c) => !has(c));

const statsPath = '/proc/sys/kernel/bpf_stats_enabled';
const statsBefore = existsSync(statsPath) ? readFileSync(statsPath, 'utf8').trim() : undefined;
if (statsBefore !== undefined) writeFileSync(statsPath, '1');
const restoreStats = () => { if (statsBefore !== undefined) writeFileSync(statsPath, statsBefore); };
process.on('exit', restoreStats);

const timerHandler = swEventTimerHandler();
const probeKernel = has('bpftrace') && timerHandler !== undefined && process.env.KERNEL_PROBE !== '0';

const failed = new Map();
const results = new Map(configs.map((c) => [c.name, { kept: [], sampling: [], start: [], stop: [], post: [], bpf: [], kernel: [], hwm: [], user: [], total: [] }]));
// Each round starts with the loops alone, then takes the tools in an order rotated by one place per round.
// In a fixed order one tool always ran right after the loops alone and another always last, so any drift
// within a round was billed to the same tools each time (in one such run the same BPF program, the
// agent's and its helper's alone, ran 3.2 and 2.5 s per hour in neighbouring places).
// The loops also run alone between tools (and the last of one round is the first of the next): each
// tool's throughput is measured against the runs right before and right after it.
const tools = configs.filter((c) => c.cmd);
const aloneRuns = results.get('alone').kept;
let alone = await spin();
aloneRuns.push(alone);
for (let r = 0; r < rounds; r++) {
  for (const c of rotated(tools, r)) {
    if (failed.has(c.name)) continue;
    const tool = startTool(c);
    const { prof, launched } = tool;
    let errText = '';
    prof.stderr.on('data', (d) => (errText = (errText + d).slice(-4000)));
    // Warm-up: attached, symbol tables loaded, the runtime's compilers done with the hot code.
    await sleep(warmup * 1000);
    if (tool.exited) {
      // A peer that cannot run here (bcc compiles against kernel headers) is reported, not measured.
      failed.set(c.name, errText.trim().split('\n').filter((l) => /error|fatal|exception/i.test(l)).slice(0, 2).join(' / ') || 'exited at start');
      continue;
    }
    const started = Date.now();
    const warmedS = (started - launched) / 1000;
    // One scan of /proc for the tool's processes: the bench's own reads are sampled by every tool, so they stay few.
    const pidsBefore = descendants(prof.pid);
    const before = usage(pidsBefore);
    const onCpuBefore = onCpuSeconds(pidsBefore);
    const bpfBefore = bpfProgramTime(pidsBefore);
    const iterations = await spin();
    const pids = descendants(prof.pid);
    const u = usage(pids);
    const onCpuAfter = onCpuSeconds(pids);
    // The window's CPU from schedstat where there is one (threads that ended inside it are missed: none of these tools ends any).
    const windowCpuS = onCpuBefore !== undefined && onCpuAfter !== undefined ? onCpuAfter - onCpuBefore : u.cpuS - before.cpuS;
    const bpfAfter = bpfProgramTime(pids);
    const sampledS = (Date.now() - started) / 1000;
    await stopTool(tool);
    const totalS = childTimes(errText);
    const res = results.get(c.name);
    const perHour = 3600 / sampledS;
    const aloneAfter = await spin();
    aloneRuns.push(aloneAfter);
    res.kept.push((iterations / ((alone + aloneAfter) / 2)) * 100);
    alone = aloneAfter;
    res.sampling.push(windowCpuS * perHour);
    // Start-up beyond the steady rate: the warm-up's CPU less the sampling rate over the same time.
    const startS = Math.max(0, before.cpuS - (windowCpuS / sampledS) * warmedS);
    res.start.push(startS);
    res.stop.push(totalS - u.cpuS);
    res.hwm.push(u.hwmMb);
    const bpfPerHour = ((bpfAfter.ns - bpfBefore.ns) / 1e9) * perHour;
    res.bpf.push(bpfPerHour);
    let post = 0;
    if (c.after) {
      const a = await c.after();
      // An hour-long recording is named in one run: the fixed part once, the per-sample part for an hour of samples
      // (the measured window's share of the recording's samples, scaled to an hour).
      const windowShare = sampledS / (sampledS + warmup);
      post = a.fixedS + a.perSampleS * a.samples * windowShare * perHour;
      res.postSamples = a.samples;
      (res.postSplit ??= []).push(`${a.fixedS.toFixed(2)} s + ${(a.perSampleS * 1e6).toFixed(1)} µs × ${a.samples}`);
    }
    res.post.push(post);
    // Everything but the in-kernel part, which the turns below measure.
    res.user.push(windowCpuS * perHour + startS + Math.max(0, totalS - u.cpuS) + post);
    rmSync(perfData, { force: true });
  }
  process.stderr.write(`round ${r + 1}/${rounds} done\n`);
}

// The in-kernel part, every tool in the same minutes (see the header): short turns, in alternation.
const kernelTurns = Number(process.env.KERNEL_TURNS ?? 6);
const kernelTurnS = Number(process.env.KERNEL_TURN_S ?? 20);
const turnTools = tools.filter((c) => !failed.has(c.name));
for (let t = 0; probeKernel && t < kernelTurns; t++) {
  for (const c of rotated(turnTools, t)) {
    const tool = startTool(c);
    // Sampling is on once the tool holds a sampling event per CPU (bcc compiles its program first).
    const deadline = Date.now() + 120_000;
    while (!tool.exited && Date.now() < deadline && perfEventFds(descendants(tool.prof.pid)) < cpus) await sleep(250);
    await sleep(5000);
    let perCall = NaN;
    if (!tool.exited) {
      const probe = startKernelProbe(timerHandler);
      await probe.attached;
      await spin(kernelTurnS);
      perCall = await probe.stop();
    }
    await stopTool(tool);
    rmSync(perfData, { force: true });
    // Every timer-handler call of an hour: one per CPU per sampling period.
    results.get(c.name).kernel.push((perCall / 1e9) * cpus * 99 * 3600);
  }
  process.stderr.write(`in-kernel turn ${t + 1}/${kernelTurns} done\n`);
}
for (const c of tools) {
  const r = results.get(c.name);
  // In-kernel: the median handler time of the turns (it includes any BPF program's run), else the BPF time.
  const kernel = r.kernel.filter(Number.isFinite);
  const inKernel = kernel.length ? median(kernel) : undefined;
  r.total = r.user.map((u, i) => u + (inKernel ?? r.bpf[i]));
}
restoreStats();

const cpu = os.cpus()[0]?.model ?? 'unknown';
const agent = results.get('profctl agent');
const s0 = (x) => `${x.toFixed(1)} s`;
// Each round's figure, in the order of the rounds: the medians alone hid which part of a total varied.
const perRound = (xs) => xs.map((x) => x.toFixed(1)).join(', ');
const lines = [
  `## agent overhead (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Machine: ${cpus} CPUs (\`nproc\`), ${cpu}, kernel ${os.release()}, Node ${process.version}; load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}. Command: \`${only.length ? `ONLY=${only.join(",")} ` : ""}sudo node bench/agent-overhead.mjs ${seconds} ${rounds} ${warmup}\` (after \`npx tsc -p .\` and \`npm run build:native\`).`,
  `Workload: ${cpus} copies (one per CPU) of a tight C loop (-O2, frame pointers) counting iterations for ${seconds} s. Each round runs every tool once, in an order rotated by one place per round, with the loops run alone before the first tool and after each one; a tool's throughput is against the mean of the alone runs on either side of it; ${rounds} rounds; medians. Each tool starts ${warmup} s before the loops (warm-up: not counted as sampling; what it took beyond the sampling rate is its CPU to start, counted once) and is stopped with SIGINT after them.${skipped.length ? ` Not installed, skipped: ${skipped.join(', ')}.` : ''}`,
  '',
  `perf script over each recording, as fixed + per sample × samples (the per-sample part from naming the loops' samples over a long and a short stretch inside the loops' run; the fixed part counts once in an hour): ${results.get('perf record -F 99 -g -a')?.postSplit?.join('; ') ?? '—'}. In-kernel sampling time: ${probeKernel ? `the cpu-clock timer handler timed between the hrtimer expire tracepoints on the loops' interruptions, per call, times the calls of an hour, in ${kernelTurns} turns of ${kernelTurnS} s after the rounds, the tools in alternation (each turn in an order rotated by one place); it includes the BPF tools' program runs, and its median replaces the BPF time in every round's total` : 'not measured (no bpftrace, or KERNEL_PROBE=0): the total counts the BPF time instead'}.`,
  '',
  '| configuration | throughput kept (median %) | per round (%) | CPU while sampling, per hour (rounds) | in-kernel sampling (timer handler), per hour (turns) | of it BPF program, per hour (rounds) | CPU to start (once) | CPU to stop (once) | naming the samples afterwards, per hour | **total CPU per hour of named samples** | peak RSS (MiB) |',
  '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...configs.map((c) => {
    const r = results.get(c.name);
    if (!c.cmd) return `| ${c.name} (${r.kept.length} runs: iterations ÷ their median, %) | 100 | ${perRound(r.kept.map((x) => (x / median(r.kept)) * 100))} | | | | | | | | |`;
    if (failed.has(c.name)) return `| ${c.name} | could not run here: ${failed.get(c.name).replace(/\|/g, '/')} | | | | | | | | | |`;
    return `| ${c.name} | ${median(r.kept).toFixed(1)} | ${perRound(r.kept)} | ${s0(median(r.sampling))} (${perRound(r.sampling)}) | ${r.kernel.some(Number.isFinite) ? `${s0(median(r.kernel.filter(Number.isFinite)))} (${perRound(r.kernel)})` : '—'} | ${s0(median(r.bpf))} (${perRound(r.bpf)}) | ${s0(median(r.start))} (${perRound(r.start)}) | ${s0(median(r.stop))} | ${c.after ? s0(median(r.post)) : '—'} | **${s0(median(r.total))}** (${perRound(r.total)}) | ${median(r.hwm).toFixed(0)} |`;
  }),
  '',
  ...configs.filter((c) => agent && c.cmd && c.name !== 'profctl agent' && !failed.has(c.name)).map((c) => {
    const r = results.get(c.name);
    // Turn by turn: the two tools' handler times minutes apart at most, one right after the other.
    const paired = agent.kernel.map((k, i) => k / r.kernel[i]).filter(Number.isFinite);
    const turns = paired.length ? `; in-kernel turn by turn ${paired.map((x) => x.toFixed(2)).join(', ')} (geometric mean ${Math.exp(paired.reduce((a, x) => a + Math.log(x), 0) / paired.length).toFixed(2)})` : '';
    return `- profctl agent / ${c.name}: total CPU ${(median(agent.total) / median(r.total)).toFixed(2)}×, peak RSS ${(median(agent.hwm) / median(r.hwm)).toFixed(2)}×${turns}.`;
  }),
  '',
];
console.log(lines.join('\n'));
rmSync(tmp, { recursive: true, force: true });
if (existsSync(tmp)) process.exitCode = 1;
