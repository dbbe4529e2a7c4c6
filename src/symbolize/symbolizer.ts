// The symbolizer: turns raw stack addresses from capture into named frames.
// It is the one entry point of src/symbolize/ for `record` and `agent`.
//
// Interface (stable; others build on it):
//
//   const sym = new Symbolizer({ procRoot?: '/proc', debugDirs?: ['/usr/lib/debug'] });
//   sym.noteProcess(snapshot)       // a capture engine's snapshot (RawSample.process), in sample order
//   sym.notePids(pids)              // pids without a snapshot, as soon as a batch arrives
//   sym.symbolizeUser(pid, addrs, timeMs?)  // → Frame[], same length and order as addrs
//   sym.symbolizeKernel(addrs)      // → Frame[]
//   sym.forget(pid)                 // the process exited
//   sym.noteExit(pid, startTime)    // the engine saw a snapshotted process exit, after its samples
//   sym.forgetExited(engineReportsExits?) // forget all exited processes after a batch
//   sym.forgetNotedExits(keepJit?)  // forget only those the engine reported, no /proc reads
//   sym.mayNameLater(frame)        // an unknown frame another try could name
//   sym.stats()
//
// - Stacks are leaf first. addrs[0] is the sampled instruction pointer; the
//   others are return addresses, looked up at addr-1 so that a call at the
//   very end of a function (noreturn callees) names its caller, not the next
//   function. Addresses may be number or bigint. timeMs, the sample's
//   wall-clock time, tells whether re-reading a perf map can help.
// - A frame is never dropped: what cannot be resolved becomes
//   `[unknown] <module>+0x<offset>` (kind 'unknown'; offset = ELF virtual
//   address when the ELF is readable, else the file offset) or
//   `[unknown] 0x<addr>` when no mapping or module holds it. Kernel frames
//   that cannot be resolved keep module '[kernel.kallsyms]'. Kernel names
//   come from the capture engine when it has them (the BPF helper asks the
//   kernel itself, `kernelNames`), else from /proc/kallsyms, read on first use.
// - Frame kinds and modules: 'native' from ELF symbols, module = basename of
//   the binary ('[vdso]' for the vdso); 'jit' from perf maps, module '[jit]',
//   with V8's "JS:*" prefix and tier marker stripped from the name and the
//   script in file/line; 'kernel', module '[kernel.kallsyms]' or '[modname]'.
//   Frame.rawName holds the mangled (or perf-map) name when it differs.
// - Returned Frame objects are cached and shared between calls: do not
//   mutate them (intern them, e.g. with ProfileBuilder.frameId).
// - Where a process's maps come from: a snapshot from the capture engine
//   (the BPF helper reads /proc/PID/maps within milliseconds of a sample, and
//   again after an exec or when an address falls outside its mappings), else
//   /proc/PID/maps read by notePids, keyed by pid and start time so pid reuse
//   cannot mix two programs, and re-read when an address falls outside every
//   mapping. A snapshot's process may be gone by the time its samples are
//   named: binaries are then opened by their path (same inode), and its perf
//   map at /tmp/perf-N.map. Binaries are loaded lazily, the first time one of
//   their addresses is looked up, and kept open while a process maps them.
//
// It must not decide what to sample or store: it only names addresses.

import type { KernelName, ProcessSnapshot } from '../capture/capture-types.js';
import type { Frame } from '../profile/model.js';
import { BinaryCache } from './binary-cache.js';
import { settledUnknownFrames, type BinarySymbols } from './binary-symbols.js';
import { demanglerError } from './demangle.js';
import { KERNEL_MODULE, KernelSymbols } from './kallsyms.js';
import { PerfMap } from './perf-map.js';
import { findMapping, isExecutable, isFileBacked, parseMaps, readBootWallMs, readMaps, readNsPid, readStartTime, startWallMs, type Mapping } from './proc-maps.js';

