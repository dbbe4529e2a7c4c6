// Entry of the interactive flame view (`profctl flame` on a terminal): draws
// FlameApp with ink on the terminal's alternate screen, so the shell's
// scrollback is left as it was; redraws at the new size when the terminal is
// resized; returns when q or Ctrl-C quits. It owns the terminal for that
// time; it must not read profiles or build trees (the command does) and must
// not call process.exit (only cli.ts does).

import { render } from 'ink';
import type { ChalkInstance } from 'chalk';
import type { CallTree } from '../../query/call-tree.js';
import { FlameApp, type GraphPainter } from './views.js';

export interface InteractiveFlameOptions {
  /** The configured chalk (colors()). */
  chalk: ChalkInstance;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

const ENTER_ALTERNATE_SCREEN = '\u001b[?1049h\u001b[H';
const LEAVE_ALTERNATE_SCREEN = '\u001b[?1049l';
// Synchronized output: terminals that know it show ink's frame and the painted graph at once.
const BEGIN_SYNC = '\u001b[?2026h';
const END_SYNC = '\u001b[?2026l';

/** The graph rows, written under the header line; the cursor is put back where ink left it. */
function paintGraph(stdout: NodeJS.WriteStream, painter: GraphPainter): void {
  const out = ['\u001b7'];
  painter.lines.forEach((line, i) => out.push(`\u001b[${i + 2};1H${line}\u001b[0m\u001b[K`));
  out.push('\u001b8', END_SYNC);
  stdout.write(out.join(''));
}

function sizeOf(stdout: NodeJS.WriteStream): { columns: number; rows: number } {
  return { columns: stdout.columns > 0 ? stdout.columns : 80, rows: stdout.rows > 0 ? stdout.rows : 24 };
}

/** Shows the tree until the user quits; resolves with the exit code (0). */
export async function runInteractiveFlame(tree: CallTree, options: InteractiveFlameOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stdin = options.stdin ?? process.stdin;
  const chalk = options.chalk;
  stdout.write(ENTER_ALTERNATE_SCREEN);
  const painter: GraphPainter = { lines: [] };
  const view = (size: { columns: number; rows: number }) => <FlameApp tree={tree} chalk={chalk} columns={size.columns} rows={size.rows} painter={painter} />;
  // Ctrl-C arrives as a key in raw mode; the view quits on it so the screen is restored below.
  // ink calls onRender before it writes its frame; the graph is painted over it right after.
  const onRender = (): void => {
    stdout.write(BEGIN_SYNC);
    setImmediate(() => paintGraph(stdout, painter));
  };
  const app = render(view(sizeOf(stdout)), { stdout, stdin, exitOnCtrlC: false, patchConsole: true, onRender });
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
