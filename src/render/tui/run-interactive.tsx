// Entry of the interactive flame view (`profctl flame` on a terminal): draws
// FlameApp with ink on the terminal's alternate screen, so the shell's
// scrollback is left as it was; redraws at the new size when the terminal is
// resized; returns when q or Ctrl-C quits. It owns the terminal for that
// time; it must not read profiles or build trees (the command does) and must
// not call process.exit (only cli.ts does).

import { render } from 'ink';
import type { ChalkInstance } from 'chalk';
import type { CallTree } from '../../query/call-tree.js';
import { FlameApp } from './views.js';

export interface InteractiveFlameOptions {
  /** The configured chalk (colors()). */
  chalk: ChalkInstance;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

const ENTER_ALTERNATE_SCREEN = '\u001b[?1049h\u001b[H';
const LEAVE_ALTERNATE_SCREEN = '\u001b[?1049l';

function sizeOf(stdout: NodeJS.WriteStream): { columns: number; rows: number } {
  return { columns: stdout.columns > 0 ? stdout.columns : 80, rows: stdout.rows > 0 ? stdout.rows : 24 };
}

/** Shows the tree until the user quits; resolves with the exit code (0). */
export async function runInteractiveFlame(tree: CallTree, options: InteractiveFlameOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stdin = options.stdin ?? process.stdin;
  const chalk = options.chalk;
  stdout.write(ENTER_ALTERNATE_SCREEN);
  const view = (size: { columns: number; rows: number }) => <FlameApp tree={tree} chalk={chalk} columns={size.columns} rows={size.rows} />;
  // Ctrl-C arrives as a key in raw mode; the view quits on it so the screen is restored below.
  const app = render(view(sizeOf(stdout)), { stdout, stdin, exitOnCtrlC: false, patchConsole: true });
  const onResize = (): void => {
    // A shrink leaves old lines behind: clear, then draw at the new size.
    app.clear();
    stdout.write('\u001b[2J\u001b[H');
    app.rerender(view(sizeOf(stdout)));
  };
  stdout.on('resize', onResize);
  try {
    await app.waitUntilExit();
  } finally {
    stdout.off('resize', onResize);
    app.cleanup();
    stdout.write(LEAVE_ALTERNATE_SCREEN);
  }
  return 0;
}
