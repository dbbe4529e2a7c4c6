// Folded stacks ("root;caller;leaf 12"), the format of FlameGraph and
// inferno: a streaming reader (fractional counts as inferno allows, comments
// and blank lines skipped; a line without a count, or a last line without its
// newline, is bad input that names the file and line) and a
// writer whose output for perf-script input equals stackcollapse-perf's,
// including its annotations (_[k] kernel, _[j] JIT, _[i] inlined) and its
// process-name prefixes (comm, comm-pid, comm-pid/tid). Neither side prints
// or exits: notes go through a warn callback, output through a write callback.
import { BadInputError, UserError } from '../errors.js';
import { ProfileBuilder, sampleTypeIndex, type Frame, type FrameKind, type Profile, type Sample } from './model.js';
import { defaultWarn, type WarnFn } from './perf-script.js';
import { forEachLine } from './text-lines.js';

const annotations: Array<[string, FrameKind | 'inline']> = [
  ['_[k]', 'kernel'],
  ['_[j]', 'jit'],
  ['_[i]', 'inline'],
];

/** Splits "name_[k]" into the bare name and what its annotation says. */
function frameOfFoldedName(text: string): Frame {
  if (text.length > 4 && text.charCodeAt(text.length - 1) === 93 /* ] */ && text.charCodeAt(text.length - 4) === 95 /* _ */) {
    for (const [suffix, what] of annotations) {
      if (text.endsWith(suffix)) {
        const name = text.slice(0, text.length - 4);
        if (what === 'inline') return { name, module: '', kind: 'native', inline: true };
        return { name, module: '', kind: what };
      }
    }
  }
  return { name: text, module: '', kind: 'native' };
}

/** The count at the end of a folded line, or NaN when there is none. */
function parseCount(text: string): number {
  if (text.length === 0) return NaN;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (++dots > 1 || i === 0 || i === text.length - 1) return NaN;
    } else if (c < 48 || c > 57) return NaN;
  }
  return Number(text);
}

/** Reads folded stacks. Identical stacks are summed into one sample. */
export async function readFolded(chunks: AsyncIterable<Buffer>, source: string, opts: { warn?: WarnFn } = {}): Promise<Profile> {
  const warn = opts.warn ?? defaultWarn;
  const builder = new ProfileBuilder([{ type: 'samples', unit: 'count' }]);
  const frameIds = new Map<string, number>();
  const byStack = new Map<number, Sample>();
  let lines = 0;
  let lineNo = 0;

  const onLine = (raw: string) => {
    lineNo++;
    let end = raw.length;
    while (end > 0 && (raw.charCodeAt(end - 1) === 32 || raw.charCodeAt(end - 1) === 9)) end--;
    if (end === 0 || raw.charCodeAt(0) === 35 /* # */) return;
    const line = end === raw.length ? raw : raw.slice(0, end);
    const space = Math.max(line.lastIndexOf(' '), line.lastIndexOf('\t'));
    const count = space > 0 ? parseCount(line.slice(space + 1)) : NaN;
    if (!Number.isFinite(count)) {
      const shown = line.length > 60 ? `${line.slice(0, 57)}...` : line;
      throw new BadInputError(source, `line ${lineNo}: no sample count at the end of ${JSON.stringify(shown)}`, 'folded stacks are lines like "main;parse;lex 12": frames root first, then a count');
    }
    // The stack is everything before the one separating blank: a frame may
    // itself be a blank (stackcollapse-perf names a symbol-less frame " ").
    lines++;
    if (count === 0) return;
    const names = line.slice(0, space).split(';');
    const ids = new Array<number>(names.length);
    for (let i = 0; i < names.length; i++) {
      const text = names[i]!;
      let id = frameIds.get(text);
      if (id === undefined) {
        id = builder.frameId(frameOfFoldedName(text));
        frameIds.set(text, id);
      }
      ids[names.length - 1 - i] = id; // folded is root first; the model is leaf first
    }
    const stack = builder.stackId(ids);
    const found = byStack.get(stack);
    if (found) found.values[0]! += count;
    else {
      const sample: Sample = { stack, values: [count] };
      byStack.set(stack, sample);
      builder.addSample(sample);
    }
  };

  let stats;
  try {
    stats = await forEachLine(chunks, onLine);
  } catch (e) {
    if (e instanceof BadInputError) throw e;
    throw new BadInputError(source, `cannot read folded stacks: ${(e as Error).message}`);
  }
  if (stats.unterminated) {
    throw new BadInputError(source, `cut short: line ${lineNo} ends without a newline (the file was truncated while written or copied)`, 'copy it again, or write it anew');
  }
  if (lines === 0) throw new BadInputError(source, 'no folded stacks found', 'folded stacks are lines like "main;parse;lex 12": frames root first, then a count');
  if (stats.overlong > 0) warn(`${source}: ignored ${stats.overlong} lines longer than 1 MiB`);
  return builder.build();
}

