// The diff pass on the real Go CPU profile, split by request: the fixture's
// trace labels separate two hashing requests from one sorting request, so the
// same file yields "the same work twice" and "different work".
import { describe, expect, it } from 'vitest';
import { readProfileFile } from '../../src/profile/read-file.js';
import { traceIdLabelFilter } from '../../src/query/filter.js';
import { mergeProfiles } from '../../src/query/merge.js';
import { diffProfiles, findRegressions } from '../../src/query/diff.js';
import { sampleTypeIndex, type Profile } from '../../src/profile/model.js';

const FIXTURE = new URL('../fixtures/pprof/go-cpu-labels.pb.gz', import.meta.url).pathname;
const SORT_TRACE = 'a3ce929d0e0e47364bf92f3577b34da6';
const HASH_TRACES = ['80f198ee56343ba864fe8b2a57d3eff7', '9c0ab2e37e5a0d2b0ecf2cc4f0c2a1d3'];

const whole = await readProfileFile(FIXTURE);
const cpu = (p: Profile) => ({ profile: p, typeIndex: sampleTypeIndex(p) });
const sortRequest = traceIdLabelFilter(whole, SORT_TRACE);
const hashRequests = HASH_TRACES.map((t) => traceIdLabelFilter(whole, t));

describe('diff on go-cpu-labels.pb.gz', () => {
  it('reads CPU time and counts samples from samples/count', () => {
    const diff = diffProfiles(cpu(whole), cpu(whole));
    expect(diff.current.sampleType).toBe('cpu');
    expect(diff.current.countSource).toBe('count-type');
    // pprof: "Total samples = 1.78s" at a 10ms period.
    expect(diff.current.total).toBe(1.78e9);
    expect(diff.current.samples).toBe(178);
    expect(findRegressions(diff, 0)).toEqual([]);
  });

  it('sort request → hashing requests: hashing is a significant regression', () => {
    const diff = diffProfiles(cpu(sortRequest), cpu(mergeProfiles(hashRequests)));
    const regressed = findRegressions(diff, 5).map((r) => r.function);
    expect(regressed).toContain('crypto/sha256.block');
    expect(regressed.every((f) => !f.startsWith('sort.'))).toBe(true);
    const partition = diff.rows.find((r) => r.function === 'sort.partition')!;
    expect(partition.status).toBe('gone');
    expect(partition.significant).toBe(true); // a significant shrink, not a regression
  });

  it('one hashing request against the other: noise, no regression', () => {
    const diff = diffProfiles(cpu(hashRequests[0]!), cpu(hashRequests[1]!));
    expect(diff.baseline.samples + diff.current.samples).toBeGreaterThan(100);
    expect(findRegressions(diff, 0)).toEqual([]);
  });
});
