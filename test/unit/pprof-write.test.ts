import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProfileBuilder } from '../../src/profile/model.js';
import { decodePprof, encodePprof } from '../../src/profile/pprof.js';
import { aggregateFunctions } from '../../src/query/aggregate.js';
import { parsePprofTags, parsePprofTop } from './pprof-top-text.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/pprof/${name}`, import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'profctl-pprof-write-'));

function goPprof(args: string[], file: string): string {
  return execFileSync('go', ['tool', 'pprof', ...args, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('encodePprof', () => {
  it('writes a Go profile back so that `go tool pprof -top` prints the same table', () => {
    const p = decodePprof(gunzipSync(fixture('go-cpu-labels.pb.gz')), 'cpu');
    const out = join(work, 'cpu.pb.gz');
    writeFileSync(out, encodePprof(p));
    const ours = parsePprofTop(goPprof(['-top', '-nodecount=0'], out));
    const theirs = parsePprofTop(fixture('go-cpu-labels.pprof-top.txt').toString());
    expect(ours).toEqual(theirs);
    // Inline annotations survive the round trip too.
    const inlineLines = (t: string) => t.split('\n').filter((l) => l.endsWith('(inline)')).map((l) => l.trim().split(/\s+/).slice(5).join(' '));
    expect(inlineLines(goPprof(['-top', '-nodecount=0'], out))).toEqual(inlineLines(fixture('go-cpu-labels.pprof-top.txt').toString()));
  });

  it('writes first the mapping where most samples were taken, which pprof shows as the file', () => {
    const b = new ProfileBuilder([{ type: 'samples', unit: 'count' }]);
    // Seen first: the dynamic loader and the kernel; most samples: the program.
    const start = b.frameId({ name: '_dl_start', module: 'ld-linux-x86-64.so.2', kind: 'native' });
    const sys = b.frameId({ name: 'do_syscall_64', module: '[kernel.kallsyms]', kind: 'kernel' });
    const hot = b.frameId({ name: 'hot', module: 'bench', kind: 'native' });
    const main = b.frameId({ name: 'main', module: 'bench', kind: 'native' });
    b.addSample({ stack: b.stackId([start]), values: [1] });
    b.addSample({ stack: b.stackId([sys, hot, main]), values: [1] }); // a kernel leaf counts for the program under it
    b.addSample({ stack: b.stackId([hot, main]), values: [1] });
    const out = join(work, 'main-first.pb.gz');
    writeFileSync(out, encodePprof(b.build()));
    const top = goPprof(['-top'], out);
    expect(top.split('\n')[0]).toBe('File: bench');
    // Every frame keeps its own module.
    const back = decodePprof(gunzipSync(readFileSync(out)), 'cpu');
    expect(back.frames.map((f) => `${f.name}@${f.module}`).sort()).toEqual(['_dl_start@ld-linux-x86-64.so.2', 'do_syscall_64@[kernel.kallsyms]', 'hot@bench', 'main@bench']);
  });

  it('keeps labels and carries the sample fields as labels pprof shows and profctl reads back', () => {
    const b = new ProfileBuilder([{ type: 'cpu', unit: 'nanoseconds' }], { period: 10_000_000, periodType: { type: 'cpu', unit: 'nanoseconds' } });
    const main = b.frameId({ name: 'main', module: 'app', kind: 'native' });
    const work1 = b.frameId({ name: 'work', module: 'app', kind: 'native' });
    const sys = b.frameId({ name: 'do_syscall_64', module: '[kernel.kallsyms]', kind: 'kernel' });
    b.addSample({ stack: b.stackId([work1, main]), values: [30_000_000], pid: 42, tid: 43, thread: 'worker-1', process: 'app', timeMs: 1_700_000_000_123.456, labels: { trace_id: 'abc', bytes: 512 } });
    b.addSample({ stack: b.stackId([sys, work1, main]), values: [10_000_000], pid: 42, tid: 44, thread: 'worker-2', process: 'app', timeMs: 1_700_000_000_200 });
    const p = b.build();
    p.labelUnits = { bytes: 'bytes' };
    const out = join(work, 'fields.pb.gz');
    writeFileSync(out, encodePprof(p));

    const tags = parsePprofTags(goPprof(['-tags'], out));
    expect([...tags.get('pid')!.keys()]).toEqual(['42']);
    expect([...tags.get('thread_comm')!.keys()].sort()).toEqual(['worker-1', 'worker-2']);
    expect([...tags.get('comm')!.keys()]).toEqual(['app']);
    expect([...tags.get('trace_id')!.keys()]).toEqual(['abc']);
    expect(tags.has('timestamp_ns')).toBe(true);

    const back = decodePprof(gunzipSync(readFileSync(out)), out);
    expect(back.samples.map((s) => [s.pid, s.tid, s.thread, s.process])).toEqual([
      [42, 43, 'worker-1', 'app'],
      [42, 44, 'worker-2', 'app'],
    ]);
    expect(back.samples[0]!.timeMs).toBeCloseTo(1_700_000_000_123.456, 3);
    expect(back.samples[0]!.labels).toEqual({ trace_id: 'abc', bytes: 512 });
    expect(back.labelUnits).toEqual({ bytes: 'bytes', timestamp_ns: 'nanoseconds' });
    expect(back.frames.find((f) => f.name === 'do_syscall_64')!.kind).toBe('kernel');
    expect(back.period).toBe(10_000_000);
  });

  it('round-trips random profiles: same per-function self and total, same labels', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    fc.assert(
      fc.property(
        fc.array(fc.record({ stack: fc.array(fc.tuple(fc.constantFrom(...names), fc.boolean()), { minLength: 1, maxLength: 6 }), v: fc.integer({ min: -5, max: 1e12 }), tag: fc.option(fc.constantFrom('x', 'y')) }), { minLength: 1, maxLength: 30 }),
        (samples) => {
          const b = new ProfileBuilder([{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }]);
          for (const s of samples) {
            // The outermost frame is never inline: inline frames need a caller to be inlined into.
            const ids = s.stack.map(([n, inl], i) => b.frameId({ name: n, module: 'm', kind: 'native', ...(inl && i < s.stack.length - 1 ? { inline: true } : {}) }));
            b.addSample({ stack: b.stackId(ids), values: [1, s.v], ...(s.tag ? { labels: { tag: s.tag } } : {}) });
          }
          const p = b.build();
          const back = decodePprof(encodePprof(p, { gzip: false }), 'rt');
          expect(aggregateFunctions(back, 1).rows).toEqual(aggregateFunctions(p, 1).rows);
          expect(back.samples.map((s) => s.labels?.tag)).toEqual(p.samples.map((s) => s.labels?.tag));
          expect(back.stacks.map((st) => st.map((f) => [back.frames[f]!.name, !!back.frames[f]!.inline]))).toEqual(
            p.stacks.map((st) => st.map((f) => [p.frames[f]!.name, !!p.frames[f]!.inline])),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('pprof varints', () => {
  it('round-trip int64 values exactly within the safe integer range, negatives included', async () => {
    const { WireReader, WireWriter } = await import('../../src/profile/protobuf-wire.js');
    const edge = [0, 1, 127, 128, 2 ** 28 - 1, 2 ** 28, 2 ** 31, 2 ** 32, 2 ** 35 + 7, Number.MAX_SAFE_INTEGER, -1, -2, -(2 ** 31), -(2 ** 32) - 5, Number.MIN_SAFE_INTEGER];
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...edge), fc.maxSafeInteger(), fc.integer())), (values) => {
        const w = new WireWriter(8);
        for (const v of values) w.varint(v);
        const r = new WireReader(w.finish());
        expect(values.map(() => r.varint())).toEqual(values);
        expect(r.pos).toBe(r.end);
      }),
    );
  });
});