export interface SymbolizerOptions {
  /** Where /proc is (tests may point elsewhere). */
  procRoot?: string;
  /** Roots of separate debug files; default ['/usr/lib/debug']. */
  debugDirs?: string[];
  /** Path of kallsyms; default `${procRoot}/kallsyms`. */
  kallsymsPath?: string;
  /**
   * The capture engine's names for kernel addresses, by lookup address
   * (Capture.kernelNames): when given, /proc/kallsyms is never read.
   */
  kernelNames?: ReadonlyMap<bigint, KernelName>;
}

export interface SymbolizerStats {
  processes: number;
  binaries: number;
  binaryLoads: number;
  binaryLoadFailures: number;
  userFrames: number;
  userUnresolved: number;
  kernelFrames: number;
  kernelUnresolved: number;
  mapsReads: number;
  perfMapEntries: number;
  pidReuses: number;
  /** Snapshots from the capture engine, and how many of them followed an exec. */
  snapshots: number;
  execs: number;
  /** Kernel addresses are hidden from this user (kptr_restrict): kernel frames stay unknown. */
  kernelRestricted: boolean;
  demanglerError?: string;
}

interface ProcessState {
  pid: number;
  startTime: string;
  maps: Mapping[];
  /** Per mapping index: its binary, null when unreadable, undefined when not yet loaded. */
  binaries: (BinarySymbols | null | undefined)[];
  perfMap: PerfMap;
  frames: Map<number, Frame>;
  lastMapsRead: number;
  /** Maps come from engine snapshots, which the engine keeps current: /proc/PID/maps is not read. */
  fromSnapshot: boolean;
  /** The engine found the process's root directory to be ours: its paths name our files. */
  sameRoot: boolean;
  /**
   * The process may run generated code: some snapshot of it showed code no
   * binary file holds, or it had a perf map. When not, a perf map is never
   * looked for: a compiler or shell on a build machine has none, and an
   * address outside its binaries is a broken unwind.
   */
  mayHaveJit: boolean;
}

/** Address → frame cache per process; cleared when full (the per-binary caches stay). */
const MAX_PROCESS_FRAMES = 1 << 14;
const MIN_REFRESH_INTERVAL_MS = 50;
/** A perf map older than its process's start by more than this is a former process's. */
const PERF_MAP_START_SLACK_MS = 1000;
const BOOT_TIME_REREAD_MS = 10_000;

function toNumber(a: bigint | number): number {
  return typeof a === 'bigint' ? (a <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(a) : -1) : a;
}

/**
 * Whether executable mappings include code no binary file holds: anonymous
 * memory (V8's and the JVM's code), a memfd (.NET's double mapping) or a
 * deleted file. The kernel's own [vdso] and [vsyscall] do not count.
 */
function holdsGeneratedCode(maps: readonly Mapping[]): boolean {
  return maps.some(
    (m) => isExecutable(m) && (isFileBacked(m) ? m.deleted || m.path.startsWith('/memfd:') : m.path !== '[vdso]' && m.path !== '[vsyscall]'),
  );
}

/** What makes two mappings the same one: where, which part of which file, with what access. */
function mappingKey(m: Mapping): string {
  return `${m.start}-${m.end} ${m.perms} ${m.offset} ${m.dev} ${m.inode} ${m.deleted ? 'deleted ' : ''}${m.path}`;
}

function unknownAddress(addr: bigint | number, module = ''): Frame {
  return { name: `[unknown] 0x${addr.toString(16)}`, module, kind: 'unknown' };
}

/**
 * Unknown frames at addresses no binary holds (anonymous memory, or outside
 * every mapping): JIT code that a perf map written later may name. The value
 * is the address to look up (a return address less one).
 */
const jitCandidates = new WeakMap<Frame, number>();

function unknownJitAddress(raw: bigint | number, lookup: number, module = ''): Frame {
  const f = unknownAddress(raw, module);
  jitCandidates.set(f, lookup);
  return f;
}

