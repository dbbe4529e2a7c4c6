// The Symbolizer over a /proc laid out in a temporary folder: pid reuse (same
// pid, new start time), maps refreshed when an address falls outside every
// mapping, perf maps found through the process's root and its namespace pid,
// return addresses looked up at addr-1, never a dropped frame.

import { appendFileSync, copyFileSync, mkdirSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { Symbolizer } from '../../src/symbolize/symbolizer.js';
import { SampleCollector } from '../../src/symbolize/sample-collector.js';
import type { ProcessSnapshot } from '../../src/capture/capture-types.js';
import { compile, nmFunctions, readelfLoads, tempDir, type NmSymbol } from './symbolize-fixtures.js';

const PID = 4242;
let proc: string;
let burn: string;
let widgets: string;
let burnSyms: NmSymbol[];
let widgetSyms: NmSymbol[];

function stat(pid: number, startTime: number): string {
  const fields = Array.from({ length: 50 }, (_, i) => (i === 19 ? String(startTime) : '0'));
  return `${pid} (prog name) ${fields.join(' ')}\n`;
}

/** A maps line mapping the PT_LOAD that holds `main` of `path` at load bias `base`, as the kernel would. */
function textMapping(path: string, mappedAs: string, base: number): string {
  const main = nmFunctions(path).find((s) => s.name === 'main')!.addr;
  const text = readelfLoads(path).find((l) => l.vaddr <= main && main < l.vaddr + l.filesz)!;
  const start = base + text.vaddr;
  const end = start + Math.ceil(text.filesz / 0x1000) * 0x1000;
  return `${start.toString(16)}-${end.toString(16)} r-xp ${text.offset.toString(16).padStart(8, '0')} 08:01 ${statSync(path).ino} ${mappedAs}`;
}

function writeProcess(pid: number, startTime: number, maps: string[], nspid = pid): void {
  const dir = join(proc, String(pid));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'stat'), stat(pid, startTime));
  writeFileSync(join(dir, 'maps'), maps.join('\n') + '\n');
  writeFileSync(join(dir, 'status'), `Name:\tprog\nNSpid:\t${pid}\t${nspid}\n`);
}

function fn(syms: NmSymbol[], name: string): NmSymbol {
  return syms.find((s) => s.name === name)!;
}

beforeAll(() => {
  proc = tempDir('profctl-proc-');
  const build = tempDir();
  // The process's root file system: binaries at the paths the maps name.
  const root = join(proc, 'rootfs');
  mkdirSync(join(root, 'app'), { recursive: true });
  mkdirSync(join(root, 'tmp'));
  burn = join(root, 'app', 'burn');
  widgets = join(root, 'app', 'widgets');
  copyFileSync(compile('symbolize-burn.c', build, 'burn', ['-g', '-pie', '-fPIE']), burn);
  copyFileSync(compile('symbolize-widgets.cpp', build, 'widgets', ['-g', '-pie', '-fPIE']), widgets);
  burnSyms = nmFunctions(burn);
  widgetSyms = nmFunctions(widgets);
});

function linkRoot(pid: number): void {
  rmSync(join(proc, String(pid), 'root'), { force: true });
  symlinkSync(join(proc, 'rootfs'), join(proc, String(pid), 'root'));
}

