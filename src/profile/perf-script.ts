// Reads `perf script` text output into the profile model, streaming: events
// are folded into the model as they end, so memory grows with the number of
// distinct stacks, not with the input. The rules for which events count and
// how frames are named follow FlameGraph's stackcollapse-perf (see
// perf-script-lines.ts), so `export --format folded` reproduces it exactly.
// It must not print: problems are counted and reported through opts.warn.
//
// Sample types: `samples/count` (one per event) and, when perf printed
// periods, the event's period summed (`cpu-clock/nanoseconds`,
// `cycles/count`, `page-faults/count`, ...), which is the default, as
// stackcollapse-perf weighs stacks by period. Only one event type is read:
// opts.event, else the first one seen; others are skipped and counted.
import { BadInputError } from '../errors.js';
import { ProfileBuilder, type Frame, type Profile, type Sample, type ValueType } from './model.js';
import type { PerfScriptOptions } from './read-file.js';
import { forEachLineBytes } from './text-lines.js';
import {
  dsoBaseName,
  dsoKind,
  frameName,
  headerTimeSeconds,
  parseEventHeader,
  parseStackLine,
  stripOffset,
  type EventHeader,
  type NamingOptions,
} from './perf-script-lines.js';

/** Where readers send notes ("ignored 3 lines ..."); the CLI's default is stderr. */
export type WarnFn = (message: string) => void;

export const defaultWarn: WarnFn = (message) => {
  process.stderr.write(`profctl: note: ${message}\n`);
};

// Cache values for a stack line: a frame id, several (an inline chain, leaf
// first), or one of these markers.
const SKIP_FRAME = -1;
const NOT_A_STACK_LINE = -2;
type LineFrames = number | number[];
/** Bounds the per-line cache; stacks with millions of distinct addresses just re-parse. */
const MAX_CACHED_LINES = 1 << 18;
/** Deeper "stacks" are input without event boundaries; frames past this are counted as invalid lines. */
const MAX_STACK_DEPTH = 1 << 16;

/** FNV-1a over a line's bytes, kept in small-integer range for fast Map keys. */
function hashBytes(buf: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 16777619);
  return h & 0x3fffffff;
}

function sameBytes(a: Buffer, buf: Buffer, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== buf[start + i]) return false;
  return true;
}

interface CachedLine {
  bytes: Buffer;
  frames: LineFrames;
  next: CachedLine | undefined;
}

/**
 * Frames of stack lines already seen, found by the line's bytes: perf repeats
 * the same "addr sym (dso)" lines over and over, so most lines are never
 * decoded or parsed. Keys are copies, so no input chunk stays alive.
 */
class LineCache {
  private byHash = new Map<number, CachedLine>();
  private size = 0;

  get(buf: Buffer, start: number, end: number, hash: number): LineFrames | undefined {
    for (let c = this.byHash.get(hash); c !== undefined; c = c.next) {
      if (c.bytes.length === end - start && c.bytes.compare(buf, start, end) === 0) return c.frames;
    }
    return undefined;
  }

  set(buf: Buffer, start: number, end: number, hash: number, frames: LineFrames): void {
    if (this.size >= MAX_CACHED_LINES) {
      this.byHash.clear();
      this.size = 0;
    }
    const bytes = Buffer.from(buf.subarray(start, end));
    this.byHash.set(hash, { bytes, frames, next: this.byHash.get(hash) });
    this.size++;
  }
}

interface OpenEvent {
  header: EventHeader;
  /** Frame ids, leaf first. */
  frames: number[];
}

function unitOfEvent(event: string): string {
  return event.startsWith('cpu-clock') || event.startsWith('task-clock') ? 'nanoseconds' : 'count';
}

/** The event name of a header for naming the value column, even when stackcollapse-perf would not filter on it. */
function looseEventName(line: string): string | undefined {
  const m = /\s(\S+):\s*$/.exec(line);
  return m?.[1];
}