export class Symbolizer {
  private readonly procRoot: string;
  private readonly binaries: BinaryCache;
  private readonly procs = new Map<number, ProcessState>();
  private kernel: KernelSymbols | undefined;
  /** Wall-clock ms of the machine's boot (readBootWallMs); null when unknown. */
  private bootWallMs: number | null | undefined;
  private bootReadMs = 0;
  /** Kernel frames by symbol (KernelSymbols.indexOf): one per function, however many addresses in it were sampled. */
  private readonly kernelFrames = new Map<number, Frame>();
  private readonly kallsymsPath: string;
  private readonly kernelNames: ReadonlyMap<bigint, KernelName> | undefined;
  /** Frames of engine-named kernel functions, by name and module. */
  private readonly namedKernelFrames = new Map<string, Frame>();
  /** Exits the engine told of, forgotten at the next forgetExited(). */
  private readonly exits: { pid: number; startTime: string }[] = [];
  private counts = { userFrames: 0, userUnresolved: 0, kernelFrames: 0, kernelUnresolved: 0, mapsReads: 0, pidReuses: 0, snapshots: 0, execs: 0 };

  constructor(opts: SymbolizerOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.kallsymsPath = opts.kallsymsPath ?? `${this.procRoot}/kallsyms`;
    this.kernelNames = opts.kernelNames;
    this.binaries = new BinaryCache({ procRoot: this.procRoot, debugDirs: opts.debugDirs });
  }

  notePids(pids: Iterable<number>): void {
    for (const pid of pids) this.noteOne(pid);
  }

  /**
   * Takes a capture engine's snapshot of a process. Call it in sample order,
   * before symbolizing the sample it came with: after an exec (same pid, same
   * start time) the samples that follow belong to the new program.
   */
  noteProcess(snap: ProcessSnapshot): void {
    this.counts.snapshots++;
    const maps = parseMaps(snap.maps);
    const known = this.procs.get(snap.pid);
    if (known && snap.reason === 'maps' && known.startTime === snap.startTime) {
      this.replaceMaps(known, maps);
      known.fromSnapshot = true;
      known.mayHaveJit ||= holdsGeneratedCode(maps);
      this.openBinaries(known);
      return;
    }
    if (known) {
      if (known.startTime !== snap.startTime) this.counts.pidReuses++;
      this.forget(snap.pid);
    }
    if (snap.reason === 'exec') this.counts.execs++;
    const fallback = snap.perfMapPath ?? (snap.sameRoot && this.procRoot === '/proc' ? `/tmp/perf-${snap.nsPid}.map` : undefined);
    const state: ProcessState = {
      pid: snap.pid,
      startTime: snap.startTime,
      maps,
      binaries: [],
      perfMap: new PerfMap(`${this.procRoot}/${snap.pid}/root/tmp/perf-${snap.nsPid}.map`, fallback, this.perfMapNotBefore(snap.startTime)),
      frames: new Map(),
      lastMapsRead: Date.now(),
      fromSnapshot: true,
      sameRoot: snap.sameRoot,
      mayHaveJit: snap.perfMapPath !== undefined || holdsGeneratedCode(maps),
    };
    this.procs.set(snap.pid, state);
    this.openBinaries(state);
  }