describe('Symbolizer', () => {
  const BASE = 0x5555_0000_0000;

  it('resolves user addresses through maps and ELF, leaf at addr, callers at addr-1', () => {
    writeProcess(PID, 1000, [textMapping(burn, '/app/burn', BASE)]);
    linkRoot(PID);
    const sym = new Symbolizer({ procRoot: proc });
    sym.notePids([PID]);
    const inner = fn(burnSyms, 'burn_inner_static');
    const outer = fn(burnSyms, 'burn_outer');
    const main = fn(burnSyms, 'main');
    const frames = sym.symbolizeUser(PID, [BigInt(BASE + inner.addr + 5), BASE + outer.addr + 10, BASE + main.addr + main.size]);
    expect(frames.map((f) => f.name)).toEqual(['burn_inner_static', 'burn_outer', 'main']);
    expect(frames.every((f) => f.module === 'burn' && f.kind === 'native')).toBe(true);
  });

  it('never drops a frame: outside every mapping, unknown pid, unreadable addresses', () => {
    const sym = new Symbolizer({ procRoot: proc });
    sym.notePids([PID]);
    const frames = sym.symbolizeUser(PID, [0x10, 0x7000_0000_0000]);
    expect(frames).toEqual([
      { name: '[unknown] 0x10', module: '', kind: 'unknown' },
      { name: '[unknown] 0x700000000000', module: '', kind: 'unknown' },
    ]);
    expect(sym.symbolizeUser(999999, [0x1234n])).toEqual([{ name: '[unknown] 0x1234', module: '', kind: 'unknown' }]);
    expect(sym.stats().userUnresolved).toBe(3);
  });

  it('gives a pid that was reused (new start time) the new program', () => {
    writeProcess(PID, 1000, [textMapping(burn, '/app/burn', BASE)]);
    const sym = new Symbolizer({ procRoot: proc });
    sym.notePids([PID]);
    const inner = fn(burnSyms, 'burn_inner_static');
    expect(sym.symbolizeUser(PID, [BASE + inner.addr])[0]!.name).toBe('burn_inner_static');
    writeProcess(PID, 2000, [textMapping(widgets, '/app/widgets', BASE)]);
    sym.notePids([PID]);
    const spin = fn(widgetSyms, '_ZN6shapes6Widget4spinEi');
    expect(sym.symbolizeUser(PID, [BASE + spin.addr])[0]).toMatchObject({ name: 'shapes::Widget::spin(int)', module: 'widgets' });
    expect(sym.stats().pidReuses).toBe(1);
  });

  it('re-reads maps when an address falls outside them (a library loaded later)', async () => {
    const OTHER = 0x7f00_0000_0000;
    writeProcess(PID, 3000, [textMapping(burn, '/app/burn', BASE)]);
    const sym = new Symbolizer({ procRoot: proc });
    sym.notePids([PID]);
    appendFileSync(join(proc, String(PID), 'maps'), textMapping(widgets, '/app/widgets', OTHER) + '\n');
    await sleep(80); // refreshes are rate-limited per process
    const spin = fn(widgetSyms, '_ZN6shapes6Widget4spinEi');
    expect(sym.symbolizeUser(PID, [OTHER + spin.addr + 1])[0]!.name).toBe('shapes::Widget::spin(int)');
    expect(sym.stats().mapsReads).toBe(2);
  });

  it('does not take maps of a new process while refreshing for an old one', async () => {
    const OTHER = 0x7f00_0000_0000;
    writeProcess(PID, 4000, [textMapping(burn, '/app/burn', BASE)]);
    const sym = new Symbolizer({ procRoot: proc });
    sym.notePids([PID]);
    writeProcess(PID, 4001, [textMapping(widgets, '/app/widgets', OTHER)]);
    await sleep(80);
    const spin = fn(widgetSyms, '_ZN6shapes6Widget4spinEi');
    expect(sym.symbolizeUser(PID, [OTHER + spin.addr + 1])[0]!.kind).toBe('unknown');
  });

  it('names JIT code from the perf map under the process root, by namespace pid', () => {
    const JIT = 0x3d79_88cc_0000;
    writeProcess(PID, 5000, [`${JIT.toString(16)}-${(JIT + 0x10000).toString(16)} rwxp 00000000 00:00 0 `], 7);
    linkRoot(PID);
    writeFileSync(join(proc, 'rootfs', 'tmp', 'perf-7.map'), `${(JIT + 0x100).toString(16)} 80 JS:*handleRequest /srv/app.js:10:5\n`);
    const sym = new Symbolizer({ procRoot: proc });
    sym.notePids([PID]);
    const [hit, miss] = sym.symbolizeUser(PID, [JIT + 0x120, JIT + 0x900]);
    expect(hit).toMatchObject({ name: 'handleRequest', kind: 'jit', module: '[jit]', file: '/srv/app.js', line: 10 });
    expect(miss).toEqual({ name: `[unknown] 0x${(JIT + 0x900).toString(16)}`, module: '', kind: 'unknown' });
    // Code compiled later appears after the next notePids.
    appendFileSync(join(proc, 'rootfs', 'tmp', 'perf-7.map'), `${(JIT + 0x900).toString(16)} 40 JS:~later /srv/app.js:20:1\n`);
    sym.notePids([PID]);
    expect(sym.symbolizeUser(PID, [JIT + 0x901])[0]!.name).toBe('later');
    expect(sym.symbolizeUser(PID, [JIT + 0x900])[0]!.name).toBe('later'); // was unknown before: not cached as such
  });

  it('forgets exited processes and keeps names for processes that exited after notePids', () => {
    writeProcess(PID, 6000, [textMapping(burn, '/app/burn', BASE)]);
    linkRoot(PID);
    const sym = new Symbolizer({ procRoot: proc });
    sym.notePids([PID]);
    rmSync(join(proc, String(PID)), { recursive: true });
    const outer = fn(burnSyms, 'burn_outer');
    expect(sym.symbolizeUser(PID, [BASE + outer.addr])[0]!.name).toBe('burn_outer');
    expect(sym.forgetExited()).toEqual([PID]);
    expect(sym.stats().processes).toBe(0);
  });

  it('forgets a snapshotted process on the engine\'s word, without /proc, and a reused pid not for its predecessor\'s exit', () => {
    const OTHER_PID = PID + 1;
    const snapshot = (pid: number, startTime: string) => ({
      pid, reason: 'new' as const, startTime, timeMs: Date.now(), nsPid: pid, comm: 'prog', maps: textMapping(burn, '/app/burn', BASE) + '\n', sameRoot: true,
    });
    const sym = new Symbolizer({ procRoot: proc });
    // Neither process has a /proc entry: polling would forget both.
    rmSync(join(proc, String(PID)), { recursive: true, force: true });
    rmSync(join(proc, String(OTHER_PID)), { recursive: true, force: true });
    sym.noteProcess(snapshot(PID, '9000'));
    sym.noteProcess(snapshot(OTHER_PID, '9001'));
    expect(sym.forgetExited(true)).toEqual([]);
    expect(sym.stats().processes).toBe(2);
    // An exit of the pid's previous process, then of the process itself.
    sym.noteExit(PID, '8999');
    expect(sym.forgetExited(true)).toEqual([]);
    sym.noteExit(PID, '9000');
    expect(sym.forgetExited(true)).toEqual([PID]);
    expect(sym.stats().processes).toBe(1);
    // An engine that does not report exits: /proc is read, and the other process is found gone.
    expect(sym.forgetExited(false)).toEqual([OTHER_PID]);
    expect(sym.stats().processes).toBe(0);
  });

  it('forgets, between flushes, only the exits the engine reported: it reads no /proc', () => {
    writeProcess(PID, 7000, [textMapping(burn, '/app/burn', BASE)]);
    linkRoot(PID);
    const sym = new Symbolizer({ procRoot: proc });
    sym.notePids([PID]); // known from /proc, not from a snapshot
    sym.noteProcess({
      pid: PID + 1, reason: 'new', startTime: '7001', timeMs: Date.now(), nsPid: PID + 1, comm: 'prog', maps: textMapping(burn, '/app/burn', BASE) + '\n', sameRoot: true,
    });
    rmSync(join(proc, String(PID)), { recursive: true, force: true }); // both have exited
    sym.noteExit(PID + 1, '7001');
    expect(sym.forgetNotedExits()).toEqual([PID + 1]);
    expect(sym.stats().processes).toBe(1);
    // The process known from /proc waits for the flush's look at /proc.
    expect(sym.forgetExited(true)).toEqual([PID]);
    expect(sym.stats().processes).toBe(0);
    // record keeps a process that may run generated code, for its perf map's last read.
    const JIT = 0x3d79_88cc_0000;
    for (const [pid, extra] of [[PID + 2, ''], [PID + 3, `\n${JIT.toString(16)}-${(JIT + 0x1000).toString(16)} rwxp 00000000 00:00 0 `]] as const) {
      sym.noteProcess({
        pid, reason: 'new', startTime: '7002', timeMs: Date.now(), nsPid: pid, comm: 'prog', maps: textMapping(burn, '/app/burn', BASE) + extra + '\n', sameRoot: true,
      });
      sym.noteExit(pid, '7002');
    }
    expect(sym.forgetNotedExits(true)).toEqual([PID + 2]);
    expect(sym.stats().processes).toBe(1);
  });

  it('takes engine snapshots in order: an exec (same pid and start time) switches programs; the exited process still resolves', () => {
    const sym = new Symbolizer({ procRoot: proc });
    const snapshot = (reason: 'new' | 'exec' | 'maps', maps: string[]) => ({
      pid: PID, reason, startTime: '7000', timeMs: Date.now(), nsPid: PID, comm: 'prog', maps: maps.join('\n') + '\n', sameRoot: true,
    });
    writeProcess(PID, 7000, [textMapping(burn, '/app/burn', BASE)]);
    linkRoot(PID);
    sym.noteProcess(snapshot('new', [textMapping(burn, '/app/burn', BASE)]));
    const outer = fn(burnSyms, 'burn_outer');
    expect(sym.symbolizeUser(PID, [BASE + outer.addr])[0]!.name).toBe('burn_outer');
    // /proc still shows the old program: only the snapshot can tell about the exec.
    sym.noteProcess(snapshot('exec', [textMapping(widgets, '/app/widgets', BASE)]));
    rmSync(join(proc, String(PID)), { recursive: true });
    const spin = fn(widgetSyms, '_ZN6shapes6Widget4spinEi');
    expect(sym.symbolizeUser(PID, [BASE + spin.addr + 1])[0]!.name).toBe('shapes::Widget::spin(int)');
    expect(sym.stats()).toMatchObject({ snapshots: 2, execs: 1, mapsReads: 0 });
  });

  it('keeps the binaries and frames of mappings a maps snapshot did not change, and names moved ones anew', () => {
    const OTHER = 0x7f00_0000_0000;
    const MOVED = 0x5600_0000_0000;
    const sym = new Symbolizer({ procRoot: proc });
    const snapshot = (reason: 'new' | 'maps', maps: string[]) => ({
      pid: PID, reason, startTime: '8000', timeMs: Date.now(), nsPid: PID, comm: 'prog', maps: maps.join('\n') + '\n', sameRoot: true,
    });
    const burnAt = (base: number) => textMapping(burn, '/app/burn', base);
    writeProcess(PID, 8000, [burnAt(BASE)]);
    linkRoot(PID);
    sym.noteProcess(snapshot('new', [burnAt(BASE)]));
    const outer = fn(burnSyms, 'burn_outer');
    const spin = fn(widgetSyms, '_ZN6shapes6Widget4spinEi');
    const named = sym.symbolizeUser(PID, [BASE + outer.addr])[0]!;
    expect(named.name).toBe('burn_outer');
    // The process's files can no longer be opened: what the new maps name afresh stays unknown,
    // what they kept is still named.
    rmSync(join(proc, String(PID)), { recursive: true });
    sym.noteProcess(snapshot('maps', [burnAt(BASE), textMapping(widgets, '/app/widgets', OTHER)]));
    expect(sym.symbolizeUser(PID, [BASE + outer.addr])[0]).toBe(named);
    expect(sym.symbolizeUser(PID, [BASE + outer.addr + 1])[0]!.name).toBe('burn_outer');
    expect(sym.symbolizeUser(PID, [OTHER + spin.addr])[0]!.kind).toBe('unknown');
    // The same file mapped elsewhere is another mapping: the old address is outside every mapping now.
    writeProcess(PID, 8000, [burnAt(MOVED)]);
    linkRoot(PID);
    sym.noteProcess(snapshot('maps', [burnAt(MOVED)]));
    expect(sym.symbolizeUser(PID, [BASE + outer.addr])[0]!.kind).toBe('unknown');
    expect(sym.symbolizeUser(PID, [MOVED + outer.addr])[0]!.name).toBe('burn_outer');
    expect(sym.stats()).toMatchObject({ snapshots: 3, mapsReads: 0 });
  });

  it('names a gone process of our root from its files by path, and a file replaced at that path by its new inode', () => {
    // Pids above the kernel's limit (2^22): no /proc entry can exist, as for a short-lived
    // process whose samples the agent names after it has gone.
    const GONE = 4_194_400;
    const dir = tempDir();
    const prog = join(dir, 'prog');
    copyFileSync(burn, prog);
    const snapshot = (pid: number) => ({
      pid, reason: 'new' as const, startTime: '1', timeMs: Date.now(), nsPid: pid, comm: 'prog', maps: textMapping(prog, prog, BASE) + '\n', sameRoot: true,
    });
    const sym = new Symbolizer();
    sym.noteProcess(snapshot(GONE));
    const outer = fn(burnSyms, 'burn_outer');
    expect(sym.symbolizeUser(GONE, [BASE + outer.addr + 1])[0]!.name).toBe('burn_outer');
    // A new build at the same path (a new inode), mapped by the next process at once.
    copyFileSync(widgets, join(dir, 'next'));
    renameSync(join(dir, 'next'), prog);
    sym.noteProcess(snapshot(GONE + 1));
    const widgetMain = fn(widgetSyms, 'main');
    expect(sym.symbolizeUser(GONE + 1, [BASE + widgetMain.addr + 1])[0]!.name).toBe('main');
    expect(sym.symbolizeUser(GONE + 1, [BASE + widgetMain.addr + 1])[0]!.module).toBe('prog');
    // The first process keeps the file it mapped.
    expect(sym.symbolizeUser(GONE, [BASE + outer.addr + 1])[0]!.name).toBe('burn_outer');
  });

  it('reads a perf map from its fallback path once the process root is gone, re-reading on a newer miss', () => {
    const JIT = 0x3d79_88cc_0000;
    const perfMap = join(tempDir(), 'perf-77.map');
    writeFileSync(perfMap, `${(JIT + 0x100).toString(16)} 80 JS:*early /srv/app.js:1:1\n`);
    const sym = new Symbolizer({ procRoot: proc });
    sym.noteProcess({
      pid: 77, reason: 'new', startTime: '1', timeMs: Date.now(), nsPid: 77, comm: 'node', sameRoot: true, perfMapPath: perfMap,
      maps: `${JIT.toString(16)}-${(JIT + 0x10000).toString(16)} r-xp 00000000 00:00 0 \n`,
    });
    expect(sym.symbolizeUser(77, [JIT + 0x120])[0]!.name).toBe('early');
    appendFileSync(perfMap, `${(JIT + 0x900).toString(16)} 40 JS:~late /srv/app.js:2:1\n`);
    // A sample taken after the last read: the map is read again at once.
    expect(sym.symbolizeUser(77, [JIT + 0x901], Date.now() + 1)[0]!.name).toBe('late');
  });

  it('looks for no perf map in a process whose snapshots show no generated code, until one does', () => {
    const JIT = 0x3d79_88cc_0000;
    const text = textMapping(burn, '/app/burn', BASE);
    writeProcess(93, 1, [text]);
    linkRoot(93);
    const snap = (reason: 'new' | 'maps', lines: string[]) => ({
      pid: 93, reason, startTime: '1', timeMs: Date.now(), nsPid: 93, comm: 'cc1', sameRoot: true, maps: lines.join('\n') + '\n',
    });
    const sym = new Symbolizer({ procRoot: proc });
    // Only a binary's code, and no perf map when the snapshot was taken: an
    // address outside it is a broken unwind, settled at once, even with a
    // file at the perf map's path by the time the sample is named.
    sym.noteProcess(snap('new', [text]));
    writeFileSync(join(proc, 'rootfs', 'tmp', 'perf-93.map'), `${(JIT + 0x100).toString(16)} 80 JS:*handler /srv/app.js:1:1\n`);
    const outside = sym.symbolizeUser(93, [JIT + 0x120])[0]!;
    expect(outside.name).toBe(`[unknown] 0x${(JIT + 0x120).toString(16)}`);
    expect(sym.mayNameLater(outside)).toBe(false);
    // New maps with anonymous executable memory: the process runs generated code now.
    sym.noteProcess(snap('maps', [text, `${JIT.toString(16)}-${(JIT + 0x10000).toString(16)} rwxp 00000000 00:00 0 `]));
    expect(sym.symbolizeUser(93, [JIT + 0x120])[0]!.name).toBe('handler');
  });

  it("does not read a perf map last written before the process started: a former process's, under a reused pid", () => {
    const JIT = 0x3d79_88cc_0000;
    const root = tempDir('profctl-proc-');
    writeFileSync(join(root, 'uptime'), '1000.00 1900.00\n'); // booted 1,000 s ago
    const maps = tempDir();
    const sym = new Symbolizer({ procRoot: root });
    // Both processes started 990 s after boot (99,000 ticks): 10 s ago.
    for (const pid of [81, 82]) {
      const perfMapPath = join(maps, `perf-${pid}.map`);
      writeFileSync(perfMapPath, `${(JIT + 0x100).toString(16)} 80 JS:*handler /srv/app.js:1:1\n`);
      sym.noteProcess({
        pid, reason: 'new', startTime: '99000', timeMs: Date.now(), nsPid: pid, comm: 'node', sameRoot: true, perfMapPath,
        maps: `${JIT.toString(16)}-${(JIT + 0x10000).toString(16)} r-xp 00000000 00:00 0 \n`,
      });
    }
    // 81's map was last written an hour ago, by whoever had the pid then.
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(join(maps, 'perf-81.map'), hourAgo, hourAgo);
    expect(sym.symbolizeUser(81, [JIT + 0x120])[0]!.name).toBe(`[unknown] 0x${(JIT + 0x120).toString(16)}`);
    expect(sym.symbolizeUser(82, [JIT + 0x120])[0]!.name).toBe('handler');
  });

  it('names JIT frames from a perf map written after the samples (a JVM at exit), per process, when asked', () => {
    const JIT = 0x7fe7_30ec_0000;
    const maps = tempDir();
    const jvm = (pid: number): ProcessSnapshot => ({
      pid, reason: 'new', startTime: '1', timeMs: Date.now(), nsPid: pid, comm: 'java', sameRoot: true, perfMapPath: join(maps, `perf-${pid}.map`),
      maps: `${JIT.toString(16)}-${(JIT + 0x10000).toString(16)} rwxp 00000000 00:00 0 \n`,
    });
    const sym = new Symbolizer({ procRoot: proc });
    const collector = new SampleCollector(sym, 99, proc);
    // The leaf, and a return address one past the end of its caller's code (looked up one byte back).
    const stack = { userStack: [BigInt(JIT + 0x120), BigInt(JIT + 0x908)], kernelStack: [] as bigint[] };
    const sample = (pid: number, process?: ProcessSnapshot) => ({ timeMs: Date.now(), pid, tid: pid, cpu: 0, comm: 'java', ...stack, ...(process ? { process } : {}) });
    collector.addBatch([sample(78, jvm(78)), sample(79, jvm(79)), sample(78)]);
    expect(collector.nameJitFromPerfMaps()).toBe(0); // no map yet: nothing to name
    // Process 78 writes its map at exit, in the JVM's format; 79 never does.
    writeFileSync(join(maps, 'perf-78.map'), `0x${(JIT + 0x100).toString(16).padStart(16, '0')} 0x0000000000000080 long Hot.spin(long)\n0x${(JIT + 0x880).toString(16)} 0x88 long Hot.work()\n`);
    expect(collector.nameJitFromPerfMaps()).toBe(2);
    const p = collector.takeProfile();
    const named = p.samples.map((s) => `${s.pid} ${p.stacks[s.stack]!.map((f) => p.frames[f]!.name).join(';')}`);
    const unknown = `[unknown] 0x${(JIT + 0x120).toString(16)};[unknown] 0x${(JIT + 0x908).toString(16)}`;
    expect(named).toEqual(['78 long Hot.spin(long);long Hot.work()', `79 ${unknown}`, '78 long Hot.spin(long);long Hot.work()']);
  });

  it('symbolizes kernel addresses from kallsyms, unknown ones kept', () => {
    const kallsyms = join(proc, 'kallsyms');
    writeFileSync(kallsyms, 'ffffffff81000000 T _text\nffffffff81001000 T do_syscall_64\nffffffffc0a01000 t foo_init\t[foo]\n');
    const sym = new Symbolizer({ procRoot: proc });
    expect(sym.symbolizeKernel([0xffffffff81001010n, 0xffffffffc0a01001n, 0x1000n])).toEqual([
      { name: 'do_syscall_64', module: '[kernel.kallsyms]', kind: 'kernel' },
      { name: 'foo_init', module: '[foo]', kind: 'kernel' },
      { name: '[unknown] 0x1000', module: '[kernel.kallsyms]', kind: 'unknown' },
    ]);
    writeFileSync(kallsyms, '0000000000000000 T _text\n0000000000000000 T do_syscall_64\n');
    const hidden = new Symbolizer({ procRoot: proc });
    expect(hidden.symbolizeKernel([0xffffffff81001010n])[0]!.kind).toBe('unknown');
    expect(hidden.stats().kernelRestricted).toBe(true);
  });
});
