// The text parsers of symbolization: /proc/PID/maps, stat and status lines,
// perf maps (incremental reading, overlapping entries, V8's names), kallsyms,
// and demangling of C++ and Rust names.

import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { demangle } from '../../src/symbolize/demangle.js';
import { KERNEL_MODULE, KernelSymbols } from '../../src/symbolize/kallsyms.js';
import { JIT_MODULE, PerfMap, parsePerfMapLine, perfMapFrame } from '../../src/symbolize/perf-map.js';
import { findMapping, parseMaps, parseNsPid, parseStartTime } from '../../src/symbolize/proc-maps.js';
import { tempDir } from './symbolize-fixtures.js';

describe('/proc parsing', () => {
  const maps = [
    '55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1311 /usr/bin/prog',
    '55d0c0a02000-55d0c0a05000 r-xp 00002000 08:01 1311 /usr/bin/prog',
    '7f1c2a000000-7f1c2a100000 rwxp 00000000 00:00 0 ',
    '7f1c2b028000-7f1c2b1bd000 r-xp 00028000 08:01 2222 /usr/lib/x86_64-linux-gnu/lib with space.so (deleted)',
    '7ffd5a3f1000-7ffd5a3f3000 r-xp 00000000 00:00 0                          [vdso]',
    'garbage line',
  ].join('\n');

  it('parses maps, including spaces in paths, deleted files and pseudo-names', () => {
    const m = parseMaps(maps);
    expect(m).toHaveLength(5);
    expect(m[1]).toMatchObject({ start: 0x55d0c0a02000, end: 0x55d0c0a05000, perms: 'r-xp', offset: 0x2000, inode: 1311, path: '/usr/bin/prog', deleted: false });
    expect(m[2]!.path).toBe('');
    expect(m[3]).toMatchObject({ path: '/usr/lib/x86_64-linux-gnu/lib with space.so', deleted: true, offset: 0x28000 });
    expect(m[4]!.path).toBe('[vdso]');
  });

  it('finds the mapping holding an address', () => {
    const m = parseMaps(maps);
    expect(findMapping(m, 0x55d0c0a02000)).toBe(1);
    expect(findMapping(m, 0x55d0c0a04fff)).toBe(1);
    expect(findMapping(m, 0x55d0c0a05000)).toBe(-1);
    expect(findMapping(m, 0x7ffd5a3f1010)).toBe(4);
    expect(findMapping(m, 1)).toBe(-1);
  });

  it('reads the start time after a comm that holds spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    const stat = `4242 (evil ) name) ${fields.join(' ')}`;
    expect(parseStartTime(stat)).toBe('22');
    expect(parseStartTime(`1 (systemd) ${fields.join(' ')}`)).toBe('22');
  });

  it('reads the innermost NSpid', () => {
    expect(parseNsPid('Name:\tnode\nNSpid:\t31337\t42\nNSpgid:\t1\n')).toBe(42);
    expect(parseNsPid('Name:\tnode\nNSpid:\t31337\n')).toBe(31337);
    expect(parseNsPid('Name:\tnode\n')).toBeUndefined();
  });
});

