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

export function IcicleView({ state, theme }: { state: ViewState; theme: TuiTheme }) {
  return <Lines lines={graphLines(state, theme)} />;
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
export function FlameScreen({ state, theme }: { state: ViewState; theme: TuiTheme }) {
  return (
    <Box flexDirection="column" width={state.columns}>
      <HeaderBar state={state} theme={theme} />
      {state.help ? <HelpOverlay state={state} theme={theme} /> : state.table.open ? <TopTableView state={state} theme={theme} /> : <IcicleView state={state} theme={theme} />}
      <StatusLine state={state} theme={theme} />
    </Box>
  );
}

export interface FlameAppProps {
  tree: CallTree;
  chalk: ChalkInstance;
  columns: number;
  rows: number;
}

/** The interactive view: state, keys, resize. Quits (unmounts) on q or Ctrl-C. */
export function FlameApp({ tree, chalk, columns, rows }: FlameAppProps) {
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
  if (state.quit) return null;
  return <FlameScreen state={state} theme={theme} />;
}
