// The folded-stacks path of `profctl export` (and of `flame --format
// folded`): turns the stackcollapse-perf option names (--pid alone, --tid,
// --kernel, --jit, --all, --addrs) into reader and writer options, selects the
// profile like every reading command, and writes the lines to stdout or -o.
// It owns no format logic: that lives in src/profile/folded.ts.
import { closeSync, openSync, writeSync } from 'node:fs';
import { UserError } from '../errors.js';
import { exportFolded } from '../profile/folded.js';
import { selectProfile } from './select-profile.js';

/** stackcollapse-perf's --pid is `--pid` without a value; `--pid 1234` filters instead. */
export function foldedPrefixMode(options: Record<string, unknown>): { pid: boolean; tid: boolean } {
  return { pid: options.pid === true, tid: options.tid === true };
}

export async function runFoldedExport(options: Record<string, unknown>): Promise<number> {
  const { profile, typeIndex } = await selectProfile(options);
  const mode = foldedPrefixMode(options);
  const sampleType = profile.sampleTypes[typeIndex]?.type;
  const output = typeof options.output === 'string' ? options.output : undefined;
  let fd: number | undefined;
  if (output !== undefined && output !== '-') {
    try {
      fd = openSync(output, 'w', 0o644);
    } catch (e) {
      throw new UserError(`cannot write ${output}: ${(e as Error).message}`, 'check the directory exists and is writable');
    }
  }
  const write = fd !== undefined ? (s: string) => void writeSync(fd!, s) : (s: string) => void process.stdout.write(s);
  try {
    exportFolded(
      profile,
      {
        ...(sampleType !== undefined ? { sampleType } : {}),
        kernel: options.kernel === true,
        jit: options.jit === true,
        all: options.all === true,
        pid: mode.pid,
        tid: mode.tid,
      },
      write,
    );
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return 0;
}
