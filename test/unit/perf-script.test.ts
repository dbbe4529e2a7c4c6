import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BadInputError } from '../../src/errors.js';
import { readPerfScript } from '../../src/profile/perf-script.js';
import { parseEventHeader, parseStackLine } from '../../src/profile/perf-script-lines.js';
import {
  chunksOf,
  collapseOptions,
  expectedFolded,
  fixture,
  fixtureNames,
  folded,
  optionFlags,
  readForCollapse,
} from './perf-script-helpers.js';

async function read(text: string, opts = {}) {
  const notes: string[] = [];
  const profile = await readPerfScript(chunksOf(Buffer.from(text)), 'in.txt', { ...opts, warn: (m) => notes.push(m) });
  return { profile, notes };
}

describe('folded output equals stackcollapse-perf for every fixture and option', () => {
  for (const name of fixtureNames) {
    for (const opt of collapseOptions) {
      it(`${name} --${opt}`, async () => {
        const profile = await readForCollapse(fixture(name), opt);
        expect(folded(profile, optionFlags(opt))).toEqual(expectedFolded(name, opt));
      });
    }
  }
});

describe('event headers', () => {
  it('reads comm with spaces, pid/tid, period and event', () => {
    expect(parseEventHeader('V8 WorkerThread 24636/25607 [000] 94564.109216:     100 cycles: ')).toMatchObject({
      comm: 'V8 WorkerThread',
      pid: 24636,
      tid: 25607,
      period: 100,
      event: 'cycles',
    });
  });
  it('reads a header with only the thread id and no period', () => {
    const h = parseEventHeader('java 12688 [002] 6544038.708352: cpu-clock:')!;
    expect(h).toMatchObject({ comm: 'java', tid: 12688, event: 'cpu-clock' });
    expect(h.pid).toBeUndefined();
    expect(h.period).toBeUndefined();
  });
  it('sees no event when no time precedes it, and none for tracepoints with arguments', () => {
    expect(parseEventHeader('func_ab 15294 cpu-clock: ')!.event).toBeUndefined();
    expect(parseEventHeader('program 69804 [000] 10223.364596: probe_libc:malloc: (7fa9195fe260)')!.event).toBeUndefined();
  });
  it('is not fooled by stack lines', () => {
    expect(parseEventHeader('\tffffffff8103ce3b native_safe_halt ([kernel.kallsyms])')).toBeUndefined();
  });
});

describe('stack lines', () => {
  it('takes the dso from the last parenthesised group', () => {
    expect(parseStackLine('\t  7f1e foo (anonymous namespace)::bar(int) (/usr/lib/libx.so)')).toEqual({
      pc: '7f1e',
      symbol: 'foo (anonymous namespace)::bar(int)',
      dso: '/usr/lib/libx.so',
    });
  });
  it('rejects lines without a dso', () => {
    expect(parseStackLine('\t  7f1e foo')).toBeUndefined();
  });
});

describe('the model', () => {
  it('classifies frames and keeps process, thread and period', async () => {
    const { profile } = await read(
      [
        'java 100/101 [000] 10.000100:    2000 cpu-clock: ',
        '\tffffffff81000000 native_safe_halt+0x6 ([kernel.kallsyms])',
        '\t    7f0000001000 Lcom/example/Foo;.bar(I)V+0x10 (/tmp/perf-100.map)',
        '\t    7f0000002000 start_thread (/lib/x86_64-linux-gnu/libc.so.6)',
        '',
        'java 100/101 [000] 10.000200:    3000 cpu-clock: ',
        '\tffffffff81000000 native_safe_halt+0x6 ([kernel.kallsyms])',
        '\t    7f0000001000 Lcom/example/Foo;.bar(I)V+0x10 (/tmp/perf-100.map)',
        '\t    7f0000002000 start_thread (/lib/x86_64-linux-gnu/libc.so.6)',
        '',
        '',
      ].join('\n'),
    );
    expect(profile.sampleTypes).toEqual([
      { type: 'samples', unit: 'count' },
      { type: 'cpu-clock', unit: 'nanoseconds' },
    ]);
    expect(profile.samples).toHaveLength(1);
    const s = profile.samples[0]!;
    expect(s).toMatchObject({ values: [2, 5000], pid: 100, tid: 101, thread: 'java' });
    const frames = profile.stacks[s.stack]!.map((id) => profile.frames[id]!);
    expect(frames.map((f) => [f.name, f.module, f.kind])).toEqual([
      ['native_safe_halt', '[kernel.kallsyms]', 'kernel'],
      ['com/example/Foo:.bar', 'perf-100.map', 'jit'],
      ['start_thread', 'libc.so.6', 'native'],
    ]);
  });

  it('keeps one sample per event with its time when asked', async () => {
    const text = fixture('perf-dd-stacks-01').toString();
    const { profile } = await read(text, { perSample: true });
    expect(profile.samples.length).toBe(10); // 11 events, the last one has no closing blank line
    expect(profile.samples[0]!.timeMs).toBeCloseTo(666709771.979, 3);
  });

  it('reads only the first event type and says what it skipped', async () => {
    const { profile, notes } = await read(fixture('perf-cycles-instructions-01').toString());
    expect(profile.periodType?.type).toBe('instructions');
    expect(profile.samples.reduce((n, s) => n + s.values[0]!, 0)).toBe(333);
    expect(notes.join('\n')).toMatch(/read only instructions events; skipped 111 cycles/);
  });

  it('splits inline chains and marks the callees inline', async () => {
    const { profile } = await read('app 1 1.0: 1 cycles:\n\t 10 outer->inner+0x4 (/bin/a)\n\t 20 main (/bin/a)\n\n');
    expect(folded(profile)).toEqual(['app;main;outer;inner_[i] 1']);
  });
});

