// Per-function (or per-module, per-thread) self and total values of one
// sample type: the numbers behind `profctl top` and `profctl diff`. A pure
// pass over the model; it neither filters nor formats.
//
// The definitions follow `go tool pprof -top`, so the two agree row by row:
// - rows are keyed by function name alone (pprof's function granularity), so
//   an inlined frame and a real frame of the same function are one row;
// - self is the value of samples whose leaf frame is the function;
// - total is the value of samples with the function anywhere in the stack,
//   counted once per sample even when the function recurses.

import type { Profile } from '../profile/model.js';

export type AggregateBy = 'function' | 'module' | 'thread';

export interface FunctionRow {
  /** What rows are grouped by: the function name, the module or the thread. */
  key: string;
  function: string;
  module: string;
  self: number;
  total: number;
}

/** Module name shown for frames whose binary is unknown. */
export const UNKNOWN_MODULE = '[unknown]';

/** The row key of each frame, as small integers (frames of one function share one). */
function frameKeys(profile: Profile, by: 'function' | 'module'): { keyOfFrame: Int32Array; keys: string[]; moduleOfKey: string[] } {
  const ids = new Map<string, number>();
  const keys: string[] = [];
  const moduleOfKey: string[] = [];
  const keyOfFrame = new Int32Array(profile.frames.length);
  profile.frames.forEach((f, i) => {
    const key = by === 'function' ? f.name : f.module || UNKNOWN_MODULE;
    let id = ids.get(key);
    if (id === undefined) {
      id = keys.length;
      ids.set(key, id);
      keys.push(key);
      moduleOfKey.push(f.module);
    } else if (moduleOfKey[id] === '' && f.module !== '') {
      moduleOfKey[id] = f.module;
    }
    keyOfFrame[i] = id;
  });
  return { keyOfFrame, keys, moduleOfKey };
}

function threadKey(s: Profile['samples'][number]): { key: string; module: string } {
  const name = s.thread ?? (s.labels?.thread as string | undefined);
  const module = s.process ?? '';
  if (name !== undefined && s.tid !== undefined) return { key: `${name} (${s.tid})`, module };
  if (name !== undefined) return { key: name, module };
  if (s.tid !== undefined) return { key: `tid ${s.tid}`, module };
  return { key: '[unknown thread]', module };
}

export function aggregateFunctions(
  profile: Profile,
  typeIndex: number,
  by: AggregateBy = 'function',
): { total: number; rows: FunctionRow[] } {
  if (by === 'thread') return aggregateThreads(profile, typeIndex);

  // Sum values per stack first: profiles have far fewer stacks than samples.
  const stackValue = new Float64Array(profile.stacks.length);
  let total = 0;
  for (const s of profile.samples) {
    const v = s.values[typeIndex] ?? 0;
    if (v === 0) continue;
    stackValue[s.stack] = stackValue[s.stack]! + v;
    total += v;
  }

  const { keyOfFrame, keys, moduleOfKey } = frameKeys(profile, by);
  const self = new Float64Array(keys.length);
  const cum = new Float64Array(keys.length);
  // seen[k] === stamp means key k was already counted for the current stack.
  const seen = new Int32Array(keys.length).fill(-1);
  for (let si = 0; si < profile.stacks.length; si++) {
    const v = stackValue[si]!;
    if (v === 0) continue;
    const stack = profile.stacks[si]!;
    if (stack.length === 0) continue;
    self[keyOfFrame[stack[0]!]!]! += v;
    for (const frame of stack) {
      const k = keyOfFrame[frame]!;
      if (seen[k] === si) continue;
      seen[k] = si;
      cum[k]! += v;
    }
  }

  const rows: FunctionRow[] = [];
  for (let k = 0; k < keys.length; k++) {
    if (self[k] === 0 && cum[k] === 0) continue;
    rows.push({
      key: keys[k]!,
      function: keys[k]!,
      module: by === 'function' ? moduleOfKey[k]! : keys[k]!,
      self: self[k]!,
      total: cum[k]!,
    });
  }
  sortRows(rows, 'self');
  return { total, rows };
}

function aggregateThreads(profile: Profile, typeIndex: number): { total: number; rows: FunctionRow[] } {
  const byKey = new Map<string, FunctionRow>();
  let total = 0;
  for (const s of profile.samples) {
    const v = s.values[typeIndex] ?? 0;
    if (v === 0) continue;
    total += v;
    const { key, module } = threadKey(s);
    let row = byKey.get(key);
    if (!row) {
      row = { key, function: key, module, self: 0, total: 0 };
      byKey.set(key, row);
    }
    // A thread is every frame of its samples at once: self and total agree.
    row.self += v;
    row.total += v;
  }
  const rows = [...byKey.values()];
  sortRows(rows, 'self');
  return { total, rows };
}

/** Sorts rows by self or total, largest first; ties by the other value, then by name (stable output). */
export function sortRows(rows: FunctionRow[], by: 'self' | 'total'): FunctionRow[] {
  const other = by === 'self' ? 'total' : 'self';
  return rows.sort((a, b) => b[by] - a[by] || b[other] - a[other] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
