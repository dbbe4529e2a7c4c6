// The interactive flame view's ink components: the header, the icicle
// graph, the top-functions table, the help overlay and the status lines,
// and FlameApp, which holds the state (through the reducer), takes keys and
// redraws on resize. The text of each part comes from screen-text.ts; these
// only lay lines out. They must not reach for process.stdout or exit the
// process: run-interactive.tsx owns the terminal.

import { Box, Text, useApp } from 'ink';
import { useEffect, useMemo, useReducer } from 'react';
import type { ChalkInstance } from 'chalk';
import type { CallTree } from '../../query/call-tree.js';
import { graphLines, headerLine, helpLines, statusLines, tableLines } from './screen-text.js';
import { tuiTheme, type TuiTheme } from './theme.js';
import { useFlameKeys } from './use-flame-keys.js';
import { reduceKey } from './key-map.js';
import { initialViewState, type ViewState } from './view-state.js';

function Lines({ lines }: { lines: string[] }) {
  return (
    <>
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate">
          {line === '' ? ' ' : line}
        </Text>
      ))}
    </>
  );
}

export function HeaderBar({ state, theme }: { state: ViewState; theme: TuiTheme }) {
  return <Lines lines={[headerLine(state, theme)]} />;
}

/**
 * Where the graph's rows go when the terminal paints them itself: ink turns
 * every character of its output into a styled cell, which for thousands of
 * coloured frames takes far longer than a key press may, so the runner
 * writes these rows straight to the terminal after ink draws the rest.
 */
export interface GraphPainter {
  /** The graph rows of the last frame; empty when the graph is not on screen. */
  lines: string[];
}

export function IcicleView({ state, theme, painter }: { state: ViewState; theme: TuiTheme; painter?: GraphPainter }) {
  const lines = graphLines(state, theme);
  if (!painter) return <Lines lines={lines} />;
  painter.lines = lines;
  return <Lines lines={lines.map(() => '')} />;
}

export function TopTableView({ state, theme }: { state: ViewState; theme: TuiTheme }) {
  return <Lines lines={tableLines(state, theme)} />;
}

export function HelpOverlay({ state, theme }: { state: ViewState; theme: TuiTheme }) {
  return <Lines lines={helpLines(state, theme)} />;
}

export function StatusLine({ state, theme }: { state: ViewState; theme: TuiTheme }) {
  return <Lines lines={statusLines(state, theme)} />;
}

/** One frame of the view for a given state. */
export function FlameScreen({ state, theme, painter }: { state: ViewState; theme: TuiTheme; painter?: GraphPainter }) {
  if (painter && (state.help || state.table.open)) painter.lines = [];
  return (
    <Box flexDirection="column" width={state.columns}>
      <HeaderBar state={state} theme={theme} />
      {state.help ? <HelpOverlay state={state} theme={theme} /> : state.table.open ? <TopTableView state={state} theme={theme} /> : <IcicleView state={state} theme={theme} {...(painter ? { painter } : {})} />}
      <StatusLine state={state} theme={theme} />
    </Box>
  );
}

export interface FlameAppProps {
  tree: CallTree;
  chalk: ChalkInstance;
  columns: number;
  rows: number;
  /** Set by the terminal runner: the graph rows are painted outside ink. */
  painter?: GraphPainter;
}

/** The interactive view: state, keys, resize. Quits (unmounts) on q or Ctrl-C. */
export function FlameApp({ tree, chalk, columns, rows, painter }: FlameAppProps) {
  const [state, dispatch] = useReducer(reduceKey, { columns, rows }, (size) => initialViewState(tree, size));
  const theme = useMemo(() => tuiTheme(chalk), [chalk]);
  const { exit } = useApp();
  useFlameKeys(dispatch);
  useEffect(() => {
    dispatch({ type: 'resize', columns, rows });
  }, [columns, rows]);
  useEffect(() => {
    if (state.quit) exit();
  }, [state.quit, exit]);
  if (state.quit) {
    if (painter) painter.lines = [];
    return null;
  }
  return <FlameScreen state={state} theme={theme} {...(painter ? { painter } : {})} />;
}
