// Opens profile files: detects the format from the content (or takes it from
// --input-format), decompresses gzip as a stream, and hands the bytes to the
// format's reader. Text formats are streamed in chunks so a large input never
// needs its whole size in memory; pprof is one protobuf message and is read
// whole, as every pprof tool does.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { BadInputError } from '../errors.js';
import type { Profile } from './model.js';

export type InputFormat = 'pprof' | 'folded' | 'perf-script' | 'speedscope';

export interface PerfScriptOptions {
  /** Name unknown frames by address (stackcollapse-perf --addrs). */
  addrs?: boolean;
  /** Keep one sample per event with its time, instead of aggregating identical stacks. */
  perSample?: boolean;
  /** Strip the JVM's leading "L" from Java class names (default true; stackcollapse-perf skips it under --pid/--tid). */
  tidyJava?: boolean;
  /** Read only this event type (default: the first one in the input). */
  event?: string;
}

export interface ReadOptions {
  format?: InputFormat;
  perfScript?: PerfScriptOptions;
}

const HEAD_BYTES = 64 * 1024;

function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * Guesses the format of (decompressed) content from its first bytes.
 * pprof is binary protobuf whose first field is almost always sample_type
 * (field 1, length-delimited: 0x0a); text formats are told apart by their
 * first meaningful line.
 */
export function detectFormat(head: Buffer): InputFormat | undefined {
  if (head.length === 0) return undefined;
  let binary = 0;
  const n = Math.min(head.length, 512);
  for (let i = 0; i < n; i++) {
    const b = head[i]!;
    if (b === 0 || (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d)) binary++;
  }
  if (binary > 0) return 'pprof';
  const text = head.toString('utf8');
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') && /"\$schema"\s*:\s*"https:\/\/www\.speedscope\.app/.test(trimmed.slice(0, 4096))) return 'speedscope';
  if (trimmed.startsWith('{')) return 'speedscope';
  return detectTextFormat(text);
}

/**
 * Folded or perf script? perf script indents its stack lines and ends event
 * headers in "event:"; folded lines never start with a blank and end in a
 * count. Looks at up to 50 meaningful lines (the last one may be cut by the
 * head buffer, so it is dropped when others exist).
 */
function detectTextFormat(text: string): InputFormat | undefined {
  const lines = text.split('\n');
  if (lines.length > 1) lines.pop();
  let folded = 0;
  let seen = 0;
  for (const line of lines) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    if (/^\s/.test(line)) return 'perf-script';
    // A folded line is "frame;frame;frame <count>" (inferno allows a fractional count).
    if (/\s\d+(\.\d+)?\s*$/.test(line) && !/:\s*$/.test(line) && !/\d+\.\d+:\s/.test(line)) folded++;
    if (++seen >= 50) break;
  }
  if (seen === 0) return undefined;
  // No indented line: a single folded-looking line makes it folded, so a
  // folded file with bad lines gets the folded reader's message about them.
  return folded > 0 ? 'folded' : 'perf-script';
}

async function readHead(path: string): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw openError(path, e);
  }
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    // A directory opens; reading it is what fails (EISDIR).
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0).catch((e: unknown) => {
      throw openError(path, e);
    });
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export function openError(path: string, e: unknown): BadInputError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new BadInputError(path, 'no such file', 'check the path');
  if (code === 'EACCES') return new BadInputError(path, 'permission denied', 'run as a user who can read it, or copy it somewhere readable');
  if (code === 'EISDIR') return new BadInputError(path, 'is a directory, not a profile file');
  return new BadInputError(path, `cannot read: ${(e as Error).message}`);
}

/** The decompressed head of a file, enough to detect its format. */
async function contentHead(path: string, head: Buffer): Promise<Buffer> {
  if (!isGzip(head)) return head;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const gunzip = createGunzip();
    const src = createReadStream(path);
    const finish = () => {
      src.destroy();
      gunzip.destroy();
      resolve(Buffer.concat(chunks));
    };
    gunzip.on('data', (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (size >= HEAD_BYTES) finish();
    });
    gunzip.on('end', finish);
    gunzip.on('error', (e) => {
      if (size > 0) finish();
      else reject(new BadInputError(path, `not a valid gzip stream (${e.message})`, 'the file may be truncated; re-export or re-copy it'));
    });
    src.on('error', (e) => reject(openError(path, e)));
    src.pipe(gunzip);
  });
}

/** The file's decompressed content as a stream of chunks, with gzip errors named after the file. */
export function contentChunks(path: string, gzipped: boolean): AsyncIterable<Buffer> {
  const src = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!gzipped) {
    return (async function* () {
      try {
        for await (const c of src) yield c as Buffer;
      } catch (e) {
        throw openError(path, e);
      }
    })();
  }
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  src.on('error', (e) => gunzip.destroy(e));
  const out = src.pipe(gunzip);
  return (async function* () {
    try {
      for await (const c of out) yield c as Buffer;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code?.startsWith('Z_') || /unexpected end|incorrect header|invalid/.test((e as Error).message)) {
        throw new BadInputError(path, `truncated or corrupt gzip data (${(e as Error).message})`, 'the file may be cut short; re-export or re-copy it');
      }
      throw openError(path, e);
    }
  })();
}

async function readWhole(path: string, gzipped: boolean): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const c of contentChunks(path, gzipped)) parts.push(c);
  return Buffer.concat(parts);
}

/** Reads one profile file of any supported format. */
export async function readProfileFile(path: string, opts: ReadOptions = {}): Promise<Profile> {
  const head = await readHead(path);
  const gz = isGzip(head);
  const format = opts.format ?? detectFormat(await contentHead(path, head));
  if (format === undefined) throw new BadInputError(path, 'empty file, no samples to read');
  switch (format) {
    case 'pprof': {
      const { decodePprof } = await import('./pprof.js');
      return decodePprof(await readWhole(path, gz), path);
    }
    case 'folded': {
      const { readFolded } = await import('./folded.js');
      return readFolded(contentChunks(path, gz), path);
    }
    case 'perf-script': {
      const { readPerfScript } = await import('./perf-script.js');
      return readPerfScript(contentChunks(path, gz), path, opts.perfScript ?? {});
    }
    case 'speedscope': {
      const { readSpeedscope } = await import('./speedscope.js');
      return readSpeedscope(Buffer.from(await readWhole(path, gz)).toString('utf8'), path);
    }
  }
}

/** For tests and small inputs already in memory. */
export function gunzipIfNeeded(data: Uint8Array): Uint8Array {
  return isGzip(Buffer.from(data.buffer, data.byteOffset, Math.min(2, data.length))) ? gunzipSync(data) : data;
}

export { Readable };
