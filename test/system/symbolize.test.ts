// Symbolization of real processes: a C program that burns CPU for ~50 ms and
// exits (names must survive its exit), a non-PIE build, a binary deleted while
// it runs (read through /proc/PID/map_files), a Node process's JIT function
// from its --perf-basic-prof map, and the running kernel's symbols.
//
// The addresses a sampler would capture are taken here from /proc/PID/maps
// and nm, since capture is not under test. Needs root (map_files, kallsyms).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parseMaps, type Mapping } from '../../src/symbolize/proc-maps.js';
import { Symbolizer } from '../../src/symbolize/symbolizer.js';
import { compile, nmFunctions, run, tempDir } from '../unit/symbolize-fixtures.js';

const isRoot = process.getuid?.() === 0;
const canRun = isRoot || !!process.env.CI;
if (!canRun) console.log('skipping symbolize system tests: they need root (/proc/PID/map_files, /proc/kallsyms addresses)');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}

/** Waits until the child has exec'd `path`, then returns its maps. */
async function mapsAfterExec(pid: number, path: string): Promise<Mapping[]> {
  return waitFor(`exec of ${path}`, () => {
    try {
      const exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
      if (exe !== path) return undefined;
      const maps = parseMaps(readFileSync(`/proc/${pid}/maps`, 'utf8'));
      // The dynamic loader maps libc a moment after exec, and makes its text executable after that.
      return maps.some((m) => m.path.includes('libc.so') && m.perms[2] === 'x') ? maps : undefined;
    } catch {
      return undefined;
    }
  });
}

/** The runtime address of a function of a mapped file, as a sampler would see it. */
function runtimeAddress(maps: Mapping[], path: string, name: string, dynamic = false): number {
  const sym = nmFunctions(path, dynamic).find((s) => s.name === name);
  if (!sym) throw new Error(`${name} not in ${path}`);
  // ET_EXEC runs at its link addresses; PIE and shared objects at load bias + vaddr,
  // where the load bias is where file offset 0 (vaddr 0 for these) is mapped.
  if (/Type:\s+EXEC/.test(run('readelf', ['-h', path]))) return sym.addr;
  const first = maps.find((m) => (m.path === path || `/usr${m.path}` === path || m.path === `/usr${path}`) && m.offset === 0)!;
  return first.start + sym.addr;
}

