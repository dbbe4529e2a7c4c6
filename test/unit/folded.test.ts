import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BadInputError } from '../../src/errors.js';
import { readFolded, writeFolded } from '../../src/profile/folded.js';
import { detectFormat } from '../../src/profile/read-file.js';
import { chunksOf, fixture, fixtureNames, folded, readForCollapse } from './perf-script-helpers.js';

async function read(text: string) {
  const notes: string[] = [];
  const profile = await readFolded(chunksOf(Buffer.from(text), [7]), 'in.folded', { warn: (m) => notes.push(m) });
  return { profile, notes };
}

describe('readFolded', () => {
  it('sums identical stacks, keeps frames root first as leaf-first stacks', async () => {
    const { profile, notes } = await read('main;parse;lex 3\nmain;parse;lex 2\nmain;eval 1\n');
    expect(notes).toEqual([]);
    expect(profile.samples.map((s) => s.values[0])).toEqual([5, 1]);
    expect(profile.stacks[profile.samples[0]!.stack]!.map((id) => profile.frames[id]!.name)).toEqual(['lex', 'parse', 'main']);
  });
  it('accepts fractional counts, comments, blank lines and CRLF', async () => {
    const { profile } = await read('# comment\n\nmain;a 0.5\r\nmain;a 1.25\n');
    expect(profile.samples.map((s) => s.values[0])).toEqual([1.75]);
  });
  it('turns annotations into frame kinds', async () => {
    const { profile } = await read('app;main;sys_read_[k];Foo:.bar_[j];inl_[i] 1\n');
    const frames = profile.stacks[0]!.map((id) => profile.frames[id]!);
    expect(frames.map((f) => [f.name, f.kind, f.inline ?? false])).toEqual([
      ['inl', 'native', true],
      ['Foo:.bar', 'jit', false],
      ['sys_read', 'kernel', false],
      ['main', 'native', false],
      ['app', 'native', false],
    ]);
  });
  it('rejects a line without a count, naming the file and the line', async () => {
    await expect(read('main;a 2\nmain;b\nmain;c 1\n')).rejects.toThrow(/^in\.folded: line 2: no sample count at the end of "main;b"/);
    await expect(read('main;a 2\nmain;c x\n')).rejects.toThrow(/line 2: no sample count/);
    await expect(read('# a comment\n\nmain;a 2\n 4\n')).rejects.toThrow(/line 4: no sample count/);
  });
  it('rejects input cut short mid-line', async () => {
    await expect(read('main;a 2\nmain;b 3')).rejects.toThrow(/^in\.folded: cut short: line 2 ends without a newline/);
  });
  it('fails with a BadInputError naming the file when there are no stacks', async () => {
    await expect(read('')).rejects.toThrow(BadInputError);
    await expect(read('# only a comment\n')).rejects.toThrow(/^in\.folded: no folded stacks found/);
  });
});

describe('writeFolded', () => {
  it('round-trips stackcollapse output of every fixture', async () => {
    for (const name of fixtureNames) {
      const lines = folded(await readForCollapse(fixture(name), 'all'), { all: true });
      const again = await readFolded(chunksOf(Buffer.from(lines.join('\n') + '\n')), name, { warn: () => {} });
      expect(folded(again, { all: true })).toEqual(lines);
    }
  });
  it('keeps separators out of frame names', () => {
    let out = '';
    writeFolded(
      { sampleTypes: [{ type: 'samples', unit: 'count' }], frames: [{ name: 'a;b\nc', module: '', kind: 'native' }], stacks: [[0]], samples: [{ stack: 0, values: [2] }] },
      0,
      {},
      (s) => (out += s),
    );
    expect(out).toBe('a:b c 2\n');
  });
});

describe('format detection of text inputs', () => {
  it('tells folded from perf script', () => {
    expect(detectFormat(Buffer.from('main;a 2\nmain;b 0.5\n'))).toBe('folded');
    for (const name of fixtureNames) expect(detectFormat(fixture(name).subarray(0, 65536))).toBe('perf-script');
    expect(detectFormat(Buffer.from('func_ab 15294 cpu-clock: \n\t  4004f4 func_a (/tmp/func_ab)\n\n'))).toBe('perf-script');
  });
});

describe('fuzzing: only BadInputError, never a hang', () => {
  async function readsOrRejectsCleanly(data: Buffer) {
    try {
      await readFolded(chunksOf(data, [301]), 'fuzz', { warn: () => {} });
    } catch (e) {
      if (!(e instanceof BadInputError)) throw e;
    }
  }
  it('random bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), (b) => readsOrRejectsCleanly(Buffer.from(b))), { numRuns: 300 });
  });
  it('random folded-like text', async () => {
    const piece = fc.constantFrom('main', ';', ' ', '\t', '\n', '12', '.', '0.5', '#', '_[k]', '\r\n', '-1', 'e5');
    await fc.assert(fc.asyncProperty(fc.array(piece, { maxLength: 300 }), (parts) => readsOrRejectsCleanly(Buffer.from(parts.join('')))), { numRuns: 300 });
  });
});
