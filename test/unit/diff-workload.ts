// Seeded synthetic workloads for the diff tests: a distribution over call
// stacks, and profiles drawn from it by random sampling, so "two runs of the
// same workload" and "a run with a real regression" can be made on demand and
// are the same on every run of the tests (fixed seeds, no Math.random).
import { ProfileBuilder, type Profile } from '../../src/profile/model.js';
import { seededRandom } from '../support/seeded-random.mjs';
export { seededRandom };


/** Root-first stacks ("main;handle;hash") with relative weights. */
export type Workload = Array<[stack: string, weight: number]>;

export const PERIOD_NS = 10_000_000;

/** A Go-like CPU profile: samples/count and cpu/nanoseconds, one record per distinct stack. */
export function profileFromCounts(counts: Array<[stack: string, count: number]>): Profile {
  const b = new ProfileBuilder(
    [
      { type: 'samples', unit: 'count' },
      { type: 'cpu', unit: 'nanoseconds' },
    ],
    { periodType: { type: 'cpu', unit: 'nanoseconds' }, period: PERIOD_NS },
  );
  for (const [stack, count] of counts) {
    if (count === 0) continue;
    const frames = stack
      .split(';')
      .reverse()
      .map((name) => b.frameId({ name, module: 'app', kind: 'native' }));
    b.addSample({ stack: b.stackId(frames), values: [count, count * PERIOD_NS] });
  }
  return b.build();
}

/** Draws `n` samples from the workload. */
export function sampleWorkload(workload: Workload, n: number, random: () => number): Profile {
  const sum = workload.reduce((s, [, w]) => s + w, 0);
  const counts = workload.map(([stack]) => [stack, 0] as [string, number]);
  for (let i = 0; i < n; i++) {
    let r = random() * sum;
    let j = 0;
    while (j < workload.length - 1 && r >= workload[j]![1]) r -= workload[j++]![1];
    counts[j]![1]++;
  }
  return profileFromCounts(counts);
}

/** A service-like workload: a few hot functions, a long tail, some runtime. */
export const serviceWorkload: Workload = [
  ['main;serve;handle;parseJSON', 18],
  ['main;serve;handle;parseJSON;runtime.mallocgc', 6],
  ['main;serve;handle;hash;sha256.block', 22],
  ['main;serve;handle;render;template.exec', 14],
  ['main;serve;handle;render;template.exec;runtime.memmove', 4],
  ['main;serve;handle;db.query;syscall.read', 9],
  ['main;serve;compress;flate.deflate', 11],
  ['main;serve;log.write;syscall.write', 5],
  ['runtime.gcBgMarkWorker;runtime.scanobject', 7],
  ['runtime.mcall;runtime.schedule;runtime.findRunnable', 3],
  ...Array.from({ length: 30 }, (_, i) => [`main;serve;handle;tail.fn${i}`, 0.2] as [string, number]),
];
