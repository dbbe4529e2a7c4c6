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
  const stats: LineStats = { overlong: 0 };
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
  if (!skipping && tail.length > 0 && tail.length <= MAX_LINE_CHARS) emit(tail, true);
  return stats;
}