describe('perf maps', () => {
  it('parses lines with and without 0x', () => {
    expect(parsePerfMapLine('7ffb3c0060c0 310 JS:*hotLoop /tmp/a.js:1:17')).toEqual({ start: 0x7ffb3c0060c0, end: 0x7ffb3c0063d0, name: 'JS:*hotLoop /tmp/a.js:1:17' });
    expect(parsePerfMapLine('0x1000 0x20 Interpreter')).toEqual({ start: 0x1000, end: 0x1020, name: 'Interpreter' });
    expect(parsePerfMapLine('not a line')).toBeUndefined();
  });

  it('turns V8 names into readable frames, whatever the tier', () => {
    for (const tier of ['~', '^', '+', '*', '']) {
      expect(perfMapFrame(`JS:${tier}hotLoop /srv/app/loop.js:12:3`)).toEqual({
        name: 'hotLoop', module: JIT_MODULE, kind: 'jit', file: '/srv/app/loop.js', line: 12, rawName: `JS:${tier}hotLoop /srv/app/loop.js:12:3`,
      });
    }
    expect(perfMapFrame('LazyCompile:*handle /app/server.js:40').name).toBe('handle');
    expect(perfMapFrame('JS:~ node:internal/main/run_main_module:1:1')).toMatchObject({ name: '(anonymous) run_main_module:1', file: 'node:internal/main/run_main_module', line: 1 });
    expect(perfMapFrame('JS:*get size /app/cache.js:7:9')).toMatchObject({ name: 'get size', file: '/app/cache.js', line: 7 });
    expect(perfMapFrame('Builtin:ArrayPrototypePush')).toEqual({ name: 'Builtin:ArrayPrototypePush', module: JIT_MODULE, kind: 'jit' });
    expect(perfMapFrame('Lcom/example/Foo;::bar').name).toBe('Lcom/example/Foo;::bar');
  });

  it('reads a growing file incrementally and lets a later entry replace an earlier one', () => {
    const path = join(tempDir(), 'perf-123.map');
    writeFileSync(path, '1000 100 JS:*first /a.js:1:1\n2000 10');
    const map = new PerfMap(path);
    expect(map.refresh()).toBe(true);
    expect(map.frameAt(0x1050)?.name).toBe('first');
    expect(map.frameAt(0x2005)).toBeUndefined(); // the half-written line waits
    appendFileSync(path, '0 JS:*second /b.js:2:1\n1000 100 JS:*reused /c.js:3:1\n0800 10 JS:~early /d.js:4:1\n');
    map.refresh();
    expect(map.frameAt(0x2005)?.name).toBe('second');
    expect(map.frameAt(0x1050)?.name).toBe('reused');
    expect(map.frameAt(0x805)?.name).toBe('early');
    expect(map.frameAt(0x1100)).toBeUndefined();
    expect(map.size).toBe(4);
    expect(new PerfMap(join(tempDir(), 'missing.map')).refresh()).toBe(false);
  });

  it('stops looking for a perf map on every miss once the process has gone seconds without one', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      const path = join(tempDir(), 'late.map');
      const map = new PerfMap(path);
      expect(map.refresh()).toBe(false);
      // A runtime that has just started may not have written its map yet: misses keep looking.
      expect(map.settledMissing).toBe(false);
      vi.advanceTimersByTime(100);
      map.refreshForMiss(Date.now());
      expect(map.lastRefresh).toBe(1_000_100);
      vi.advanceTimersByTime(2000);
      expect(map.settledMissing).toBe(true);
      map.refreshForMiss(Date.now()); // a second since the last look: look again
      expect(map.lastRefresh).toBe(1_002_100);
      vi.advanceTimersByTime(10);
      map.refreshForMiss(Date.now()); // not once per sample
      expect(map.lastRefresh).toBe(1_002_100);
      // A map that appears later is still read.
      writeFileSync(path, '1000 10 late\n');
      vi.advanceTimersByTime(1000);
      map.refreshForMiss(Date.now());
      expect(map.frameAt(0x1004)?.name).toBe('late');
      expect(map.available).toBe(true);
      expect(map.settledMissing).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('counts malformed lines instead of failing', () => {
    const map = new PerfMap('/dev/null');
    map.addText('zz not hex\n1000 10 ok\n');
    expect(map.badLines).toBe(1);
    expect(map.frameAt(0x1000)?.name).toBe('ok');
  });
});

describe('kallsyms', () => {
  const text = [
    'ffffffff81000000 T _text',
    'ffffffff81001000 T do_syscall_64',
    'ffffffff81002000 t helper_fn',
    'ffffffff81002800 D some_data',
    'ffffffff81003000 W weak_fn',
    'ffffffffc0a01000 t foo_init\t[foo]',
    'ffffffffc0a02000 T foo_read\t[foo]',
  ].join('\n');

  it('finds text symbols and module names above 2^53', () => {
    const k = KernelSymbols.parse(text);
    expect(k.restricted).toBe(false);
    expect(k.lookup(0xffffffff81001234n)).toMatchObject({ name: 'do_syscall_64', module: KERNEL_MODULE });
    // Data symbols are skipped: an address after helper_fn stays in helper_fn.
    expect(k.lookup(0xffffffff81002900n)?.name).toBe('helper_fn');
    expect(k.lookup(0xffffffff81003000n)?.name).toBe('weak_fn');
    expect(k.lookup(0xffffffffc0a02010n)).toMatchObject({ name: 'foo_read', module: '[foo]' });
    expect(k.lookup(0xffffffff80000000n)).toBeUndefined();
  });

  it('picks one name among aliases at an address: global first, then fewer underscores', () => {
    const k = KernelSymbols.parse(['ffffffff81000000 t __x64_local', 'ffffffff81000000 T __do_open', 'ffffffff81000000 T do_open', 'ffffffff81000100 T next'].join('\n'));
    expect(k.lookup(0xffffffff81000010n)?.name).toBe('do_open');
    expect(k.size).toBe(2);
  });

  it('holds tables larger than one storage block, in any line order', () => {
    // 40,000 functions with long names: entries span three blocks and names several buffers.
    const n = 40_000;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const addr = 0xffffffff81000000n + BigInt(i) * 0x40n;
      lines.push(`${addr.toString(16)} ${i % 3 ? 't' : 'T'} fn_${i}_${'x'.repeat(i % 40)}${i % 5 === 0 ? '\t[mod' + (i % 7) + ']' : ''}`);
    }
    // Shuffled deterministically (modules' symbols come after the kernel's in real files).
    const shuffled = lines.map((l, i) => [(i * 7919) % n, l] as const).sort((a, b) => a[0] - b[0]).map(([, l]) => l);
    const k = KernelSymbols.parse(shuffled.join('\n'));
    expect(k.size).toBe(n);
    for (const i of [0, 1, 16_383, 16_384, 16_385, 32_768, 39_999]) {
      const hit = k.lookup(0xffffffff81000000n + BigInt(i) * 0x40n + 0x3fn);
      expect(hit?.name).toBe(`fn_${i}_${'x'.repeat(i % 40)}`);
      expect(hit?.module).toBe(i % 5 === 0 ? `[mod${i % 7}]` : KERNEL_MODULE);
    }
  });

  it('gives every address in one function the same position, and none past the end', () => {
    const k = KernelSymbols.parse(text);
    const at = k.indexOf(0xffffffff81001000n);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(k.indexOf(0xffffffff81001fffn)).toBe(at);
    expect(k.symbolAt(at).name).toBe('do_syscall_64');
    expect(k.indexOf(0xffffffff81002000n)).not.toBe(at);
    expect(k.indexOf(0xffffffffc0a02000n + 0x200000n)).toBe(-1);
    expect(k.indexOf(0x1000n)).toBe(-1);
  });

  it('says when addresses are hidden (kptr_restrict)', () => {
    const k = KernelSymbols.parse(text.replace(/^[0-9a-f]{16}/gm, '0000000000000000'));
    expect(k.restricted).toBe(true);
    expect(k.size).toBe(0);
    expect(k.lookup(0xffffffff81001234n)).toBeUndefined();
  });
});