describe.skipIf(!canRun)('symbolizing real processes', () => {
  it('names the frames of a process that exited right after being sampled (PIE and non-PIE)', async () => {
    const dir = tempDir();
    for (const [name, flags] of [['burn-pie', ['-pie', '-fPIE']], ['burn-nopie', ['-no-pie', '-fno-PIE']]] as const) {
      const prog = compile('symbolize-burn.c', dir, name, [...flags]);
      const child = spawn(prog, ['50'], { stdio: 'ignore' });
      children.push(child);
      const maps = await mapsAfterExec(child.pid!, prog);
      const sym = new Symbolizer();
      sym.notePids([child.pid!]);
      const libc = maps.find((m) => m.path.includes('libc.so') && m.perms.includes('x'))!.path;
      const stack = [
        runtimeAddress(maps, prog, 'burn_inner_static') + 4,
        runtimeAddress(maps, prog, 'burn_outer') + 8,
        BigInt(runtimeAddress(maps, prog, 'main') + 8),
        runtimeAddress(maps, libc, 'clock_gettime', true) + 2,
      ];
      expect(await exited(child)).toBe(0);
      expect(existsSync(`/proc/${child.pid}/maps`)).toBe(false);
      const frames = sym.symbolizeUser(child.pid!, stack);
      expect(frames.slice(0, 3)).toEqual([
        { name: 'burn_inner_static', module: name, kind: 'native' },
        { name: 'burn_outer', module: name, kind: 'native' },
        { name: 'main', module: name, kind: 'native' },
      ]);
      expect(frames[3]).toMatchObject({ module: libc.slice(libc.lastIndexOf('/') + 1), kind: 'native' });
      expect(frames[3]!.name).toMatch(/clock_gettime/);
      expect(sym.forgetExited()).toEqual([child.pid]);
    }
  });

  it('reads a binary deleted while it runs through /proc/PID/map_files', async () => {
    const dir = tempDir();
    const prog = compile('symbolize-burn.c', dir, 'burn-deleted', []);
    const inner = nmFunctions(prog).find((s) => s.name === 'burn_inner_static')!;
    const child = spawn(prog, ['2000'], { stdio: 'ignore' });
    children.push(child);
    const maps = await mapsAfterExec(child.pid!, prog);
    const base = Math.min(...maps.filter((m) => m.path === prog).map((m) => m.start - m.offset));
    unlinkSync(prog);
    await waitFor('the mapping to show as deleted', () => (readFileSync(`/proc/${child.pid}/maps`, 'utf8').includes('(deleted)') ? true : undefined));
    const sym = new Symbolizer();
    sym.notePids([child.pid!]);
    expect(sym.symbolizeUser(child.pid!, [base + inner.addr + 1])).toEqual([{ name: 'burn_inner_static', module: 'burn-deleted', kind: 'native' }]);
  });

  it("names a Node process's JavaScript function from its perf map", async () => {
    const dir = tempDir();
    const script = join(dir, 'hot.js');
    writeFileSync(script, [
      'function profctlHotFunction(n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i) % 3; return s; }',
      'let total = 0;',
      'const until = Date.now() + 20000;',
      'while (Date.now() < until) total += profctlHotFunction(1e5);',
    ].join('\n'));
    const child = spawn(process.execPath, ['--perf-basic-prof', '--logfile=/dev/null', script], { stdio: 'ignore' });
    children.push(child);
    const mapPath = `/tmp/perf-${child.pid}.map`;
    try {
      const line = await waitFor('profctlHotFunction in the perf map', () => {
        if (!existsSync(mapPath)) return undefined;
        return readFileSync(mapPath, 'utf8').split('\n').find((l) => / JS:[*^+]profctlHotFunction /.test(l));
      });
      const [start] = line.split(' ');
      const addr = BigInt('0x' + start) + 4n;
      const sym = new Symbolizer();
      sym.notePids([child.pid!]);
      const [jsFrame] = sym.symbolizeUser(child.pid!, [addr]);
      expect(jsFrame).toMatchObject({ name: 'profctlHotFunction', kind: 'jit', module: '[jit]', file: script, line: 1 });
      // The runtime itself resolves through ELF.
      const maps = parseMaps(readFileSync(`/proc/${child.pid}/maps`, 'utf8'));
      const node = readlinkSync(`/proc/${child.pid}/exe`);
      const uvRun = runtimeAddress(maps, node, 'uv_run');
      expect(sym.symbolizeUser(child.pid!, [jsFrame ? uvRun + 1 : 0])[0]).toMatchObject({ name: 'uv_run', kind: 'native' });
    } finally {
      child.kill('SIGKILL');
      await exited(child);
      rmSync(mapPath, { force: true });
    }
  });

  it('names kernel addresses from /proc/kallsyms', () => {
    const text = readFileSync('/proc/kallsyms', 'latin1').split('\n').map((l) => l.split(/\s+/));
    const kernelText = text.filter(([, type, , mod]) => type !== undefined && /^[tTwW]$/.test(type) && mod === undefined);
    expect(kernelText.length).toBeGreaterThan(1000);
    // Symbols that share an address with no other text symbol, spread over the kernel image.
    const perAddress = new Map<string, number>();
    for (const [a] of kernelText) perAddress.set(a!, (perAddress.get(a!) ?? 0) + 1);
    const unique = kernelText.filter(([a]) => perAddress.get(a!) === 1);
    const picks = Array.from({ length: 50 }, (_, i) => unique[Math.floor((i * unique.length) / 50)]!);
    const sym = new Symbolizer();
    for (const [a, , name] of picks) {
      // As a leaf (the interrupted instruction), a few bytes into the function.
      expect(sym.symbolizeKernel([BigInt('0x' + a) + 2n])).toEqual([{ name, module: '[kernel.kallsyms]', kind: 'kernel' }]);
      // As a return address right after the function's start: looked up at addr-1, still inside.
      expect(sym.symbolizeKernel([0xffffffff81000000n, BigInt('0x' + a) + 2n])[1]!.name).toBe(name);
    }
    expect(sym.stats().kernelRestricted).toBe(false);
  });
});
