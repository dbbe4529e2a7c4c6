// Array helpers for lists that may be longer than a call takes as arguments:
// `target.push(...items)` and `Math.max(...items)` throw "Maximum call stack
// size exceeded" past about 120,000 items, and a day of spans, a trace of a
// batch job or a week of functions is more than that.

/** Appends every item of `items` to `target`, in order; returns `target`. */
export function pushAll<T>(target: T[], items: readonly T[]): T[] {
  for (let i = 0; i < items.length; i++) target.push(items[i]!);
  return target;
}
