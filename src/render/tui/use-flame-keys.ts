// The key-handling hook of the interactive flame view: feeds ink's
// useInput into the reducer as raw key presses; key-map.ts decides what each
// means against the state current when it is applied. It must not decide
// what keys do.

import { useInput } from 'ink';
import type { Dispatch } from 'react';
import type { KeyPress } from './key-map.js';

/** Feeds key presses to the reducer while the view is mounted. */
export function useFlameKeys(dispatch: Dispatch<KeyPress>): void {
  useInput((input, key) => {
    dispatch({ type: 'key', input, key });
  });
}