  private noteOne(pid: number): ProcessState | undefined {
    const known = this.procs.get(pid);
    // The engine tells us about execs and new maps of these: reading /proc would only cost.
    if (known?.fromSnapshot) return known;
    const startTime = readStartTime(this.procRoot, pid);
    if (known && (startTime === undefined || startTime === known.startTime)) {
      // Same process (or already gone: keep what we have). New JIT code may have been written.
      known.perfMap.refresh();
      return known;
    }
    if (startTime === undefined) return undefined;
    if (known) {
      this.counts.pidReuses++;
      this.forget(pid);
    }
    const maps = readMaps(this.procRoot, pid);
    if (!maps) return undefined;
    this.counts.mapsReads++;
    const nspid = readNsPid(this.procRoot, pid);
    const state: ProcessState = {
      pid,
      startTime,
      maps,
      binaries: [],
      perfMap: new PerfMap(
        `${this.procRoot}/${pid}/root/tmp/perf-${nspid}.map`,
        this.procRoot === '/proc' && nspid === pid ? `/tmp/perf-${pid}.map` : undefined,
        this.perfMapNotBefore(startTime),
      ),
      frames: new Map(),
      lastMapsRead: Date.now(),
      fromSnapshot: false,
      sameRoot: false,
      // Maps read from /proc may be behind the process: it may map JIT code at any time.
      mayHaveJit: true,
    };
    this.procs.set(pid, state);
    this.openBinaries(state);
    state.perfMap.refresh();
    return state;
  }

  /**
   * The earliest modification time a perf map of a process that started at
   * `startTime` (clock ticks after boot) can have: its start, less a second
   * for the clocks' steps. Undefined when the boot time is unknown.
   */
  private perfMapNotBefore(startTime: string): number | undefined {
    // Read again now and then: a step of the wall clock moves the boot's wall time with it.
    const now = Date.now();
    if (this.bootWallMs === undefined || now - this.bootReadMs >= BOOT_TIME_REREAD_MS) {
      this.bootWallMs = readBootWallMs(this.procRoot) ?? null;
      this.bootReadMs = now;
    }
    const ticks = Number(startTime);
    if (this.bootWallMs === null || !Number.isFinite(ticks)) return undefined;
    return startWallMs(this.bootWallMs, ticks) - PERF_MAP_START_SLACK_MS;
  }

  /**
   * Opens every executable file mapping now, while the process (and its
   * /proc/PID/root) may still exist: an open file outlives both. Symbols are
   * parsed later, on the first lookup into each binary.
   */
  private openBinaries(state: ProcessState): void {
    state.maps.forEach((m, i) => {
      if (state.binaries[i] === undefined && isExecutable(m) && (isFileBacked(m) || m.path === '[vdso]')) this.loadBinary(state, i);
    });
  }

  /**
   * New maps for the same process. A mapping that is the same in both (range,
   * offset, permissions, file) keeps its binary and the frames named in it:
   * a runtime that maps new JIT code (node, a JVM) sends new maps every so
   * often, and the libraries it has mapped all along need no new look. Frames
   * anywhere else (JIT code named from a perf map, a mapping that moved) are
   * named again.
   */
  private replaceMaps(state: ProcessState, maps: Mapping[]): void {
    const old = state.maps;
    const oldBinaries = state.binaries;
    const oldIndex = new Map<string, number>();
    for (let i = 0; i < old.length; i++) if (oldBinaries[i] !== undefined) oldIndex.set(mappingKey(old[i]!), i);
    const kept = new Uint8Array(old.length);
    const binaries: (BinarySymbols | null | undefined)[] = [];
    for (let j = 0; j < maps.length; j++) {
      const i = oldIndex.get(mappingKey(maps[j]!));
      if (i === undefined) continue;
      kept[i] = 1;
      binaries[j] = oldBinaries[i];
    }
    for (let i = 0; i < old.length; i++) {
      const b = oldBinaries[i];
      if (b && !kept[i]) this.binaries.release(b);
    }
    for (const addr of state.frames.keys()) {
      const i = findMapping(old, addr);
      if (i < 0 || !kept[i]) state.frames.delete(addr);
    }
    state.maps = maps;
    state.binaries = binaries;
    state.lastMapsRead = Date.now();
  }

  private loadBinary(state: ProcessState, i: number): void {
    const m = state.maps[i]!;
    let bin: BinarySymbols | null = null;
    if (isFileBacked(m)) bin = this.binaries.forMapping(state.pid, m, state.sameRoot);
    else if (m.path === '[vdso]') bin = this.binaries.forVdso();
    else return;
    if (bin) this.binaries.retain(bin);
    state.binaries[i] = bin;
  }

