// The writer's view of one generation of the shared tables: the frame and
// stack ids already on disk (to deduplicate against), and a "pending" batch
// of new entries that is appended durably — frames before stacks, both before
// the segment that uses them — and only then becomes visible to later batches.
// Opening for write recovers from a crash: a torn chunk at the end of a table
// file is reported and cut off.
// It must not encode segments or delete anything.

import fs from 'node:fs';
import path from 'node:path';
import type { Frame } from '../profile/model.js';
import { DecodeError } from './binary.js';
import { parseTableFileName, tableFileName, writeFileAtomic } from './layout.js';
import { appendDurably, encodeChunk, frameStoreKey, readTableFile, tableFileHeader } from './tables.js';

export interface PendingTables {
  frameId(frame: Frame): number;
  stackId(frameIds: number[]): number;
  /** Appends the new entries durably; returns how many were added. */
  commit(): { frames: number; stacks: number };
}

export class TableGeneration {
  private frameIds = new Map<string, number>();
  private stackIds = new Map<string, number>();
  /**
   * Committed frame ids by Frame object: a resident writer is handed the
   * symbolizer's cached Frame objects window after window, and keying each
   * one again was most of what storing a window's stacks cost.
   */
  private committedByObject = new WeakMap<Frame, number>();
  frameCount = 0;
  stackCount = 0;
  framesBytes = 0;
  stacksBytes = 0;

  constructor(
    readonly dir: string,
    readonly generation: number,
    readonly createdMs: number,
    private durable: boolean,
  ) {}

  get framesFile(): string {
    return path.join(this.dir, tableFileName(this.generation, 'frames'));
  }

  get stacksFile(): string {
    return path.join(this.dir, tableFileName(this.generation, 'stacks'));
  }

  tableBytes(): number {
    return this.framesBytes + this.stacksBytes;
  }

  load(frames: Frame[], stacks: number[][]): void {
    for (const f of frames) this.frameIds.set(frameStoreKey(f), this.frameCount++);
    for (const s of stacks) this.stackIds.set(s.join(','), this.stackCount++);
  }

  begin(): PendingTables {
    const newFrames: Frame[] = [];
    const newFrameIds = new Map<string, number>();
    const newStacks: number[][] = [];
    const newStackIds = new Map<string, number>();
    // Profiles hand the same Frame object many times; skip re-keying it.
    const byObject = new Map<Frame, number>();
    return {
      frameId: (frame) => {
        const known = this.committedByObject.get(frame) ?? byObject.get(frame);
        if (known !== undefined) return known;
        const key = frameStoreKey(frame);
        let id = this.frameIds.get(key) ?? newFrameIds.get(key);
        if (id === undefined) {
          id = this.frameCount + newFrames.length;
          newFrames.push(frame);
          newFrameIds.set(key, id);
        }
        byObject.set(frame, id);
        return id;
      },
      stackId: (ids) => {
        const key = ids.join(',');
        let id = this.stackIds.get(key) ?? newStackIds.get(key);
        if (id === undefined) {
          id = this.stackCount + newStacks.length;
          newStacks.push(ids);
          newStackIds.set(key, id);
        }
        return id;
      },
      commit: () => {
        if (newFrames.length) {
          const chunk = encodeChunk('frames', this.frameCount, newFrames);
          appendDurably(this.framesFile, this.framesBytes, chunk, this.durable);
          this.framesBytes += chunk.length;
          this.frameCount += newFrames.length;
          for (const [k, v] of newFrameIds) this.frameIds.set(k, v);
        }
        for (const [frame, id] of byObject) this.committedByObject.set(frame, id);
        if (newStacks.length) {
          const chunk = encodeChunk('stacks', this.stackCount, newStacks);
          appendDurably(this.stacksFile, this.stacksBytes, chunk, this.durable);
          this.stacksBytes += chunk.length;
          this.stackCount += newStacks.length;
          for (const [k, v] of newStackIds) this.stackIds.set(k, v);
        }
        return { frames: newFrames.length, stacks: newStacks.length };
      },
    };
  }
}

/** Creates the (empty) table files of a new generation, each appearing atomically. */
export function startGeneration(dir: string, generation: number, nowMs: number, durable: boolean): TableGeneration {
  const gen = new TableGeneration(dir, generation, nowMs, durable);
  for (const kind of ['frames', 'stacks'] as const) {
    const header = tableFileHeader(kind, nowMs);
    writeFileAtomic(dir, tableFileName(generation, kind), header, durable);
    if (kind === 'frames') gen.framesBytes = header.length;
    else gen.stacksBytes = header.length;
  }
  return gen;
}

/** Opens the newest generation for appending (cutting torn tails), or starts one. */
export function openGenerationForWrite(dir: string, nowMs: number, durable: boolean, warn: (msg: string) => void): TableGeneration {
  let newest = 0;
  for (const f of fs.readdirSync(dir)) {
    const t = parseTableFileName(f);
    if (t && t.generation > newest) newest = t.generation;
  }
  if (newest === 0) return startGeneration(dir, 1, nowMs, durable);
  const framesFile = path.join(dir, tableFileName(newest, 'frames'));
  const stacksFile = path.join(dir, tableFileName(newest, 'stacks'));
  try {
    if (!fs.existsSync(framesFile) || !fs.existsSync(stacksFile)) throw new DecodeError('a table file is missing');
    const frames = readTableFile<Frame>(framesFile, 'frames', 0, 0);
    const stacks = readTableFile<number[]>(stacksFile, 'stacks', 0, 0, () => frames.entries.length);
    if (frames.validBytes === 0 || stacks.validBytes === 0) throw new DecodeError('a table file has no valid header');
    for (const [file, scan] of [[framesFile, frames], [stacksFile, stacks]] as const) {
      if (scan.invalidTailBytes > 0) {
        warn(`${file}: cut ${scan.invalidTailBytes} bytes of a torn or corrupt append at offset ${scan.validBytes}`);
        fs.truncateSync(file, scan.validBytes);
      }
    }
    const gen = new TableGeneration(dir, newest, frames.createdMs, durable);
    gen.load(frames.entries, stacks.entries);
    gen.framesBytes = frames.validBytes;
    gen.stacksBytes = stacks.validBytes;
    return gen;
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    warn(`${framesFile}: ${err.message}; starting table generation ${newest + 1}`);
    return startGeneration(dir, newest + 1, nowMs, durable);
  }
}
