import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/errors.js';
import { ProfileBuilder } from '../../src/profile/model.js';
import { decodePprof } from '../../src/profile/pprof.js';
import { readSpeedscope, writeSpeedscope, SPEEDSCOPE_SCHEMA } from '../../src/profile/speedscope.js';
import { aggregateFunctions } from '../../src/query/aggregate.js';

const goCpu = () => decodePprof(gunzipSync(readFileSync(new URL('../fixtures/pprof/go-cpu-labels.pb.gz', import.meta.url))), 'cpu');

describe('speedscope writer', () => {
  it('writes a sampled profile in the schema: root-first stacks, weights, unit', () => {
    const p = goCpu();
    const doc = JSON.parse(writeSpeedscope(p, { typeIndex: 1 }));
    expect(doc.$schema).toBe(SPEEDSCOPE_SCHEMA);
    expect(doc.profiles).toHaveLength(1);
    const sp = doc.profiles[0];
    expect(sp).toMatchObject({ type: 'sampled', unit: 'nanoseconds', startValue: 0 });
    expect(sp.samples.length).toBe(sp.weights.length);
    expect(sp.endValue).toBe(sp.weights.reduce((a: number, b: number) => a + b, 0));
    // Root first: every Go stack here starts at a runtime or main entry point.
    const roots = new Set(sp.samples.map((s: number[]) => doc.shared.frames[s[0]!].name));
    for (const r of roots) expect(r).toMatch(/^(main\.main\.func1|runtime\.)/);
  });

  it('reads its own output back with the same per-function self and total', () => {
    const p = goCpu();
    const back = readSpeedscope(writeSpeedscope(p, { typeIndex: 1 }), 'rt.json');
    expect(back.sampleTypes).toEqual([{ type: 'cpu', unit: 'nanoseconds' }]);
    const strip = (rows: ReturnType<typeof aggregateFunctions>['rows']) => rows.map((r) => [r.function, r.self, r.total]);
    expect(strip(aggregateFunctions(back, 0).rows)).toEqual(strip(aggregateFunctions(p, 1).rows));
  });

  it('writes samples in time order and merges consecutive identical stacks', () => {
    const b = new ProfileBuilder([{ type: 'samples', unit: 'count' }]);
    const a = b.stackId([b.frameId({ name: 'a', module: '', kind: 'native' })]);
    const c = b.stackId([b.frameId({ name: 'c', module: '', kind: 'native' })]);
    b.addSample({ stack: c, values: [1], timeMs: 30 });
    b.addSample({ stack: a, values: [1], timeMs: 10 });
    b.addSample({ stack: a, values: [2], timeMs: 20 });
    const sp = JSON.parse(writeSpeedscope(b.build())).profiles[0];
    expect(sp.unit).toBe('none');
    expect(sp.samples).toEqual([[0], [1]]);
    expect(sp.weights).toEqual([3, 1]);
  });
});

describe('speedscope reader', () => {
  it('reads evented profiles: time between events goes to the open stack, one thread per profile', () => {
    const doc = {
      $schema: SPEEDSCOPE_SCHEMA,
      shared: { frames: [{ name: 'main' }, { name: 'work' }] },
      profiles: ['t1', 't2'].map((name) => ({
        type: 'evented',
        name,
        unit: 'milliseconds',
        startValue: 0,
        endValue: 10,
        events: [
          { type: 'O', at: 0, frame: 0 },
          { type: 'O', at: 2, frame: 1 },
          { type: 'C', at: 7, frame: 1 },
          { type: 'C', at: 10, frame: 0 },
        ],
      })),
    };
    const p = readSpeedscope(JSON.stringify(doc), 'ev.json');
    expect(p.sampleTypes[0]!.unit).toBe('milliseconds');
    const rows = Object.fromEntries(aggregateFunctions(p, 0).rows.map((r) => [r.function, [r.self, r.total]]));
    expect(rows).toEqual({ main: [10, 20], work: [10, 10] });
    expect(new Set(p.samples.map((s) => s.thread))).toEqual(new Set(['t1', 't2']));
  });

  it('names the file and the problem on bad input', () => {
    const bad = [
      '{"shared": {"frames": []}, "profiles": [',
      '{"profiles": []}',
      JSON.stringify({ shared: { frames: [{ name: 'a' }] }, profiles: [{ type: 'sampled', unit: 'none', samples: [[3]], weights: [1] }] }),
      JSON.stringify({ shared: { frames: [{ name: 'a' }] }, profiles: [{ type: 'sampled', unit: 'none', samples: [[0]], weights: [] }] }),
      JSON.stringify({ shared: { frames: [{ name: 'a' }, { name: 'b' }] }, profiles: [{ type: 'evented', unit: 'none', events: [{ type: 'O', at: 0, frame: 0 }, { type: 'C', at: 1, frame: 1 }] }] }),
      '42',
    ];
    for (const text of bad) {
      expect(() => readSpeedscope(text, 'x.json'), text).toThrow(BadInputError);
      try {
        readSpeedscope(text, 'x.json');
      } catch (e) {
        expect((e as Error).message).toMatch(/^x\.json: /);
      }
    }
  });
});

describe('speedscope reader fuzzing', () => {
  it('throws nothing but BadInputError on arbitrary JSON and on cut or mutated files', async () => {
    const fc = (await import('fast-check')).default;
    const check = (text: string) => {
      try {
        readSpeedscope(text, 'fuzz.json');
      } catch (e) {
        if (!(e instanceof BadInputError)) throw e;
      }
    };
    const shaped = fc.record({
      shared: fc.record({ frames: fc.array(fc.oneof(fc.record({ name: fc.string() }), fc.anything())) }),
      profiles: fc.array(fc.oneof(fc.record({ type: fc.constantFrom('sampled', 'evented', 'x'), unit: fc.constantFrom('none', 'bytes', 'seconds', 5), samples: fc.anything(), weights: fc.anything(), events: fc.anything() }), fc.anything())),
    });
    fc.assert(fc.property(fc.oneof(fc.anything(), shaped), (doc) => check(JSON.stringify(doc) ?? 'null')), { numRuns: 2000 });
    const good = writeSpeedscope(goCpu(), { typeIndex: 1 });
    fc.assert(fc.property(fc.nat(good.length), fc.string({ maxLength: 3 }), (at, junk) => check(good.slice(0, at) + junk + good.slice(at + junk.length))), { numRuns: 300 });
  });
});