  /** Re-reads maps after an address fell outside all of them (dlopen, new JIT regions). */
  private refreshMaps(state: ProcessState): boolean {
    if (state.fromSnapshot) return false; // the engine sends new maps itself, in order
    const now = Date.now();
    if (now - state.lastMapsRead < MIN_REFRESH_INTERVAL_MS) return false;
    state.lastMapsRead = now;
    // A different start time means the pid now names another program: its maps would lie.
    if (readStartTime(this.procRoot, state.pid) !== state.startTime) return false;
    const maps = readMaps(this.procRoot, state.pid);
    if (!maps) return false;
    this.counts.mapsReads++;
    this.replaceMaps(state, maps);
    this.openBinaries(state);
    state.perfMap.refresh();
    return true;
  }

  symbolizeUser(pid: number, addrs: readonly (bigint | number)[], timeMs?: number): Frame[] {
    const state = this.procs.get(pid) ?? this.noteOne(pid);
    const out: Frame[] = new Array<Frame>(addrs.length);
    let refreshed = false;
    for (let i = 0; i < addrs.length; i++) {
      const raw = addrs[i]!;
      const addr = toNumber(raw);
      this.counts.userFrames++;
      if (!state || addr <= 0) {
        // No process to look in, or no address at all: nothing later can name it.
        const f = unknownAddress(raw);
        settledUnknownFrames.add(f);
        out[i] = f;
        this.counts.userUnresolved++;
        continue;
      }
      const lookup = i > 0 ? addr - 1 : addr;
      let f = state.frames.get(lookup);
      if (!f) {
        f = this.resolveUser(state, lookup, raw, timeMs);
        if (!f && !refreshed) {
          refreshed = true;
          if (this.refreshMaps(state)) f = this.resolveUser(state, lookup, raw, timeMs);
        }
        if (!f) {
          f = unknownJitAddress(raw, lookup);
          // Outside every mapping of a process that runs no generated code, or has
          // written no perf map for seconds (a garbage return address from code
          // without frame pointers): nothing but a new snapshot, which callers
          // see, could name it.
          if (!state.mayHaveJit || state.perfMap.settledMissing) settledUnknownFrames.add(f);
        }
        // Unknown frames are not cached here: a perf map or maps refresh may name them later.
        if (f.kind !== 'unknown') {
          if (state.frames.size >= MAX_PROCESS_FRAMES) state.frames.clear();
          state.frames.set(lookup, f);
        }
      }
      if (f.kind === 'unknown') this.counts.userUnresolved++;
      out[i] = f;
    }
    return out;
  }

  /** A frame, or undefined when the address lies outside every mapping and every perf-map entry. */
  private resolveUser(state: ProcessState, addr: number, raw: bigint | number, timeMs?: number): Frame | undefined {
    const idx = findMapping(state.maps, addr);
    // Outside every mapping: JIT code in a region mapped after the snapshot, named by a newer perf map.
    if (idx < 0) return this.jitFrame(state, addr, timeMs);
    const m = state.maps[idx]!;
    // Binaries load on first use: a process's snapshot may list dozens no stack ever touches.
    if (state.binaries[idx] === undefined && (isFileBacked(m) || m.path === '[vdso]')) this.loadBinary(state, idx);
    const bin = state.binaries[idx];
    if (bin) {
      const f = bin.frameAt(bin.vaddrOf(addr - m.start + m.offset));
      if (f.kind !== 'unknown') return f;
      return state.perfMap.frameAt(addr) ?? f;
    }
    const jit = this.jitFrame(state, addr, timeMs);
    if (jit) return jit;
    if (isFileBacked(m)) {
      const module = m.path.slice(m.path.lastIndexOf('/') + 1);
      return { name: `[unknown] ${module}+0x${(addr - m.start + m.offset).toString(16)}`, module, kind: 'unknown' };
    }
    return unknownJitAddress(raw, addr, m.path.startsWith('[') ? m.path : '');
  }

