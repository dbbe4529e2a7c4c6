import { describe, expect, it } from 'vitest';
import { ProfileBuilder, type Frame } from '../../src/profile/model.js';
import { aggregateFunctions } from '../../src/query/aggregate.js';

const fr = (name: string, module = 'app', inline = false): Frame => ({ name, module, kind: 'native', ...(inline ? { inline } : {}) });

function build(stacks: Array<[string[], number]>, inlineNames: string[] = []) {
  const b = new ProfileBuilder([{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }]);
  for (const [names, v] of stacks) {
    const ids = names.map((n) => b.frameId(fr(n.replace('@lib', ''), n.endsWith('@lib') ? 'lib.so' : 'app', inlineNames.includes(n))));
    b.addSample({ stack: b.stackId(ids), values: [1, v], thread: 'worker', tid: 7 });
  }
  return b.build();
}

describe('aggregateFunctions', () => {
  it('counts self at the leaf and total once per sample under recursion', () => {
    const p = build([
      [['c', 'b', 'b', 'a'], 10],
      [['b', 'a'], 5],
      [['a'], 1],
    ]);
    const { total, rows } = aggregateFunctions(p, 1);
    expect(total).toBe(16);
    const byName = Object.fromEntries(rows.map((r) => [r.function, r]));
    expect(byName.a).toMatchObject({ self: 1, total: 16 });
    expect(byName.b).toMatchObject({ self: 5, total: 15 });
    expect(byName.c).toMatchObject({ self: 10, total: 10 });
    expect(rows.map((r) => r.function)).toEqual(['c', 'b', 'a']);
  });

  it('merges inline and real frames of one function into one row, as pprof does', () => {
    const b = new ProfileBuilder([{ type: 'samples', unit: 'count' }]);
    const inl = b.frameId(fr('f', 'app', true));
    const real = b.frameId(fr('f', 'app', false));
    const main = b.frameId(fr('main'));
    b.addSample({ stack: b.stackId([inl, main]), values: [3] });
    b.addSample({ stack: b.stackId([real, main]), values: [2] });
    const { rows } = aggregateFunctions(b.build(), 0);
    expect(rows.find((r) => r.function === 'f')).toMatchObject({ self: 5, total: 5 });
  });

  it('groups by module and by thread', () => {
    const p = build([
      [['x@lib', 'a'], 4],
      [['a'], 1],
    ]);
    const mods = aggregateFunctions(p, 1, 'module');
    expect(mods.rows).toEqual([
      { key: 'lib.so', function: 'lib.so', module: 'lib.so', self: 4, total: 4 },
      { key: 'app', function: 'app', module: 'app', self: 1, total: 5 },
    ]);
    const threads = aggregateFunctions(p, 0, 'thread');
    expect(threads.rows).toEqual([{ key: 'worker (7)', function: 'worker (7)', module: '', self: 2, total: 2 }]);
  });
});
