import { describe, expect, it } from 'vitest';
import { ProfileBuilder, type Profile } from '../../src/profile/model.js';
import {
  commFilter,
  focusFrames,
  ignoreFrames,
  normalizeId,
  parseTag,
  pidFilter,
  serviceFilter,
  spanIdLabelFilter,
  tagFilter,
  traceIdLabelFilter,
} from '../../src/query/filter.js';
import { mergeProfiles } from '../../src/query/merge.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

function profile(): Profile {
  const b = new ProfileBuilder([{ type: 'samples', unit: 'count' }]);
  const f = (name: string) => b.frameId({ name, module: 'app', kind: 'native' });
  const [main, hash, sort, gc] = [f('main.main'), f('crypto/sha256.block'), f('sort.partition'), f('runtime.gcBgMarkWorker')];
  b.addSample({ stack: b.stackId([hash, main]), values: [5], labels: { trace_id: TRACE.toUpperCase(), span_id: SPAN, span_name: 'GET /checkout', bytes: 512 }, pid: 10, process: 'checkout' });
  b.addSample({ stack: b.stackId([sort, main]), values: [3], labels: { trace_id: 'ffff', profile_id: SPAN.toUpperCase() }, pid: 11, process: 'search' });
  b.addSample({ stack: b.stackId([gc]), values: [2], pid: 10, thread: 'gc-worker', labels: { service: 'checkout' } });
  return b.build();
}
const values = (p: Profile) => p.samples.map((s) => s.values[0]);

describe('filters', () => {
  it('focus keeps samples with a matching frame anywhere; ignore drops them', () => {
    expect(values(focusFrames(profile(), /sha256/))).toEqual([5]);
    expect(values(focusFrames(profile(), /^main\./))).toEqual([5, 3]);
    expect(values(ignoreFrames(profile(), /^main\./))).toEqual([2]);
    expect(values(ignoreFrames(profile(), /nothing/))).toEqual([5, 3, 2]);
  });

  it('tag matches string and numeric labels; one key ORs its values, several keys AND', () => {
    expect(values(tagFilter(profile(), [parseTag('span_name=GET /checkout')!]))).toEqual([5]);
    expect(values(tagFilter(profile(), [parseTag('bytes=512')!]))).toEqual([5]);
    expect(values(tagFilter(profile(), [parseTag('trace_id=ffff')!, parseTag(`trace_id=${TRACE.toUpperCase()}`)!]))).toEqual([5, 3]);
    expect(values(tagFilter(profile(), [parseTag('trace_id=ffff')!, parseTag('span_name=GET /checkout')!]))).toEqual([]);
    expect(parseTag('novalue')).toBeUndefined();
    expect(parseTag('k=a=b')).toEqual({ key: 'k', value: 'a=b' });
  });

  it('trace and span ids match in any case and in base64; span ids also match profile_id', () => {
    expect(values(traceIdLabelFilter(profile(), TRACE))).toEqual([5]);
    expect(values(traceIdLabelFilter(profile(), Buffer.from(TRACE, 'hex').toString('base64')))).toEqual([5]);
    expect(values(spanIdLabelFilter(profile(), SPAN.toUpperCase()))).toEqual([5, 3]);
    expect(values(traceIdLabelFilter(profile(), '0000'))).toEqual([]);
    expect(normalizeId('0x' + SPAN)).toBe(SPAN);
    expect(normalizeId('not an id!')).toBeUndefined();
  });

  it('pid, comm and service use the sample fields (service also its labels)', () => {
    expect(values(pidFilter(profile(), [10]))).toEqual([5, 2]);
    expect(values(commFilter(profile(), ['search']))).toEqual([3]);
    expect(values(commFilter(profile(), ['gc-worker']))).toEqual([2]);
    expect(values(serviceFilter(profile(), ['checkout']))).toEqual([5, 2]);
  });

  it('never copies frames or stacks', () => {
    const p = profile();
    const q = focusFrames(p, /main/);
    expect(q.frames).toBe(p.frames);
    expect(q.stacks).toBe(p.stacks);
  });
});

describe('mergeProfiles', () => {
  it('re-interns frames and sums like the inputs, filling absent sample types with 0', () => {
    const a = profile();
    const b = new ProfileBuilder([{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }]);
    b.addSample({ stack: b.stackId([b.frameId({ name: 'main.main', module: 'app', kind: 'native' })]), values: [1, 10] });
    const m = mergeProfiles([a, b.build()]);
    expect(m.sampleTypes.map((t) => t.type)).toEqual(['samples', 'cpu']);
    expect(m.samples.map((s) => s.values)).toEqual([[5, 0], [3, 0], [2, 0], [1, 10]]);
    expect(m.frames.filter((f) => f.name === 'main.main')).toHaveLength(1);
    expect(m.samples[0]!.labels?.span_name).toBe('GET /checkout');
  });
});

describe('tag over sample fields', () => {
  it('matches pid, comm and thread_comm whether they are labels or sample fields', () => {
    const p = profile();
    expect(values(tagFilter(p, [parseTag('pid=10')!]))).toEqual([5, 2]);
    expect(values(tagFilter(p, [parseTag('comm=search')!]))).toEqual([3]);
    expect(values(tagFilter(p, [parseTag('thread_comm=gc-worker')!]))).toEqual([2]);
  });
});
