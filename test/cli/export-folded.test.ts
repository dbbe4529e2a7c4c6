// Spawns bin/profctl (run `npx tsc -p .` first): folded export of perf script
// input must print what stackcollapse-perf prints, for every fixture and option.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'profctl');
const fixtures = join(root, 'test', 'fixtures', 'perf-script');
const names = readdirSync(fixtures).filter((f) => f.endsWith('.txt')).map((f) => f.replace(/\.txt$/, ''));
const opts = ['default', 'pid', 'tid', 'kernel', 'jit', 'all', 'addrs'];

function profctl(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const sortedLines = (s: string) => s.split('\n').filter((l) => l !== '').sort();

describe('profctl export --format folded of perf script input', () => {
  for (const name of names) {
    it(`${name}: every stackcollapse-perf option`, () => {
      for (const opt of opts) {
        const r = profctl(['export', '--input', join(fixtures, `${name}.txt`), '--format', 'folded', ...(opt === 'default' ? [] : [`--${opt}`])]);
        expect(r.status, r.stderr).toBe(0);
        const want = readFileSync(join(fixtures, 'results', `${name}-collapsed-${opt}.txt`), 'utf8');
        expect(sortedLines(r.stdout), `--${opt}`).toEqual(sortedLines(want));
      }
    });
  }

  it('writes to -o and reads folded input back the same', () => {
    const dir = mkdtempSync(join(tmpdir(), 'profctl-folded-'));
    const out = join(dir, 'out.folded');
    const input = join(fixtures, 'perf-iperf-stacks-pidtid-01.txt');
    expect(profctl(['export', '--input', input, '--format', 'folded', '--all', '-o', out]).status).toBe(0);
    const again = profctl(['export', '--input', out, '--format', 'folded', '--all']);
    expect(again.status, again.stderr).toBe(0);
    expect(sortedLines(again.stdout)).toEqual(sortedLines(readFileSync(out, 'utf8')));
  });

  it('filters by pid when --pid has a value', () => {
    const r = profctl(['export', '--input', join(fixtures, 'perf-iperf-stacks-pidtid-01.txt'), '--format', 'folded', '--pid', '28735', '--tid']);
    expect(r.status, r.stderr).toBe(0);
    const lines = sortedLines(r.stdout);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l.startsWith('iperf-28735/')).toBe(true);
  });
});

describe('bad input: one line naming the file, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'profctl-bad-'));
  const cases: Array<[string, string | Buffer, string]> = [
    ['no-count.folded', 'main;a\nmain;b\n', 'folded'],
    ['garbage.txt', Buffer.from([0x41, 0x42, 0x0a, 0xff, 0xfe, 0x00, 0x0a, 0x0a]), 'perf-script'],
    ['no-stacks.txt', '# just a header\n', 'perf-script'],
  ];
  for (const [file, content, format] of cases) {
    it(`${file} as ${format}`, () => {
      const path = join(dir, file);
      writeFileSync(path, content);
      const r = profctl(['export', '--input', path, '--input-format', format, '--format', 'folded']);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      const first = r.stderr.split('\n')[0]!;
      expect(first).toContain(path);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  }
  it('a folded line without a count is bad input: one line naming the file and line, exit 2, no output', () => {
    const path = join(dir, 'some-bad.folded');
    writeFileSync(path, 'main;a 2\nmain;b\nmain;c 1\n');
    const r = profctl(['export', '--input', path, '--input-format', 'folded', '--format', 'folded']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/some-bad\.folded: line 2: no sample count at the end of "main;b"/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });
});
