// profctl export through the built binary: pprof that go tool pprof reads,
// merging, speedscope, atomic -o, and refusing binary output on a terminal.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePprofTop } from '../unit/pprof-top-text.js';

const bin = fileURLToPath(new URL('../../bin/profctl', import.meta.url));
const CPU = fileURLToPath(new URL('../fixtures/pprof/go-cpu-labels.pb.gz', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'profctl-export-'));

function profctl(...args: string[]) {
  return spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
}
const pprofTop = (file: string) => execFileSync('go', ['tool', 'pprof', '-top', '-nodecount=0', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('profctl export', () => {
  it('writes gzipped pprof that go tool pprof reads with the same numbers', () => {
    const out = join(work, 'cpu.pb.gz');
    const r = profctl('export', '-i', CPU, '-o', out);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(out).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(parsePprofTop(pprofTop(out))).toEqual(parsePprofTop(readFileSync(CPU.replace('.pb.gz', '.pprof-top.txt'), 'utf8')));
  });

  it('merges several inputs: every value doubles when a profile is given twice', () => {
    const out = join(work, 'merged.pb.gz');
    expect(profctl('export', '-i', CPU, '-i', CPU, '-o', out).status).toBe(0);
    const one = parsePprofTop(readFileSync(CPU.replace('.pb.gz', '.pprof-top.txt'), 'utf8'));
    const two = parsePprofTop(pprofTop(out));
    expect(two.map((l) => l.name)).toEqual(one.map((l) => l.name));
    const secs = (s: string) => (s === '0' ? 0 : Number(s.replace(/s$/, '')));
    two.forEach((l, i) => expect(secs(l.flat)).toBeCloseTo(2 * secs(one[i]!.flat), 6));
  });

  it('applies the filters before writing', () => {
    const out = join(work, 'trace.pb.gz');
    expect(profctl('export', '-i', CPU, '--trace-id', '80f198ee56343ba864fe8b2a57d3eff7', '-o', out).status).toBe(0);
    expect(pprofTop(out)).toMatch(/Total samples = 640ms/);
  });

  it('writes speedscope JSON that profctl reads back', () => {
    const r = profctl('export', '-i', CPU, '--format', 'speedscope');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.$schema).toBe('https://www.speedscope.app/file-format-schema.json');
    const out = join(work, 'cpu.speedscope.json');
    expect(profctl('export', '-i', CPU, '--format', 'speedscope', '-o', out).status).toBe(0);
    const back = JSON.parse(profctl('top', '-i', out, '--json').stdout);
    expect(back.total).toBe(1_780_000_000);
  });

  it('leaves no file behind when it fails, and names the problem', () => {
    const out = join(work, 'never.pb.gz');
    const r = profctl('export', '-i', CPU, '--sample-type', 'nope', '-o', out);
    expect(r.status).toBe(2);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((f) => f.includes('never'))).toEqual([]);
    const r2 = profctl('export', '-i', CPU, '-o', join(work, 'no-such-dir', 'x.pb.gz'));
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/cannot write .*x\.pb\.gz/);
  });

  it('refuses to write binary pprof to a terminal', () => {
    // `script` gives the command a pseudo-terminal as stdout.
    const hasScript = spawnSync('script', ['--version']).status === 0;
    if (!hasScript) {
      console.log('skipped: util-linux `script` is not installed, no pseudo-terminal to test with');
      return;
    }
    const r = spawnSync('script', ['-qec', `${bin} export -i ${CPU}`, '/dev/null'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/refusing to write .* to the terminal/);
    expect(r.stdout).toMatch(/-o FILE or redirect/);
  });
});
