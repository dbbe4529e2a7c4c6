// perf script reader — placeholder until it lands.
import type { Profile } from './model.js';
import type { PerfScriptOptions } from './read-file.js';
import { BadInputError } from '../errors.js';
export async function readPerfScript(_chunks: AsyncIterable<Buffer>, source: string, _opts: PerfScriptOptions): Promise<Profile> {
  throw new BadInputError(source, 'perf script reading is not implemented yet');
}