export interface FoldedWriteOptions {
  /** Append _[k] to kernel frames (stackcollapse-perf --kernel). */
  kernel?: boolean;
  /** Append _[j] to JIT frames (stackcollapse-perf --jit). */
  jit?: boolean;
  /** Prefix stacks with "comm-pid" (stackcollapse-perf --pid). */
  pid?: boolean;
  /** Prefix stacks with "comm-pid/tid" (stackcollapse-perf --tid). */
  tid?: boolean;
}

function foldedFrameName(frame: Frame, opts: FoldedWriteOptions): string {
  let name = frame.name;
  // ';' separates frames and a newline ends the line: neither may appear in a name.
  if (name.includes(';')) name = name.replaceAll(';', ':');
  if (name.includes('\n')) name = name.replace(/[\r\n]/g, ' ');
  if (frame.inline) return `${name}_[i]`;
  if (opts.kernel && frame.kind === 'kernel') return `${name}_[k]`;
  if (opts.jit && frame.kind === 'jit') return `${name}_[j]`;
  return name;
}

/** The process prefix of a sample's line: comm, comm-pid or comm-pid/tid (perf's "?" for an unknown pid). */
function processPrefix(sample: Sample, opts: FoldedWriteOptions): string | undefined {
  const comm = sample.thread ?? sample.process;
  if (comm === undefined) return undefined;
  let prefix = comm;
  if (opts.tid) prefix = `${comm}-${sample.pid ?? '?'}/${sample.tid ?? '?'}`;
  else if (opts.pid) prefix = `${comm}-${sample.pid ?? '?'}`;
  return prefix.includes(' ') || prefix.includes(';') ? prefix.replaceAll(' ', '_').replaceAll(';', ':') : prefix;
}

/**
 * Writes one value column of a profile as folded stacks, sorted as
 * stackcollapse-perf sorts them. Lines that come out the same (samples that
 * differ only in what the prefix leaves out) are summed.
 */
export function writeFolded(profile: Profile, typeIndex: number, opts: FoldedWriteOptions, write: (s: string) => void): void {
  const names: Array<string | undefined> = new Array(profile.frames.length);
  const stackTexts: Array<string | undefined> = new Array(profile.stacks.length);
  const totals = new Map<string, number>();
  for (const sample of profile.samples) {
    const value = sample.values[typeIndex] ?? 0;
    if (value === 0) continue;
    let text = stackTexts[sample.stack];
    if (text === undefined) {
      const stack = profile.stacks[sample.stack] ?? [];
      const parts: string[] = [];
      for (let i = stack.length - 1; i >= 0; i--) {
        const id = stack[i]!;
        let name = names[id];
        if (name === undefined) name = names[id] = foldedFrameName(profile.frames[id]!, opts);
        parts.push(name);
      }
      text = parts.join(';');
      stackTexts[sample.stack] = text;
    }
    const prefix = processPrefix(sample, opts);
    const line = prefix === undefined ? text : text.length > 0 ? `${prefix};${text}` : prefix;
    if (line.length === 0) continue;
    totals.set(line, (totals.get(line) ?? 0) + value);
  }
  const lines = [...totals.keys()].sort();
  const batch: string[] = [];
  for (const line of lines) {
    batch.push(`${line} ${totals.get(line)}\n`);
    if (batch.length >= 4096) {
      write(batch.join(''));
      batch.length = 0;
    }
  }
  if (batch.length > 0) write(batch.join(''));
}

export interface FoldedExportOptions extends FoldedWriteOptions {
  /** Both annotations (stackcollapse-perf --all). */
  all?: boolean;
  /** Value column by sample type name; default: the profile's default. */
  sampleType?: string;
}

/** The export command's folded path: picks the value column and annotation set, then writes. */
export function exportFolded(profile: Profile, options: FoldedExportOptions, write: (s: string) => void): void {
  const typeIndex = sampleTypeIndex(profile, options.sampleType);
  if (typeIndex < 0) {
    const known = profile.sampleTypes.map((t) => t.type).join(', ');
    throw new UserError(`no sample type named ${options.sampleType}`, `this profile has: ${known}`);
  }
  writeFolded(
    profile,
    typeIndex,
    {
      kernel: options.kernel === true || options.all === true,
      jit: options.jit === true || options.all === true,
      pid: options.pid === true,
      tid: options.tid === true,
    },
    write,
  );
}
