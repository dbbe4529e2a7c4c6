// profctl export: converts or merges profiles (several --input merge) to
// pprof, folded stacks or speedscope JSON, on stdout or atomically to -o.
// Selection and filters are selectProfile's; formats are the writers' in
// src/profile/. The folded path uses the stackcollapse-perf option names
// (--pid alone, --tid, --kernel, --jit, --all, --addrs).
import { UserError } from '../errors.js';
import { foldedPrefixMode } from './export-folded.js';
import { selectProfile } from './select-profile.js';
import { openOutput, refuseBinaryOnTerminal } from './write-output.js';

export async function run(_args: string[], options: Record<string, unknown>): Promise<number> {
  const format = typeof options.format === 'string' ? options.format : 'pprof';
  const output = typeof options.output === 'string' ? options.output : undefined;
  if (format === 'pprof') refuseBinaryOnTerminal(output, 'gzipped pprof');
  if (!['pprof', 'folded', 'speedscope'].includes(format)) throw new UserError(`unknown export format ${format}`, 'use pprof, folded or speedscope');

  const { profile, typeIndex } = await selectProfile(options);
  const sink = openOutput(output);
  try {
    if (format === 'pprof') {
      const { encodePprof } = await import('../profile/pprof.js');
      // A chosen --sample-type becomes the default of the written profile.
      const chosen = typeof options.sampleType === 'string' ? { defaultSampleType: profile.sampleTypes[typeIndex]!.type } : {};
      sink.write(encodePprof({ ...profile, ...chosen }));
    } else if (format === 'speedscope') {
      const { writeSpeedscope } = await import('../profile/speedscope.js');
      sink.write(writeSpeedscope(profile, { typeIndex }));
      sink.write('\n');
    } else {
      const { exportFolded } = await import('../profile/folded.js');
      const mode = foldedPrefixMode(options);
      exportFolded(
        profile,
        {
          sampleType: profile.sampleTypes[typeIndex]!.type,
          kernel: options.kernel === true,
          jit: options.jit === true,
          all: options.all === true,
          pid: mode.pid,
          tid: mode.tid,
        },
        (s) => sink.write(s),
      );
    }
    sink.commit();
  } catch (e) {
    sink.abort();
    throw e;
  }
  return 0;
}
