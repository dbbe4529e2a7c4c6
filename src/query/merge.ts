// Merges several profiles into one (several --input files, several
// --baseline runs). A pure pass: frames and stacks are re-interned into one
// table, samples are copied with their stack ids and values remapped. It does
// not aggregate identical samples, so per-sample labels and times survive.

import { ProfileBuilder, type Profile, type ValueType } from '../profile/model.js';

function typeKey(t: ValueType): string {
  return `${t.type}/${t.unit}`;
}

/**
 * The sample types of the merged profile: the union of the inputs' types in
 * first-seen order. A profile that lacks a type contributes 0 to it (a folded
 * file has only samples/count; a Go CPU profile has samples and nanoseconds).
 */
export function mergeProfiles(profiles: Profile[]): Profile {
  if (profiles.length === 1) return profiles[0]!;
  if (profiles.length === 0) throw new Error('mergeProfiles needs at least one profile');
  const types: ValueType[] = [];
  const typeIndex = new Map<string, number>();
  for (const p of profiles) {
    for (const t of p.sampleTypes) {
      if (!typeIndex.has(typeKey(t))) {
        typeIndex.set(typeKey(t), types.length);
        types.push({ ...t });
      }
    }
  }
  const first = profiles[0]!;
  let start: number | undefined;
  let end: number | undefined;
  for (const p of profiles) {
    if (p.timeMs === undefined) continue;
    start = start === undefined ? p.timeMs : Math.min(start, p.timeMs);
    const e = p.timeMs + (p.durationMs ?? 0);
    end = end === undefined ? e : Math.max(end, e);
  }
  const comments = profiles.flatMap((p) => p.comments ?? []);
  const b = new ProfileBuilder(types, {
    ...(first.defaultSampleType !== undefined ? { defaultSampleType: first.defaultSampleType } : {}),
    ...(first.periodType ? { periodType: first.periodType } : {}),
    ...(first.period !== undefined ? { period: first.period } : {}),
    ...(start !== undefined ? { timeMs: start, durationMs: (end ?? start) - start } : {}),
    ...(comments.length ? { comments } : {}),
  });
  for (const p of profiles) {
    const frameMap = p.frames.map((f) => b.frameId(f));
    const stackMap = p.stacks.map((st) => b.stackId(st.map((fr) => frameMap[fr]!)));
    const columns = p.sampleTypes.map((t) => typeIndex.get(typeKey(t))!);
    const sameColumns = columns.length === types.length && columns.every((c, i) => c === i);
    for (const s of p.samples) {
      let values = s.values;
      if (!sameColumns) {
        values = new Array<number>(types.length).fill(0);
        columns.forEach((c, i) => (values[c] = s.values[i] ?? 0));
      }
      b.addSample({ ...s, stack: stackMap[s.stack]!, values });
    }
  }
  return b.build();
}
