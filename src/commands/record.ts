// profctl record — not yet implemented; see the open issues.
import { UserError } from '../errors.js';

export async function run(_args: string[], _options: Record<string, unknown>): Promise<number> {
  throw new UserError('profctl record is not implemented yet');
}
