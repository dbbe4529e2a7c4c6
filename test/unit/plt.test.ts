// Names of PLT stubs (`memcpy@plt`) against objdump, which labels every stub
// it can tie to a relocation: programs and a library compiled here with lazy
// and immediate binding, IBT's second table, -fno-plt's .plt.got, stripped
// and with their symbols in a separate debug file; and libc, whose stubs are
// filled by IFUNC resolvers.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBinarySymbols } from '../../src/symbolize/binary-symbols.js';
import { stubSlot } from '../../src/symbolize/plt.js';
import { compile, nmFunctions, run, tempDir } from './symbolize-fixtures.js';

const NO_DEBUG_DIRS = ['/nonexistent-profctl-debug'];

/** objdump's labels of the stubs in a binary's PLT sections: address → name (`memcpy@plt`, `*ABS*+0x9f550@plt`). */
function objdumpStubs(path: string): Map<number, string> {
  const out = run('objdump', ['-d', '--no-show-raw-insn', path]);
  const stubs = new Map<number, string>();
  let section = '';
  for (const line of out.split('\n')) {
    const sec = /^Disassembly of section (\S+):/.exec(line);
    if (sec) section = sec[1]!;
    const m = /^([0-9a-f]+) <(.+@plt)>:$/.exec(line);
    if (m && section.startsWith('.plt')) stubs.set(parseInt(m[1]!, 16), m[2]!);
  }
  return stubs;
}

let dir: string;
beforeAll(() => {
  dir = tempDir('profctl-plt-');
});

