// A reader's cache of the shared tables, per generation. It reads a table
// file only up to the last valid chunk and later reads only the bytes
// appended since, so a long-lived reader (the interactive view) stays cheap
// and a reader never waits for, or disturbs, the writer.
// It must not write or truncate anything: a torn tail may be an append in flight.

import path from 'node:path';
import type { Frame } from '../profile/model.js';
import { DecodeError } from './binary.js';
import { tableFileName } from './layout.js';
import { readTableFile } from './tables.js';

export interface GenerationTables {
  frames: Frame[];
  stacks: number[][];
  framesOffset: number;
  stacksOffset: number;
}

export class TableCache {
  private generations = new Map<number, GenerationTables>();

  constructor(private tablesDir: string) {}

  /** Tables of `generation` holding at least `stackCount` stacks; throws DecodeError when they do not. */
  get(generation: number, stackCount: number): GenerationTables {
    let g = this.generations.get(generation);
    if (g && g.stacks.length >= stackCount) return g;
    if (!g) {
      g = { frames: [], stacks: [], framesOffset: 0, stacksOffset: 0 };
      this.generations.set(generation, g);
    }
    const cached = g;
    try {
      const frames = readTableFile<Frame>(path.join(this.tablesDir, tableFileName(generation, 'frames')), 'frames', cached.framesOffset, cached.frames.length);
      for (const f of frames.entries) cached.frames.push(f);
      cached.framesOffset = frames.validBytes;
      const stacks = readTableFile<number[]>(
        path.join(this.tablesDir, tableFileName(generation, 'stacks')),
        'stacks',
        cached.stacksOffset,
        cached.stacks.length,
        () => cached.frames.length,
      );
      for (const s of stacks.entries) cached.stacks.push(s);
      cached.stacksOffset = stacks.validBytes;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new DecodeError(`its tables (generation ${generation}) are missing`);
      if (code === 'EACCES') throw new DecodeError(`its tables (generation ${generation}) are not readable: permission denied`);
      throw err;
    }
    if (cached.stacks.length < stackCount) {
      throw new DecodeError(`it uses ${stackCount} stacks but tables generation ${generation} holds ${cached.stacks.length}`);
    }
    return cached;
  }
}