describe('demangling', () => {
  it('demangles Itanium C++ names', () => {
    expect(demangle('_ZN6shapes6Widget4spinEi')).toBe('shapes::Widget::spin(int)');
    expect(demangle('_ZNSt6vectorIiSaIiEE9push_backERKi')).toBe('std::vector<int, std::allocator<int> >::push_back(int const&)');
    expect(demangle('_Z3addii.cold')).toMatch(/^add\(int, int\)/);
  });

  it('demangles Rust legacy names without the hash, and v0 names', () => {
    // Legacy: _ZN + length-prefixed path + 17h<16 hex> + E.
    expect(demangle('_ZN7mycrate6module8function17h0123456789abcdefE')).toBe('mycrate::module::function');
    expect(demangle('_ZN4core3ptr13drop_in_place17hdeadbeefdeadbeefE')).toBe('core::ptr::drop_in_place');
    // v0: _R + N(ested) v(alue) C(rate) with disambiguator + identifiers.
    expect(demangle('_RNvNtCs1234_7mycrate6module8function')).toBe('mycrate::module::function');
  });

  it('leaves plain and unknown names alone', () => {
    expect(demangle('main')).toBe('main');
    expect(demangle('__libc_start_main')).toBe('__libc_start_main');
    expect(demangle('_Znot_really')).toBe('_Znot_really');
  });
});
