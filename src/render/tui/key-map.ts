// The key map of the interactive flame view: which action a key press is,
// given what is on screen (typing a search, the help, the table, the graph),
// and reduceKey, which applies a key press to the state that is current when
// it arrives (keys typed faster than the screen redraws must not be read
// against a stale screen). Pure, so the key map is tested without a
// terminal; it must not read the terminal itself.

import type { Key } from 'ink';
import { reduce, tableRows, type ViewAction, type ViewState } from './view-state.js';

type Screen = Pick<ViewState, 'prompt' | 'help' | 'table' | 'rows'>;

/** Terminals send Backspace as DEL (ink calls it delete) or as ^H (backspace). */
function isErase(key: Partial<Key>): boolean {
  return key.backspace === true || key.delete === true;
}

export function keyAction(input: string, key: Partial<Key>, screen: Screen): ViewAction | undefined {
  if (key.ctrl && input === 'c') return { type: 'quit' };
  if (screen.prompt !== undefined) {
    if (key.escape) return { type: 'searchCancel' };
    if (key.return) return { type: 'searchSubmit' };
    if (isErase(key)) return { type: 'searchErase' };
    if (!key.ctrl && !key.meta && !key.tab && !key.upArrow && !key.downArrow && !key.leftArrow && !key.rightArrow && input !== '') {
      return { type: 'searchType', text: input };
    }
    return undefined;
  }
  if (screen.help) {
    if (input === 'q') return { type: 'quit' };
    if (input === '?' || key.escape) return { type: 'toggleHelp' };
    return undefined;
  }
  if (input === 'q') return { type: 'quit' };
  if (input === '?') return { type: 'toggleHelp' };
  if (key.tab) return { type: 'toggleTable' };
  if (input === 'd') return { type: 'toggleDiff' };
  if (screen.table.open) {
    const page = tableRows(screen);
    if (key.upArrow || input === 'k') return { type: 'tableMove', by: -1 };
    if (key.downArrow || input === 'j') return { type: 'tableMove', by: 1 };
    if (key.pageUp) return { type: 'tableMove', by: -page };
    if (key.pageDown || input === ' ') return { type: 'tableMove', by: page };
    if (key.home || input === 'g') return { type: 'tableMove', by: -Number.MAX_SAFE_INTEGER };
    if (key.end || input === 'G') return { type: 'tableMove', by: Number.MAX_SAFE_INTEGER };
    if (key.return) return { type: 'tableChoose' };
    if (key.escape) return { type: 'toggleTable' };
    return undefined;
  }
  if (key.upArrow || input === 'k') return { type: 'move', to: 'parent' };
  if (key.downArrow || input === 'j') return { type: 'move', to: 'child' };
  if (key.leftArrow || input === 'h') return { type: 'move', to: 'prev' };
  if (key.rightArrow || input === 'l') return { type: 'move', to: 'next' };
  if (key.return) return { type: 'zoomIn' };
  if (key.escape || isErase(key)) return { type: 'zoomOut' };
  if (input === 'r') return { type: 'reset' };
  if (input === '/') return { type: 'searchStart' };
  if (input === 'n') return { type: 'match', step: 1 };
  if (input === 'N') return { type: 'match', step: -1 };
  if (input === 'i') return { type: 'toggleInverted' };
  return undefined;
}


export interface KeyPress {
  type: 'key';
  input: string;
  key: Partial<Key>;
}

/** Applies one key press (or a burst of typed characters, as terminals deliver pastes) to the state. */
export function reduceKey(state: ViewState, press: KeyPress | ViewAction): ViewState {
  if (press.type !== 'key') return reduce(state, press);
  const { input, key } = press;
  const plain = !key.ctrl && !key.meta && !key.escape && !key.tab;
  if (plain && input.length > 1 && !input.includes('\u001b')) {
    let s = state;
    for (const ch of input) {
      const action = ch === '\r' || ch === '\n' ? keyAction('', { return: true }, s) : keyAction(ch, {}, s);
      if (action) s = reduce(s, action);
    }
    return s;
  }
  const action = keyAction(input, key, state);
  return action ? reduce(state, action) : state;
}
