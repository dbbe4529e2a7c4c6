// How many samples each function got, for the significance test of `profctl
// diff`. Shares are computed in whatever the user reads (CPU nanoseconds, say),
// but a statistical test needs counts of independent samples: 1.8 s of CPU is
// 180 samples at 100 Hz, not 1.8e9 events. This module finds or derives a
// count column; it must not aggregate (aggregateFunctions does) or test.
//
// Where counts come from, best first:
// 1. the chosen sample type is itself a count (samples/count, alloc_objects);
// 2. the profile has a `samples` type in unit `count` (pprof CPU profiles put
//    it first, beside cpu/nanoseconds);
// 3. a count type paired with the chosen one by name (inuse_space → inuse_objects);
// 4. value / period, when the period is in the chosen type's unit;
// 5. one per sample record. Readers that aggregate identical stacks make one
//    record stand for many samples, so this undercounts — it makes the test
//    more cautious, never more eager.

import type { Profile } from '../profile/model.js';

export type CountSource = 'count-type' | 'period' | 'records';

export interface SampleCountColumn {
  /** The profile, with a derived count column appended when none existed. */
  profile: Profile;
  countIndex: number;
  source: CountSource;
  /** Which column or rule, for notes: "samples/count", "value / 10000000 nanoseconds", ... */
  description: string;
}

function appendColumn(profile: Profile, type: string, valueOf: (values: number[]) => number): Profile {
  return {
    ...profile,
    sampleTypes: [...profile.sampleTypes, { type, unit: 'count' }],
    samples: profile.samples.map((s) => ({ ...s, values: [...s.values, valueOf(s.values)] })),
  };
}

export function sampleCountColumn(profile: Profile, typeIndex: number): SampleCountColumn {
  const types = profile.sampleTypes;
  const chosen = types[typeIndex];
  if (!chosen) throw new RangeError(`no sample type at index ${typeIndex}`);
  const named = (i: number) => ({ profile, countIndex: i, source: 'count-type' as const, description: `${types[i]!.type}/count` });

  if (chosen.unit === 'count') return named(typeIndex);
  const samples = types.findIndex((t) => t.type === 'samples' && t.unit === 'count');
  if (samples >= 0) return named(samples);
  const prefix = chosen.type.split('_')[0]!;
  const paired = types.findIndex((t) => t.unit === 'count' && t.type.includes('_') && t.type.split('_')[0] === prefix);
  if (paired >= 0) return named(paired);

  const period = profile.period ?? 0;
  if (period > 0 && profile.periodType?.unit === chosen.unit) {
    return {
      profile: appendColumn(profile, 'samples', (v) => Math.round((v[typeIndex] ?? 0) / period)),
      countIndex: types.length,
      source: 'period',
      description: `${chosen.type} / ${period} ${chosen.unit}`,
    };
  }
  return {
    profile: appendColumn(profile, 'samples', (v) => ((v[typeIndex] ?? 0) !== 0 ? 1 : 0)),
    countIndex: types.length,
    source: 'records',
    description: 'one per sample record',
  };
}
