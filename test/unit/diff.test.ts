// The per-function diff pass: shares, deltas, new/gone, ordering, and the
// regression check on identical, noise-level and really regressed runs.
import { describe, expect, it } from 'vitest';
import { diffProfiles, findRegressions, type ProfileDiff } from '../../src/query/diff.js';
import { sampleCountColumn } from '../../src/query/diff-sample-counts.js';
import { ProfileBuilder } from '../../src/profile/model.js';
import { profileFromCounts, sampleWorkload, seededRandom, serviceWorkload, type Workload } from './diff-workload.js';

const CPU = 1; // cpu/nanoseconds in profileFromCounts

function row(diff: ProfileDiff, name: string) {
  const r = diff.rows.find((x) => x.function === name);
  if (!r) throw new Error(`no row for ${name}`);
  return r;
}

describe('diffProfiles on a hand-made pair', () => {
  // baseline: a 6, b 4 (10 samples); current: a 5, c 15 (20 samples)
  const baseline = profileFromCounts([
    ['main;a', 6],
    ['main;b', 4],
  ]);
  const current = profileFromCounts([
    ['main;a', 5],
    ['main;c', 15],
  ]);
  const diff = diffProfiles({ profile: baseline, typeIndex: CPU }, { profile: current, typeIndex: CPU });

  it('normalises each side by its own total', () => {
    expect(diff.baseline).toMatchObject({ total: 10 * 1e7, unit: 'nanoseconds', sampleType: 'cpu', samples: 10, countSource: 'count-type' });
    expect(diff.current.samples).toBe(20);
    expect(row(diff, 'a')).toMatchObject({ baselineSelfPct: 60, currentSelfPct: 25, deltaSelfPct: -35, status: 'both' });
    expect(row(diff, 'c')).toMatchObject({ baselineSelfPct: 0, currentSelfPct: 75, deltaSelfPct: 75, status: 'new' });
    expect(row(diff, 'b')).toMatchObject({ baselineSelfPct: 40, currentSelfPct: 0, deltaSelfPct: -40, status: 'gone' });
    expect(row(diff, 'main')).toMatchObject({ baselineSelfPct: 0, baselineTotalPct: 100, currentTotalPct: 100, deltaTotalPct: 0 });
  });

  it('sorts by self-share growth, then total-share growth', () => {
    expect(diff.rows.map((r) => r.function)).toEqual(['c', 'main', 'a', 'b']);
  });

  it('tests self counts with Fisher and adjusts with Holm over the functions with self samples', () => {
    // c: 0 of 10 vs 15 of 20 → P(X >= 15) = C(20,15)/C(30,15) = 15504/155117520, doubled
    const rawC = (2 * 15504) / 155117520;
    // b: 4 of 10 vs 0 of 20 → P(X <= 0) = C(10,4)/C(30,4) = 210/27405, doubled
    const rawB = (2 * 210) / 27405;
    expect(row(diff, 'c').rawPValue).toBeCloseTo(rawC, 12);
    expect(row(diff, 'b').rawPValue).toBeCloseTo(rawB, 12);
    // three tests (a, b, c; main has no self samples): c smallest ×3, b next ×2
    expect(row(diff, 'c').pValue).toBeCloseTo(3 * rawC, 12);
    expect(row(diff, 'b').pValue).toBeCloseTo(2 * rawB, 12);
    expect(row(diff, 'main')).toMatchObject({ rawPValue: 1, pValue: 1, significant: false });
    expect(row(diff, 'c').significant).toBe(true);
    expect(findRegressions(diff, 50).map((r) => r.function)).toEqual(['c']);
    expect(findRegressions(diff, 80)).toEqual([]);
  });
});

