// Where a command's data goes: stdout, or a file given with -o written
// atomically (a temp file beside it, renamed over it at the end), so a
// failure half-way never leaves a partial file and readers never see one.
// Binary data refuses to go to a terminal.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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
  const tmp = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'w', 0o644);
  } catch (e) {
    throw new UserError(`cannot write ${output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check that the directory exists and is writable');
  }
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    write(data) {
      try {
        if (typeof data === 'string') writeSync(fd, data);
        else {
          let off = 0;
          while (off < data.length) off += writeSync(fd, data, off);
        }
      } catch (e) {
        this.abort();
        throw new UserError(`cannot write ${output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'is the disk full?');
      }
    },
    commit() {
      fsyncSync(fd);
      close();
      renameSync(tmp, output);
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
