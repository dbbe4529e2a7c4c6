import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/errors.js';
import { decodePprof } from '../../src/profile/pprof.js';
import { WireWriter } from '../../src/profile/protobuf-wire.js';
import { aggregateFunctions } from '../../src/query/aggregate.js';
import { parsePprofTop, samePrinted } from './pprof-top-text.js';

const dir = new URL('../fixtures/pprof/', import.meta.url);
const raw = (name: string) => gunzipSync(readFileSync(new URL(name, dir)));
const text = (name: string) => readFileSync(new URL(name, dir), 'utf8');

function expectMatchesPprofTop(profileFile: string, topFile: string, sampleType: string) {
  const profile = decodePprof(raw(profileFile), profileFile);
  const ti = profile.sampleTypes.findIndex((t) => t.type === sampleType);
  expect(ti).toBeGreaterThanOrEqual(0);
  const { rows } = aggregateFunctions(profile, ti);
  const byName = new Map(rows.map((r) => [r.function, r]));
  const expected = parsePprofTop(text(topFile));
  expect(expected.length).toBeGreaterThan(5);
  for (const line of expected) {
    const row = byName.get(line.name);
    expect(row, line.name).toBeDefined();
    expect(samePrinted(row!.self, line.flat), `${line.name} self ${row!.self} vs ${line.flat}`).toBe(true);
    expect(samePrinted(row!.total, line.cum), `${line.name} total ${row!.total} vs ${line.cum}`).toBe(true);
  }
  // pprof -nodecount=0 lists every function: we must not have extra ones.
  expect(rows.length).toBe(expected.length);
}

describe('decodePprof on real Go profiles', () => {
  it('reads sample types, default type, labels, period and time', () => {
    const p = decodePprof(raw('go-cpu-labels.pb.gz'), 'cpu');
    expect(p.sampleTypes).toEqual([
      { type: 'samples', unit: 'count' },
      { type: 'cpu', unit: 'nanoseconds' },
    ]);
    expect(p.periodType).toEqual({ type: 'cpu', unit: 'nanoseconds' });
    expect(p.period).toBeGreaterThan(0);
    expect(p.timeMs).toBeGreaterThan(1.6e12);
    expect(p.durationMs).toBeCloseTo(1050, -1);
    const traceIds = new Set(p.samples.map((s) => s.labels?.trace_id).filter((t) => t !== undefined));
    expect(traceIds.size).toBe(3);
  });

  it('marks inlined callees (all lines of a location but the last) as inline', () => {
    const p = decodePprof(raw('go-cpu-labels.pb.gz'), 'cpu');
    const inline = new Set(p.frames.filter((f) => f.inline).map((f) => f.name));
    const printedInline = text('go-cpu-labels.pprof-top.txt')
      .split('\n')
      .filter((l) => l.endsWith(' (inline)'))
      .map((l) => parsePprofTop(`flat  flat%   sum%        cum   cum%\n${l}`)[0]!.name);
    expect(printedInline.length).toBeGreaterThan(0);
    expect([...inline].sort()).toEqual([...printedInline].sort());
  });

  it('gives every function the self and total `go tool pprof -top` prints (cpu)', () => {
    expectMatchesPprofTop('go-cpu-labels.pb.gz', 'go-cpu-labels.pprof-top.txt', 'cpu');
  });

  it('gives every function the self and total `go tool pprof -top` prints (heap, inuse_space)', () => {
    expectMatchesPprofTop('go-heap.pb.gz', 'go-heap.pprof-top.txt', 'inuse_space');
  });
});

describe('decodePprof on bad input', () => {
  const good = raw('go-cpu-labels.pb.gz');

  function expectBadInput(bytes: Uint8Array, pattern: RegExp) {
    let err: unknown;
    try {
      decodePprof(bytes, 'bad.pb');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as Error).message).toMatch(/^bad\.pb: /);
    expect((err as Error).message).toMatch(pattern);
  }

  it('rejects a truncated profile', () => {
    expectBadInput(good.subarray(0, Math.floor(good.length / 2)), /not a valid pprof|refers to|beyond/);
  });

  it('rejects a protobuf that is not a profile', () => {
    // A message with only an unknown field 15 (a string).
    expectBadInput(Uint8Array.from([0x7a, 0x03, 0x61, 0x62, 0x63]), /not a pprof profile/);
    expectBadInput(new Uint8Array(0), /not a pprof profile/);
    expectBadInput(Buffer.from('hello, world\n'), /not a (valid )?pprof/);
    expectBadInput(Buffer.from('{"json": true}'), /not a (valid )?pprof/);
  });

  it('rejects references to ids the profile does not define', () => {
    // A minimal profile: one sample type, one sample whose stack is the given locations.
    const build = (opts: { locationIds: number[]; values: number[]; location?: (w: WireWriter) => void }) => {
      const w = new WireWriter();
      w.message(1, (m) => {
        m.uintField(1, 1);
        m.uintField(2, 2);
      });
      w.message(2, (m) => {
        m.packedField(1, opts.locationIds);
        m.packedField(2, opts.values);
      });
      if (opts.location) w.message(4, opts.location);
      for (const s of ['', 'samples', 'count']) w.stringField(6, s);
      return w.finish();
    };
    expectBadInput(build({ locationIds: [7], values: [1] }), /location 7, which the profile does not define/);
    expectBadInput(build({ locationIds: [7], values: [] }), /0 values but the profile declares 1/);
    const withLocation = (fn: number, mapping: number) =>
      build({
        locationIds: [1],
        values: [1],
        location: (m) => {
          m.uintField(1, 1);
          m.uintField(2, mapping);
          m.message(4, (l) => l.uintField(1, fn));
        },
      });
    expectBadInput(withLocation(3, 0), /function 3, which the profile does not define/);
    expectBadInput(withLocation(0, 9), /mapping 9, which the profile does not define/);
  });

  it('never throws anything but BadInputError on random or mutated bytes', () => {
    const check = (bytes: Uint8Array) => {
      try {
        decodePprof(bytes, 'fuzz.pb');
      } catch (e) {
        if (!(e instanceof BadInputError)) throw e;
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (b) => check(b)), { numRuns: 2000 });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(good.length), (edits, cut) => {
        const b = Uint8Array.from(good.subarray(0, Math.max(cut, 1)));
        for (const [at, v] of edits) if (at < b.length) b[at] = v;
        check(b);
      }),
      { numRuns: 1000 },
    );
  });
});