  /** A perf-map frame; on a miss the map is re-read when that can help (see PerfMap.refreshForMiss). */
  private jitFrame(state: ProcessState, addr: number, timeMs?: number): Frame | undefined {
    if (!state.mayHaveJit) return undefined;
    return state.perfMap.frameAt(addr) ?? (state.perfMap.refreshForMiss(timeMs) ? state.perfMap.frameAt(addr) : undefined);
  }

  symbolizeKernel(addrs: readonly (bigint | number)[]): Frame[] {
    const names = this.kernelNames;
    const kernel = names ? undefined : (this.kernel ??= KernelSymbols.read(this.kallsymsPath));
    const out: Frame[] = new Array<Frame>(addrs.length);
    for (let i = 0; i < addrs.length; i++) {
      const raw = addrs[i]!;
      let addr = typeof raw === 'bigint' ? raw : BigInt(raw);
      if (i > 0 && addr > 0n) addr -= 1n;
      const f = names ? this.engineKernelFrame(names, addr, raw) : this.kallsymsKernelFrame(kernel!, addr, raw);
      this.counts.kernelFrames++;
      if (f.kind === 'unknown') this.counts.kernelUnresolved++;
      out[i] = f;
    }
    return out;
  }

  /** A kernel frame from kallsyms, one per function (KernelSymbols.indexOf). */
  private kallsymsKernelFrame(kernel: KernelSymbols, addr: bigint, raw: bigint | number): Frame {
    const at = kernel.indexOf(addr);
    if (at < 0) return unknownAddress(raw, KERNEL_MODULE);
    let f = this.kernelFrames.get(at);
    if (!f) {
      const hit = kernel.symbolAt(at);
      f = { name: hit.name, module: hit.module, kind: 'kernel' };
      if (this.kernelFrames.size >= MAX_PROCESS_FRAMES * 4) this.kernelFrames.clear();
      this.kernelFrames.set(at, f);
    }
    return f;
  }

  /** A kernel frame from the capture engine's names, one per function (name and module). */
  private engineKernelFrame(names: ReadonlyMap<bigint, KernelName>, addr: bigint, raw: bigint | number): Frame {
    const hit = names.get(addr);
    if (!hit?.name) return unknownAddress(raw, hit?.module || KERNEL_MODULE);
    const module = hit.module || KERNEL_MODULE;
    const key = `${hit.name}\0${module}`;
    let f = this.namedKernelFrames.get(key);
    if (!f) {
      if (this.namedKernelFrames.size >= MAX_PROCESS_FRAMES * 4) this.namedKernelFrames.clear();
      this.namedKernelFrames.set(key, (f = { name: hit.name, module, kind: 'kernel' }));
    }
    return f;
  }

  /**
   * Whether naming the same address again could give a better frame: an
   * unknown frame outside every binary's symbols (JIT code a newer perf map
   * may name, a mapping not yet seen). Callers that cache whole stacks must
   * not cache those.
   */
  mayNameLater(frame: Frame): boolean {
    return frame.kind === 'unknown' && !settledUnknownFrames.has(frame);
  }

  /**
   * Reads a process's perf map again, whatever was read last and when; false
   * when it has none (or the process is unknown). For naming after the fact
   * (nameFromPerfMap).
   */
  rereadPerfMap(pid: number): boolean {
    const state = this.procs.get(pid);
    return state !== undefined && state.perfMap.refresh() && state.perfMap.size > 0;
  }

