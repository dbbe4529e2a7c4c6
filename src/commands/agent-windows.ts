// The agent's flush windows on their way to the store. Every window is
// written, an empty one too (it records that the agent was there, so status
// shows no gap for a quiet machine). A window the store refuses (its file
// system full, an I/O error) waits, oldest first, and is written before the
// next one, so a passing failure loses nothing; only beyond a bound (five
// minutes at the default flush) are the oldest dropped, and the warning says
// how many samples went.
// It must not take samples or name frames; the agent hands windows over.

import { UserError } from '../errors.js';
import type { AppendResult, BoundsResult, SegmentData, StoreWriter } from '../store/writer.js';

export const MAX_UNWRITTEN_WINDOWS = 30;

export interface WindowQueueOptions {
  /** One line per window written (the agent's flush log); omitted with --quiet. */
  onWritten?: (r: AppendResult, b: BoundsResult) => void;
  onWarning: (msg: string) => void;
  maxWindows?: number;
}

function sizeOf(w: SegmentData): number {
  return (w.columns?.count ?? w.profile?.samples.length ?? w.samples?.length ?? 0) + (w.spans?.length ?? 0);
}

export class WindowQueue {
  private readonly waiting: SegmentData[] = [];
  constructor(
    private readonly writer: StoreWriter,
    private readonly opts: WindowQueueOptions,
  ) {}

  /** Samples and spans waiting for the store. */
  get unwritten(): number {
    return this.waiting.reduce((n, w) => n + sizeOf(w), 0);
  }

  /** Queues a window and writes every waiting one, oldest first; false when the store refused one (a warning says so). */
  write(window: SegmentData): boolean {
    this.waiting.push(window);
    try {
      while (this.waiting.length) {
        const r = this.writer.appendSegment(this.waiting[0]!);
        this.waiting.shift();
        const b = this.writer.enforceBounds();
        this.opts.onWritten?.(r, b);
      }
      return true;
    } catch (e) {
      let dropped = 0;
      while (this.waiting.length > (this.opts.maxWindows ?? MAX_UNWRITTEN_WINDOWS)) dropped += sizeOf(this.waiting.shift()!);
      const hint = e instanceof UserError && e.hint ? ` (${e.hint})` : '';
      this.opts.onWarning(
        `cannot write to the store: ${(e as Error).message}${hint}; ${this.unwritten} samples and spans kept to try again at the next flush` +
          (dropped ? `, ${dropped} older ones dropped` : ''),
      );
      return false;
    }
  }
}