describe('PLT stubs', () => {
  const variants: [string, string[]][] = [
    ['lazy binding', []],
    ['immediate binding', ['-Wl,-z,now']],
    ['IBT (.plt.sec)', ['-fcf-protection=full', '-Wl,-z,ibtplt']],
    ['non-PIE', ['-fno-PIE', '-no-pie']],
    ['-fno-plt (.plt.got)', ['-fno-plt']],
    ['a shared library', ['-shared', '-fPIC']],
  ];
  for (const [what, flags] of variants) {
    it(`names every stub objdump names: ${what}`, () => {
      const prog = compile('symbolize-widgets.cpp', dir, `widgets-${what.replace(/\W+/g, '-')}`, flags);
      const expected = objdumpStubs(prog);
      expect(expected.size).toBeGreaterThan(0);
      const bin = loadBinarySymbols(prog, { mappedPath: prog, debugDirs: NO_DEBUG_DIRS })!;
      for (const [addr, label] of expected) {
        for (const a of [addr, addr + 5]) {
          const f = bin.frameAt(a);
          expect(f.rawName ?? f.name, `0x${a.toString(16)}`).toBe(label);
          expect(f.module).toBe(bin.module);
        }
      }
    });
  }

  it('demangles a C++ stub and keeps the mangled name', () => {
    const prog = compile('symbolize-widgets.cpp', dir, 'widgets-demangle');
    const [addr] = [...objdumpStubs(prog)].find(([, label]) => label === '_Znwm@plt')!;
    expect(loadBinarySymbols(prog, { mappedPath: prog, debugDirs: NO_DEBUG_DIRS })!.frameAt(addr)).toEqual({
      name: 'operator new(unsigned long)@plt',
      rawName: '_Znwm@plt',
      module: 'widgets-demangle',
      kind: 'native',
    });
  });

  it('names stubs of a stripped binary, and of one whose symbols are in a debug file', () => {
    const full = compile('symbolize-widgets.cpp', dir, 'widgets-full', ['-g']);
    const expected = objdumpStubs(full);
    const stripped = join(dir, 'widgets-stripped');
    copyFileSync(full, stripped);
    run('objcopy', ['--strip-all', stripped]);
    const linked = join(dir, 'widgets-linked');
    copyFileSync(full, linked);
    run('objcopy', ['--only-keep-debug', linked, join(dir, 'widgets-linked.debug')]);
    run('objcopy', ['--strip-all', linked]);
    run('objcopy', [`--add-gnu-debuglink=${join(dir, 'widgets-linked.debug')}`, linked], dir);
    for (const path of [stripped, linked]) {
      const bin = loadBinarySymbols(path, { mappedPath: path, debugDirs: NO_DEBUG_DIRS })!;
      // The debug file's stub sections are empty (NOBITS): the stubs are read from the binary before it is closed.
      expect(bin.origin).toBe(path === linked ? 'debug-link' : 'dynsym');
      for (const [addr, label] of expected) expect(bin.frameAt(addr).rawName ?? bin.frameAt(addr).name).toBe(label);
    }
  });

  it("names libc's IFUNC stubs after the function their resolver serves", () => {
    const found = execFileSync('gcc', ['-print-file-name=libc.so.6'], { encoding: 'utf8' }).trim();
    const libc = existsSync(found) ? found : '/lib/x86_64-linux-gnu/libc.so.6';
    const expected = objdumpStubs(libc);
    const ifuncs = new Map<number, Set<string>>();
    for (const s of nmFunctions(libc, true)) {
      if (s.type !== 'i') continue;
      if (!ifuncs.has(s.addr)) ifuncs.set(s.addr, new Set());
      ifuncs.get(s.addr)!.add(`${s.name}@plt`);
    }
    const bin = loadBinarySymbols(libc, { mappedPath: libc, debugDirs: NO_DEBUG_DIRS })!;
    let irelative = 0;
    for (const [addr, label] of expected) {
      const name = bin.frameAt(addr).name;
      const abs = /^\*ABS\*\+0x([0-9a-f]+)@plt$/.exec(label);
      if (!abs) {
        expect(name).toBe(label);
        continue;
      }
      const aliases = ifuncs.get(parseInt(abs[1]!, 16));
      if (aliases) {
        expect(aliases, `${label}: got ${name}`).toContain(name);
        irelative++;
      } else expect(name).toBe(label);
    }
    expect(irelative).toBeGreaterThan(0);
  });

  it('decodes only the jmp through a GOT slot: not PLT0, not a lazy IBT entry', () => {
    // jmp *0x2fe2(%rip) at 0x1030: the slot is 0x1030 + 6 + 0x2fe2.
    expect(stubSlot(Buffer.from('ff25e22f00006800000000e9e0ffffff', 'hex'), 0, 16, 0x1030)).toBe(0x4018);
    // endbr64; bnd jmp *0x2f75(%rip) (.plt.sec): the jmp starts 5 bytes in.
    expect(stubSlot(Buffer.from('f30f1efaf2ff25752f00000f1f440000', 'hex'), 0, 16, 0x10a0)).toBe(0x10a0 + 11 + 0x2f75);
    // PLT0: push *GOT+8; jmp *GOT+16 — the push comes first.
    expect(stubSlot(Buffer.from('ff35e22f0000ff25e42f00000f1f4000', 'hex'), 0, 16, 0x1020)).toBe(-1);
    // A lazy entry of an IBT table: endbr64; push $0; bnd jmp PLT0.
    expect(stubSlot(Buffer.from('f30f1efa6800000000f2e9e1ffffff90', 'hex'), 0, 16, 0x1030)).toBe(-1);
    // A jmp that would run past the entry.
    expect(stubSlot(Buffer.from('ff25e22f0000', 'hex'), 0, 5, 0)).toBe(-1);
  });
});

describe('PLT stubs of older linkers', () => {
  it('reads .plt.got entries of 8 bytes when the section gives no entry size', () => {
    const prog = compile('symbolize-widgets.cpp', tempDir('profctl-plt-'), 'widgets-old-ld', ['-fno-plt']);
    const expected = [...objdumpStubs(prog)];
    // Zero .plt.got's sh_entsize, as binutils before 2.29 left it.
    const index = Number(/\[\s*(\d+)\]\s+\.plt\.got\s/.exec(run('readelf', ['-SW', prog]))![1]);
    const bytes = readFileSync(prog);
    const shoff = Number(bytes.readBigUInt64LE(0x28));
    bytes.writeBigUInt64LE(0n, shoff + index * bytes.readUInt16LE(0x3a) + 56);
    writeFileSync(prog, bytes);
    expect(run('readelf', ['-SW', prog])).toMatch(/\.plt\.got\s+PROGBITS\s+\S+\s+\S+\s+\S+\s+00\s/);
    const bin = loadBinarySymbols(prog, { mappedPath: prog, debugDirs: NO_DEBUG_DIRS })!;
    expect(expected.length).toBeGreaterThan(0);
    for (const [addr, label] of expected) expect(bin.frameAt(addr).name).toBe(label);
  });
});