  /**
   * The frames of one of the process's stacks, named when it was sampled,
   * with each frame that nothing could name then (JIT code outside every
   * binary) named from the process's perf map as last read; undefined when
   * the map names none of them. For a profile named after its processes are
   * done, as perf script reads perf maps afterwards: a JVM writes its map at
   * exit (-XX:+DumpPerfMapAtExit) or when asked (jcmd Compiler.perfmap, perf
   * map agents), after the samples it names were taken.
   */
  nameFromPerfMap(pid: number, frames: readonly Frame[]): Frame[] | undefined {
    const state = this.procs.get(pid);
    if (!state) return undefined;
    let out: Frame[] | undefined;
    for (let i = 0; i < frames.length; i++) {
      const lookup = jitCandidates.get(frames[i]!);
      if (lookup === undefined) continue;
      const f = state.perfMap.frameAt(lookup);
      if (f) (out ??= frames.slice())[i] = f;
    }
    return out;
  }

  /** Whether nameFromPerfMap could name this frame. */
  isJitCandidate(frame: Frame): boolean {
    return jitCandidates.has(frame);
  }

  /** Re-reads /proc/kallsyms on next use (a module was loaded). */
  reloadKernelSymbols(): void {
    this.kernel = undefined;
    this.kernelFrames.clear();
  }

  forget(pid: number): void {
    const state = this.procs.get(pid);
    if (!state) return;
    this.releaseBinaries(state);
    this.procs.delete(pid);
  }

  private releaseBinaries(state: ProcessState): void {
    for (const b of state.binaries) if (b) this.binaries.release(b);
  }

  /** Pids with state, so the caller can forget those that exited. */
  knownPids(): number[] {
    return [...this.procs.keys()];
  }

  /**
   * The capture engine saw this process exit, after all of its samples: it is
   * forgotten at the next forgetExited(), unless the pid names a newer
   * process by then.
   */
  noteExit(pid: number, startTime: string): void {
    this.exits.push({ pid, startTime });
  }

  /**
   * Forgets the processes noteExit() was told of, and only those: no /proc
   * reads. The agent calls it after each run of samples, so that a build's
   * processes leave memory as they exit rather than at the next flush (their
   * exits come after all of their samples); `record` too, keeping those that
   * may run generated code, whose perf maps it reads once more at the end.
   * Returns their pids.
   */
  forgetNotedExits(keepGeneratedCode = false): number[] {
    const gone: number[] = [];
    for (const { pid, startTime } of this.exits.splice(0)) {
      const state = this.procs.get(pid);
      if (state?.startTime !== startTime) continue;
      // Kept for naming after the fact (nameFromPerfMap), when asked.
      if (keepGeneratedCode && state.mayHaveJit) continue;
      this.forget(pid);
      gone.push(pid);
    }
    return gone;
  }

  /**
   * Forgets every known process that has exited (or whose pid now names
   * another process) and returns their pids. Call it after a batch has been
   * symbolized, not before: an exited process's samples still need its state.
   * The exits noteExit() was told of are taken as they are; /proc is read for
   * the other processes, or, when the engine reports every exit of a process
   * it snapshots (engineReportsExits), only for those it did not snapshot: a
   * read per known process at every flush was the agent's largest fixed cost
   * on a machine with many processes.
   */
  forgetExited(engineReportsExits = false): number[] {
    const gone = this.forgetNotedExits();
    const polled: number[] = [];
    for (const [pid, state] of this.procs) {
      if (engineReportsExits && state.fromSnapshot) continue;
      if (readStartTime(this.procRoot, pid) !== state.startTime) polled.push(pid);
    }
    for (const pid of polled) this.forget(pid);
    return gone.concat(polled);
  }

  stats(): SymbolizerStats {
    let perfMapEntries = 0;
    for (const p of this.procs.values()) perfMapEntries += p.perfMap.size;
    return {
      processes: this.procs.size,
      binaries: this.binaries.size,
      binaryLoads: this.binaries.loads,
      binaryLoadFailures: this.binaries.loadFailures,
      ...this.counts,
      perfMapEntries,
      kernelRestricted: this.kernel?.restricted ?? false,
      demanglerError: demanglerError(),
    };
  }
}
