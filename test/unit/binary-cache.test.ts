// BinaryCache when a process exits between the stat of its /proc paths and
// the open: the stat found the file, the open finds nothing. The cache must
// reach the file by its next path, and must not remember the failure for the
// processes that map the same file later.

import { copyFileSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BinaryCache } from '../../src/symbolize/binary-cache.js';
import type { Mapping } from '../../src/symbolize/proc-maps.js';
import { compile, nmFunctions, tempDir } from './symbolize-fixtures.js';

// Paths that still stat but no longer open, as a process's /proc paths do once it is gone (ENOENT).
const vanishing = vi.hoisted(() => new Set<string>());

vi.mock('../../src/symbolize/elf-reader.js', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../src/symbolize/elf-reader.js')>();
  class VanishingFileSource extends mod.FileSource {
    constructor(path: string) {
      if (vanishing.has(path)) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
      super(path);
    }
  }
  return { ...mod, FileSource: VanishingFileSource };
});

const PID = 4343;
const LATER_PID = 4344;
const START = 0x5555_0000_0000;
const END = START + 0x1000;
let proc: string;
let mapping: Mapping;
let mainAddr: number;

beforeAll(() => {
  proc = tempDir('profctl-proc-');
  const rootfs = join(proc, 'rootfs');
  mkdirSync(join(rootfs, 'app'), { recursive: true });
  const burn = join(rootfs, 'app', 'burn');
  copyFileSync(compile('symbolize-burn.c', tempDir(), 'burn', ['-no-pie', '-fno-PIE']), burn);
  mainAddr = nmFunctions(burn).find((s) => s.name === 'main')!.addr;
  for (const pid of [PID, LATER_PID]) {
    const dir = join(proc, String(pid));
    mkdirSync(join(dir, 'map_files'), { recursive: true });
    symlinkSync(rootfs, join(dir, 'root'));
    symlinkSync(burn, join(dir, 'map_files', `${START.toString(16)}-${END.toString(16)}`));
  }
  mapping = { start: START, end: END, perms: 'r-xp', offset: 0, dev: '08:01', inode: statSync(burn).ino, path: '/app/burn', deleted: false };
});

const viaRoot = (pid: number) => join(proc, String(pid), 'root', 'app', 'burn');
const viaMapFiles = (pid: number) => join(proc, String(pid), 'map_files', `${START.toString(16)}-${END.toString(16)}`);

describe('BinaryCache', () => {
  afterEach(() => vanishing.clear());

  it('opens the next path when the first one vanished after its stat', () => {
    const cache = new BinaryCache({ procRoot: proc, debugDirs: [] });
    vanishing.add(viaRoot(PID));
    expect(cache.forMapping(PID, mapping)?.frameAt(mainAddr).name).toBe('main');
  });

  it('does not remember a file it could not open', () => {
    const cache = new BinaryCache({ procRoot: proc, debugDirs: [] });
    vanishing.add(viaRoot(PID));
    vanishing.add(viaMapFiles(PID));
    expect(cache.forMapping(PID, mapping)).toBeNull();
    // A later process that maps the same file, still running, gets its symbols.
    expect(cache.forMapping(LATER_PID, mapping)?.frameAt(mainAddr).name).toBe('main');
  });
});
