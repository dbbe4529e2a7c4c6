// Decides whether output is coloured, once, for the whole process: off when
// stdout is not a terminal, when NO_COLOR is set (chalk does not check it),
// on --no-color and TERM=dumb; FORCE_COLOR forces it on. Renderers import the
// configured chalk instance from here rather than deciding for themselves.
import { Chalk, type ChalkInstance } from 'chalk';

export function colorLevel(opts: { noColor?: boolean; isTTY?: boolean; env?: NodeJS.ProcessEnv } = {}): 0 | 1 | 2 | 3 {
  const env = opts.env ?? process.env;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '0' && force !== 'false') {
    const n = Number(force);
    return (n >= 1 && n <= 3 ? n : 1) as 1 | 2 | 3;
  }
  if (opts.noColor) return 0;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (env.TERM === 'dumb') return 0;
  if (!(opts.isTTY ?? process.stdout.isTTY)) return 0;
  if (env.COLORTERM === 'truecolor' || env.COLORTERM === '24bit') return 3;
  return 2;
}

let instance: ChalkInstance = new Chalk({ level: colorLevel() });

/** Called once by the CLI after parsing --no-color. */
export function configureColor(noColor: boolean): void {
  instance = new Chalk({ level: colorLevel({ noColor }) });
}

export function colors(): ChalkInstance {
  return instance;
}