export async function readPerfScript(
  chunks: AsyncIterable<Buffer>,
  source: string,
  opts: PerfScriptOptions & { warn?: WarnFn },
): Promise<Profile> {
  const warn = opts.warn ?? defaultWarn;
  const naming: NamingOptions = { addrs: opts.addrs === true, tidyJava: opts.tidyJava !== false };
  const perSample = opts.perSample === true;
  const builder = new ProfileBuilder([]);
  const aggregated = new Map<string, Sample>();
  const javaCache = new LineCache();
  const otherCache = new LineCache();

  let eventFilter = opts.event;
  let columnName: string | undefined;
  const skippedEvents = new Map<string, number>();
  let current: OpenEvent | null = null;
  let sawPeriod = false;
  let invalidLines = 0;
  let events = 0;

  const framesOfLine = (line: string, isJava: boolean): LineFrames => {
    const parsed = parseStackLine(line);
    if (parsed === undefined) return NOT_A_STACK_LINE;
    const symbol = stripOffset(parsed.symbol);
    if (symbol.charCodeAt(0) === 40 /* ( */) return SKIP_FRAME;
    const kind = dsoKind(parsed.dso);
    const module = parsed.dso === '[unknown]' ? '' : dsoBaseName(parsed.dso);
    const pieces = symbol.includes('->') ? symbol.split('->') : [symbol];
    const ids: number[] = [];
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      const name = frameName(piece, parsed.pc, parsed.dso, isJava, naming);
      const frame: Frame = { name, module, kind };
      if (i > 0) frame.inline = true;
      if (name !== piece && piece !== '[unknown]') frame.rawName = piece;
      ids.push(builder.frameId(frame));
    }
    // perf prints an inline chain caller first on one line; the model is leaf first.
    return ids.length === 1 ? ids[0]! : ids.reverse();
  };

  const onHeader = (header: EventHeader) => {
    if (columnName === undefined) columnName = header.event ?? looseEventName(header.line);
    if (header.event !== undefined) {
      if (eventFilter === undefined) eventFilter = header.event;
      else if (header.event !== eventFilter) {
        skippedEvents.set(header.event, (skippedEvents.get(header.event) ?? 0) + 1);
        return;
      }
    }
    // A header inside an open event (perf's MMAP/COMM records print no blank
    // line) replaces it and keeps its frames, as stackcollapse-perf does.
    current = { header, frames: current?.frames ?? [] };
  };

  const finishEvent = (event: OpenEvent) => {
    events++;
    const h = event.header;
    if (h.period !== undefined) sawPeriod = true;
    const weight = h.period ? h.period : 1;
    const stack = builder.stackId(event.frames);
    if (perSample) {
      const sample: Sample = { stack, values: [1, weight], tid: h.tid, thread: h.comm };
      if (h.pid !== undefined) sample.pid = h.pid;
      if (h.pid === h.tid) sample.process = h.comm;
      const t = headerTimeSeconds(h.line);
      if (t !== undefined) sample.timeMs = t * 1000;
      builder.addSample(sample);
      return;
    }
    const key = `${stack}\u0000${h.tid}\u0000${h.pid ?? ''}\u0000${h.comm}`;
    const found = aggregated.get(key);
    if (found) {
      found.values[0]! += 1;
      found.values[1]! += weight;
      return;
    }
    const sample: Sample = { stack, values: [1, weight], tid: h.tid, thread: h.comm };
    if (h.pid !== undefined) sample.pid = h.pid;
    if (h.pid === h.tid) sample.process = h.comm;
    aggregated.set(key, sample);
    builder.addSample(sample);
  };

  const onLine = (buf: Buffer, start: number, end: number) => {
    if (end === start) {
      if (current !== null) finishEvent(current);
      current = null;
      return;
    }
    const c0 = buf[start]!;
    if (c0 === 35 /* # */) return;
    if (c0 !== 32 && c0 !== 9) {
      const header = parseEventHeader(buf.toString('utf8', start, end));
      if (header !== undefined) {
        onHeader(header);
        return;
      }
    }
    const open: OpenEvent | null = current;
    if (open === null) return; // frames of a skipped event type
    const isJava = naming.tidyJava && open.header.comm === 'java';
    const cache = isJava ? javaCache : otherCache;
    const hash = hashBytes(buf, start, end);
    let frames = cache.get(buf, start, end, hash);
    if (frames === undefined) {
      frames = framesOfLine(buf.toString('utf8', start, end), isJava);
      cache.set(buf, start, end, hash, frames);
    }
    if (open.frames.length >= MAX_STACK_DEPTH) {
      // No blank lines for too long: not perf script output (perf caps stacks at a few hundred frames).
      invalidLines++;
    } else if (typeof frames === 'number') {
      if (frames >= 0) open.frames.push(frames);
      else if (frames === NOT_A_STACK_LINE) invalidLines++;
    } else {
      for (const id of frames) open.frames.push(id);
    }
  };

  let stats;
  try {
    stats = await forEachLineBytes(chunks, onLine);
  } catch (e) {
    if (e instanceof BadInputError) throw e;
    throw new BadInputError(source, `cannot read perf script output: ${(e as Error).message}`);
  }
  if (stats.unterminated) {
    throw new BadInputError(source, 'cut short: the last line ends without a newline (the file was truncated while written or copied)', 'copy it again, or rerun `perf script` into a new file');
  }
  // The input ends inside an event: its stack may be incomplete, and
  // stackcollapse-perf drops it too.
  const cutShort = current !== null;

  if (invalidLines + stats.overlong > 0) warn(`${source}: ignored ${invalidLines + stats.overlong} lines with invalid format`);
  if (cutShort) warn(`${source}: the last event is cut short (no blank line after it); ignored it`);
  if (skippedEvents.size > 0) {
    const list = [...skippedEvents].map(([name, n]) => `${n} ${name}`).join(', ');
    warn(`${source}: read only ${eventFilter} events; skipped ${list}`);
  }
  if (events === 0) {
    throw new BadInputError(
      source,
      'no perf script samples with call stacks found',
      'produce it with `perf record -g ...` then `perf script > out.txt`',
    );
  }

  const eventName = eventFilter ?? columnName ?? 'events';
  const sampleTypes: ValueType[] = [{ type: 'samples', unit: 'count' }];
  if (sawPeriod) sampleTypes.push({ type: eventName, unit: unitOfEvent(eventName) });
  else for (const s of builder.samples) s.values.length = 1;
  const profile = builder.build();
  profile.sampleTypes = sampleTypes;
  profile.defaultSampleType = sampleTypes[sampleTypes.length - 1]!.type;
  profile.periodType = { type: eventName, unit: sawPeriod ? unitOfEvent(eventName) : 'count' };
  if (perSample) profile.comments = [...(profile.comments ?? []), 'sample times are perf clock seconds × 1000 (usually time since boot), not wall-clock time'];
  return profile;
}