describe('bad input', () => {
  it('counts lines it cannot read and reports them in one note', async () => {
    const { profile, notes } = await read('app 1 1.0: 1 cycles:\n\t 10 main (/bin/a)\n\tgarbage\n\t!!\n\n');
    expect(profile.samples).toHaveLength(1);
    expect(notes).toEqual(['in.txt: ignored 2 lines with invalid format']);
  });
  it('rejects input cut short mid-line: one line naming the file, nothing half-read', async () => {
    await expect(read('app 1 1.0: 1 cycles:\n\t 10 main (/bin/a)\n\napp 1 1.1: 1 cycles:\n\t 10 ma')).rejects.toThrow(/^in\.txt: cut short: the last line ends without a newline/);
  });
  it('leaves out a last event with no blank line after it, as stackcollapse-perf does, and says so', async () => {
    const { profile, notes } = await read('app 1 1.0: 1 cycles:\n\t 10 main (/bin/a)\n\napp 1 1.1: 1 cycles:\n\t 10 main (/bin/a)\n');
    expect(profile.samples).toHaveLength(1);
    expect(notes.some((n) => /cut short/.test(n))).toBe(true);
  });
  it('does not let an input without event boundaries grow one stack without bound', async () => {
    const text = `app 1 1.0: 1 cycles:\n${'\t 10 main (/bin/a)\n'.repeat(70000)}\n`;
    const { profile, notes } = await read(text);
    expect(profile.stacks[profile.samples[0]!.stack]!.length).toBe(65536);
    expect(notes[0]).toMatch(/ignored 4464 lines with invalid format/);
  });
  it('fails with a BadInputError naming the file when there are no samples', async () => {
    await expect(read('')).rejects.toThrow(BadInputError);
    await expect(read('# only comments\n')).rejects.toThrow(/^in\.txt: no perf script samples/);
    await expect(read('\u0000\u0001\u00ff binary \n\n\u0002')).rejects.toThrow(BadInputError);
  });
});

describe('streaming', () => {
  it('gives the same result however the input is cut into chunks', async () => {
    const data = Buffer.concat([fixture('perf-iperf-stacks-pidtid-01'), Buffer.from('\nfu\u00e9 1 1.0: 1 cycles:\n\t 10 caf\u00e9\u00e9 (/bin/\u00e9)\n\n')]);
    const whole = folded(await readForCollapse(data, 'tid'), { tid: true });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 8 }), async (sizes) => {
        expect(folded(await readForCollapse(data, 'tid', {}, sizes), { tid: true })).toEqual(whole);
      }),
      { numRuns: 25 },
    );
  });
});

describe('fuzzing: only BadInputError, never a hang', () => {
  const isBadInput = (e: unknown) => e instanceof BadInputError;
  async function readsOrRejectsCleanly(data: Buffer) {
    try {
      await readPerfScript(chunksOf(data, [997]), 'fuzz.txt', { warn: () => {} });
    } catch (e) {
      if (!isBadInput(e)) throw e;
    }
  }
  it('random bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 4000 }), (b) => readsOrRejectsCleanly(Buffer.from(b))), { numRuns: 300 });
  });
  it('random text built from perf script pieces', async () => {
    const piece = fc.constantFrom('java', ' ', '\t', '\n', '\n\n', '1234', '/', '5678', '[000]', '1.5:', ':', 'cycles:', '(', ')', '[unknown]', '+0x1f', '->', 'ffffffff81', '([kernel.kallsyms])', ';', '"', 'L', 'a/b');
    await fc.assert(fc.asyncProperty(fc.array(piece, { maxLength: 400 }), (parts) => readsOrRejectsCleanly(Buffer.from(parts.join('')))), { numRuns: 300 });
  });
  it('mutated fixtures', async () => {
    const base = fixture('perf-java-faults-01');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.nat({ max: 64 })), { maxLength: 20 }),
        async (edits) => {
          let data = Buffer.from(base);
          for (const [at, byte, cut] of edits) {
            data[at % data.length] = byte;
            if (cut > 60) data = data.subarray(0, Math.max(0, data.length - at));
          }
          await readsOrRejectsCleanly(data);
        },
      ),
      { numRuns: 200 },
    );
  });
});
