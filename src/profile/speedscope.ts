// speedscope reader and writer — placeholder until it lands.
import type { Profile } from './model.js';
import { BadInputError } from '../errors.js';
export function readSpeedscope(_text: string, source: string): Profile {
  throw new BadInputError(source, 'speedscope reading is not implemented yet');
}
