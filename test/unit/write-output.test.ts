// Where -o writes: a regular file appears whole (temp file, then rename), a
// symlink keeps pointing at its file, and anything that is not a regular file
// (a FIFO, a device such as /dev/null) is written in place, never replaced.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openOutput } from '../../src/commands/write-output.js';

const dir = () => mkdtempSync(join(tmpdir(), 'profctl-out-'));

describe('openOutput', () => {
  it('writes a regular file whole, and nothing is left on abort', () => {
    const d = dir();
    const out = join(d, 'a.folded');
    const sink = openOutput(out);
    sink.write('main;f 1\n');
    expect(existsSync(out)).toBe(false);
    sink.commit();
    expect(readFileSync(out, 'utf8')).toBe('main;f 1\n');
    const again = openOutput(out);
    again.write('half');
    again.abort();
    expect(readFileSync(out, 'utf8')).toBe('main;f 1\n');
    expect(readdirSync(d)).toEqual(['a.folded']);
  });

  it('refuses an empty path in one line', () => {
    expect(() => openOutput('')).toThrow('-o: empty path');
  });

  it('keeps a symlink pointing at its file, even one that does not exist yet', () => {
    const d = dir();
    const link = join(d, 'latest.folded');
    symlinkSync('real.folded', link);
    for (const text of ['one 1\n', 'two 2\n']) {
      const sink = openOutput(link);
      sink.write(text);
      sink.commit();
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readlinkSync(link)).toBe('real.folded');
      expect(readFileSync(join(d, 'real.folded'), 'utf8')).toBe(text);
    }
  });

  it('writes into a FIFO in place instead of renaming a file over it', async () => {
    const d = dir();
    const fifo = join(d, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo]);
    let got = '';
    reader.stdout.on('data', (b) => (got += b));
    const done = new Promise((r) => reader.on('exit', r));
    const sink = openOutput(fifo);
    sink.write('main;f 1\n');
    sink.commit();
    // cat ends when the writer closes the FIFO; a file renamed over it would leave cat waiting.
    await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
    reader.kill();
    expect(got).toBe('main;f 1\n');
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(d)).toEqual(['pipe']);
  });
});

