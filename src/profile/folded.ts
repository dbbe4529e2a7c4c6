// Folded stacks reader and writer — placeholder until it lands.
import type { Profile } from './model.js';
import { BadInputError } from '../errors.js';
export async function readFolded(_chunks: AsyncIterable<Buffer>, source: string): Promise<Profile> {
  throw new BadInputError(source, 'folded reading is not implemented yet');
}
