// Where a command's data goes: stdout, or a file given with -o written
// atomically (a temp file beside it, renamed over it at the end), so a
// failure half-way never leaves a partial file and readers never see one.
// Binary data refuses to go to a terminal.
import { closeSync, fsyncSync, lstatSync, openSync, readlinkSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';

export interface OutputSink {
  write(data: string | Uint8Array): void;
  /** Makes the output visible (renames the temp file); call once, after the last write. */
  commit(): void;
  /** Throws away what was written (removes the temp file). */
  abort(): void;
}

/** Refuses binary output on a terminal before any work is done. */
export function refuseBinaryOnTerminal(output: string | undefined, what: string): void {
  if ((output === undefined || output === '-') && process.stdout.isTTY) {
    throw new UserError(`refusing to write ${what} (binary) to the terminal`, '-o FILE or redirect stdout to a file: > profile.pb.gz');
  }
}

export function openOutput(output: string | undefined): OutputSink {
  if (output === undefined || output === '-') {
    return {
      write: (data) => void process.stdout.write(data),
      commit: () => {},
      abort: () => {},
    };
  }
  if (output === '') throw new UserError('-o: empty path', 'give a file name, or - for standard output');
  let existing: Stats | undefined;
  try {
    existing = statSync(output);
  } catch {
    existing = undefined;
  }
  // A device, a FIFO or /dev/stdout: written in place. Renaming a temp file over
  // it would replace /dev/null itself with a regular file.
  if (existing && !existing.isFile()) return openInPlace(output);
  // A symlink keeps pointing at its file, even one not there yet: the temp file goes beside the target.
  const target = linkTarget(output);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'w', 0o644);
  } catch (e) {
    throw cannotWrite(output, e, 'check that the directory exists and is writable');
  }
  const close = closeOnce(fd);
  return {
    write(data) {
      try {
        writeAll(fd, data);
      } catch (e) {
        this.abort();
        throw cannotWrite(output, e, 'is the disk full?');
      }
    },
    commit() {
      try {
        fsyncSync(fd);
        close();
        renameSync(tmp, target);
      } catch (e) {
        this.abort();
        throw cannotWrite(output, e, 'check that the directory exists and is writable');
      }
    },
    abort() {
      close();
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
    },
  };
}

/** Writes straight into something that is not a regular file; nothing to rename, nothing to take back. */
function openInPlace(output: string): OutputSink {
  let fd: number;
  try {
    fd = openSync(output, 'w');
  } catch (e) {
    throw cannotWrite(output, e);
  }
  const close = closeOnce(fd);
  return {
    write(data) {
      try {
        writeAll(fd, data);
      } catch (e) {
        close();
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') throw e;
        throw cannotWrite(output, e);
      }
    },
    commit: close,
    abort: close,
  };
}

function writeAll(fd: number, data: string | Uint8Array): void {
  if (typeof data === 'string') writeSync(fd, data);
  else {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off);
  }
}

/** Closes fd the first time it is called; later calls do nothing. */
function closeOnce(fd: number): () => void {
  let open = true;
  return () => {
    if (open) closeSync(fd);
    open = false;
  };
}

function cannotWrite(output: string, e: unknown, hint?: string): UserError {
  return new UserError(`cannot write ${output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, hint);
}

/** Where a path's symlinks lead, followed one by one (the last may not exist yet); the path itself when it is no link. */
function linkTarget(path: string): string {
  let p = path;
  for (let hops = 0; hops < 40; hops++) {
    try {
      if (!lstatSync(p).isSymbolicLink()) return p;
      p = resolve(dirname(p), readlinkSync(p));
    } catch {
      return p;
    }
  }
  return p;
}
