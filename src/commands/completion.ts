// profctl completion <shell>: prints the completion script generated from the option specs.
import { UserError } from '../errors.js';
import { completionScript } from '../docs/completions.js';

export async function run(args: string[]): Promise<number> {
  const shell = args[0] ?? '';
  const script = completionScript(shell);
  if (script === undefined) throw new UserError(`unknown shell '${shell}'`, 'use one of: bash, zsh, fish');
  process.stdout.write(script);
  return 0;
}
