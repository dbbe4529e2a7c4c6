// Splits a stream of byte chunks into text lines for the line-oriented
// readers (folded stacks, perf script). It decodes each chunk once as UTF-8
// (a multi-byte character cut by a chunk boundary is carried over) and hands
// lines out without the newline, so a reader never holds more than one chunk
// plus one line. It must not interpret the lines: that is each reader's job.
import { StringDecoder } from 'node:string_decoder';

/** A line longer than this is not text any reader understands; it is dropped, not buffered. */
export const MAX_LINE_CHARS = 1 << 20;

export interface LineStats {
  /** Lines dropped because they exceeded MAX_LINE_CHARS. */
  overlong: number;
  /**
   * The input had text and its last line had no newline: the tools that
   * write these formats end every line, so the file was most likely cut short.
   */
  unterminated: boolean;
}

/**
 * Calls onLine for every line of the input (without '\n' or a trailing '\r').
 * The last line is passed even without a final newline; `last` tells the
 * reader that it was cut short.
 */
export async function forEachLine(
  chunks: AsyncIterable<Buffer>,
  onLine: (line: string, last: boolean) => void,
): Promise<LineStats> {
  const decoder = new StringDecoder('utf8');
  const stats: LineStats = { overlong: 0, unterminated: false };
  let carry = '';
  // Set while skipping the rest of an overlong line up to its newline.
  let skipping = false;
  const emit = (line: string, last: boolean) => {
    const n = line.length;
    onLine(n > 0 && line.charCodeAt(n - 1) === 13 ? line.slice(0, n - 1) : line, last);
  };
  for await (const chunk of chunks) {
    const text = decoder.write(chunk);
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      if (skipping) {
        skipping = false;
      } else if (carry.length > 0) {
        const line = carry + text.slice(start, nl);
        carry = '';
        if (line.length > MAX_LINE_CHARS) stats.overlong++;
        else emit(line, false);
      } else if (nl - start > MAX_LINE_CHARS) {
        stats.overlong++;
      } else {
        emit(text.slice(start, nl), false);
      }
      start = nl + 1;
    }
    if (!skipping && start < text.length) {
      carry = carry.length > 0 ? carry + text.slice(start) : text.slice(start);
      if (carry.length > MAX_LINE_CHARS) {
        stats.overlong++;
        carry = '';
        skipping = true;
      }
    }
  }
  const tail = carry + decoder.end();
  if (tail.length > 0 || skipping) stats.unterminated = true;
  if (!skipping && tail.length > 0 && tail.length <= MAX_LINE_CHARS) emit(tail, true);
  return stats;
}

/**
 * The byte-level variant for hot readers: calls onLine(buffer, start, end)
 * for each line (end excludes '\n' and a trailing '\r'), without decoding, so
 * a reader can recognise repeated lines by their bytes and decode only new
 * ones. A line split across chunks is joined into a small copy first.
 */
export async function forEachLineBytes(
  chunks: AsyncIterable<Buffer>,
  onLine: (buf: Buffer, start: number, end: number) => void,
): Promise<LineStats> {
  const stats: LineStats = { overlong: 0, unterminated: false };
  let carry: Buffer | undefined;
  let skipping = false;
  const emit = (buf: Buffer, start: number, end: number) => {
    if (end > start && buf[end - 1] === 13) end--;
    onLine(buf, start, end);
  };
  for await (const chunk of chunks) {
    let start = 0;
    const n = chunk.length;
    if (carry !== undefined || skipping) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        if (!skipping) {
          carry = Buffer.concat([carry!, chunk]);
          if (carry.length > MAX_LINE_CHARS) {
            stats.overlong++;
            carry = undefined;
            skipping = true;
          }
        }
        continue;
      }
      if (skipping) skipping = false;
      else {
        const line = Buffer.concat([carry!, chunk.subarray(0, nl)]);
        carry = undefined;
        if (line.length > MAX_LINE_CHARS) stats.overlong++;
        else emit(line, 0, line.length);
      }
      start = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      if (nl - start > MAX_LINE_CHARS) stats.overlong++;
      else emit(chunk, start, nl);
      start = nl + 1;
    }
    if (start < n) {
      // Copy: the chunk itself must not stay alive for the sake of one line.
      carry = Buffer.from(chunk.subarray(start));
      if (carry.length > MAX_LINE_CHARS) {
        stats.overlong++;
        carry = undefined;
        skipping = true;
      }
    }
  }
  if ((carry !== undefined && carry.length > 0) || skipping) stats.unterminated = true;
  if (carry !== undefined && !skipping && carry.length > 0) emit(carry, 0, carry.length);
  return stats;
}
