// Small profiles for the flame graph tests, built with ProfileBuilder from
// folded-style lines ("root;child;leaf" → value), so each test states its
// input as a person would read it. Frames named k:... are kernel, j:... JIT.
import { ProfileBuilder, type FrameKind, type Profile } from '../../src/profile/model.js';

function kindOf(name: string): FrameKind {
  if (name.startsWith('k:')) return 'kernel';
  if (name.startsWith('j:')) return 'jit';
  return 'native';
}

/** One profile: each key is a root-first path, each value its samples (repeated keys add up). */
export function profileOf(paths: Array<[string, number]> | Record<string, number>, type = { type: 'samples', unit: 'count' }): Profile {
  const b = new ProfileBuilder([type]);
  const entries = Array.isArray(paths) ? paths : Object.entries(paths);
  for (const [path, value] of entries) {
    const names = path === '' ? [] : path.split(';');
    const ids = names.map((n) => b.frameId({ name: n, module: n.startsWith('k:') ? '[kernel]' : 'app', kind: kindOf(n) })).reverse();
    b.addSample({ stack: b.stackId(ids), values: [value] });
  }
  return b.build();
}