describe('the regression check', () => {
  it('finds nothing between identical inputs', () => {
    const p = sampleWorkload(serviceWorkload, 5000, seededRandom(1));
    const diff = diffProfiles({ profile: p, typeIndex: CPU }, { profile: p, typeIndex: CPU });
    expect(diff.rows.every((r) => r.deltaSelfPct === 0 && r.deltaTotalPct === 0 && !r.significant)).toBe(true);
    expect(findRegressions(diff, 0)).toEqual([]);
  });

  it('compares runs of different lengths by share', () => {
    const counts: Array<[string, number]> = [
      ['main;a', 7],
      ['main;b', 3],
    ];
    const short = profileFromCounts(counts);
    const long = profileFromCounts(counts.map(([s, c]) => [s, c * 9]));
    const diff = diffProfiles({ profile: short, typeIndex: CPU }, { profile: long, typeIndex: CPU });
    expect(diff.rows.every((r) => Math.abs(r.deltaSelfPct) < 1e-9 && !r.significant)).toBe(true);
  });

  it('rarely calls two runs of the same workload a regression (family-wise error at most alpha)', () => {
    const random = seededRandom(20260521);
    let alarms = 0;
    let alarmsOverOnePoint = 0;
    const pairs = 100;
    for (let i = 0; i < pairs; i++) {
      // Different lengths, as two CI runs have.
      const a = sampleWorkload(serviceWorkload, 2000, random);
      const b = sampleWorkload(serviceWorkload, 3000, random);
      const diff = diffProfiles({ profile: a, typeIndex: CPU }, { profile: b, typeIndex: CPU });
      if (findRegressions(diff, 0).length > 0) alarms++;
      if (findRegressions(diff, 1).length > 0) alarmsOverOnePoint++;
    }
    // Holm keeps the chance of any false alarm per pair at or below 5%.
    expect(alarms).toBeLessThanOrEqual(10);
    expect(alarmsOverOnePoint).toBeLessThanOrEqual(alarms);
  });

  it('finds a real regression, and only the function that regressed', () => {
    const random = seededRandom(7);
    // The same service, but hashing got 40% more expensive.
    const regressed: Workload = serviceWorkload.map(([s, w]) => [s, s.endsWith('sha256.block') ? w * 1.4 : w]);
    const base = sampleWorkload(serviceWorkload, 4000, random);
    const cur = sampleWorkload(regressed, 4000, random);
    const diff = diffProfiles({ profile: base, typeIndex: CPU }, { profile: cur, typeIndex: CPU });
    const block = row(diff, 'sha256.block');
    // True shares: 22/102 = 21.6% → 30.8/110.8 = 27.8%, about +6 points.
    expect(block.deltaSelfPct).toBeGreaterThan(3);
    expect(block.significant).toBe(true);
    expect(diff.rows[0]!.function).toBe('sha256.block');
    expect(findRegressions(diff, 2).map((r) => r.function)).toEqual(['sha256.block']);
    // Others' shares shrank; shrinking is never a regression.
    expect(findRegressions(diff, 0).map((r) => r.function)).toEqual(['sha256.block']);
  });

  it('does not call a small real change significant on too few samples', () => {
    const random = seededRandom(11);
    const regressed: Workload = serviceWorkload.map(([s, w]) => [s, s.endsWith('sha256.block') ? w * 1.4 : w]);
    const base = sampleWorkload(serviceWorkload, 60, random);
    const cur = sampleWorkload(regressed, 60, random);
    const diff = diffProfiles({ profile: base, typeIndex: CPU }, { profile: cur, typeIndex: CPU });
    expect(row(diff, 'sha256.block').significant).toBe(false);
  });
});

describe('sampleCountColumn', () => {
  it('prefers a count sample type', () => {
    const p = profileFromCounts([['main;a', 3]]);
    expect(sampleCountColumn(p, CPU)).toMatchObject({ countIndex: 0, source: 'count-type' });
    expect(sampleCountColumn(p, 0)).toMatchObject({ countIndex: 0, source: 'count-type' });
  });

  it('pairs heap types by name', () => {
    const b = new ProfileBuilder([
      { type: 'alloc_objects', unit: 'count' },
      { type: 'alloc_space', unit: 'bytes' },
      { type: 'inuse_objects', unit: 'count' },
      { type: 'inuse_space', unit: 'bytes' },
    ]);
    expect(sampleCountColumn(b.build(), 3).countIndex).toBe(2);
    expect(sampleCountColumn(b.build(), 1).countIndex).toBe(0);
  });

  it('divides by the period when there is no count type', () => {
    const b = new ProfileBuilder([{ type: 'cpu', unit: 'nanoseconds' }], { periodType: { type: 'cpu', unit: 'nanoseconds' }, period: 1e7 });
    const s = b.stackId([b.frameId({ name: 'a', module: '', kind: 'native' })]);
    b.addSample({ stack: s, values: [3e7] });
    b.addSample({ stack: s, values: [2e7 + 1] });
    const col = sampleCountColumn(b.build(), 0);
    expect(col.source).toBe('period');
    expect(col.profile.samples.map((x) => x.values[col.countIndex])).toEqual([3, 2]);
  });

  it('falls back to one per record, which only undercounts', () => {
    const b = new ProfileBuilder([{ type: 'wall', unit: 'microseconds' }]);
    const s = b.stackId([b.frameId({ name: 'a', module: '', kind: 'native' })]);
    b.addSample({ stack: s, values: [123456] });
    b.addSample({ stack: s, values: [0] });
    const col = sampleCountColumn(b.build(), 0);
    expect(col.source).toBe('records');
    expect(col.profile.samples.map((x) => x.values[col.countIndex])).toEqual([1, 0]);
  });
});
