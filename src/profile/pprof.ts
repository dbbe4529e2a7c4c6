// pprof reader and writer — placeholder until the pprof reader lands.
import type { Profile } from './model.js';
import { BadInputError } from '../errors.js';
export function decodePprof(_data: Uint8Array, source: string): Profile {
  throw new BadInputError(source, 'pprof reading is not implemented yet');
}
