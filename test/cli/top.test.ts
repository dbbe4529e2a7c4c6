// profctl top against `go tool pprof` on the real Go fixtures: every
// function's self and total, through the built binary.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePprofTags, parsePprofTop, samePrinted } from '../unit/pprof-top-text.js';

const bin = fileURLToPath(new URL('../../bin/profctl', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/pprof/${name}`, import.meta.url));
const CPU = fixture('go-cpu-labels.pb.gz');
const HEAP = fixture('go-heap.pb.gz');

function profctl(...args: string[]) {
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface TopJson {
  total: number;
  unit: string;
  sampleType: string;
  rows: Array<{ function: string; module: string; self: number; selfPct: number; total: number; totalPct: number }>;
}

function topJson(...args: string[]): TopJson {
  const r = profctl('top', '--json', ...args);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(/error|warning/i);
  return JSON.parse(r.stdout) as TopJson;
}

function expectEqualsPprofTop(json: TopJson, pprofText: string) {
  const expected = parsePprofTop(pprofText);
  expect(expected.length).toBeGreaterThan(3);
  const rows = new Map(json.rows.map((r) => [r.function, r]));
  for (const line of expected) {
    const row = rows.get(line.name);
    expect(row, line.name).toBeDefined();
    expect(samePrinted(row!.self, line.flat), `${line.name}: self ${row!.self} vs pprof ${line.flat}`).toBe(true);
    expect(samePrinted(row!.total, line.cum), `${line.name}: total ${row!.total} vs pprof ${line.cum}`).toBe(true);
  }
  expect(json.rows.length).toBe(expected.length);
}

describe('profctl top', () => {
  it('--json has the documented shape, in the sample type unit, sorted by self', () => {
    const json = topJson('-i', CPU);
    expect(Object.keys(json)).toEqual(['total', 'unit', 'sampleType', 'rows']);
    expect(json).toMatchObject({ unit: 'nanoseconds', sampleType: 'cpu' });
    for (const r of json.rows) expect(Object.keys(r)).toEqual(['function', 'module', 'self', 'selfPct', 'total', 'totalPct']);
    const selfs = json.rows.map((r) => r.self);
    expect(selfs).toEqual([...selfs].sort((a, b) => b - a));
    expect(json.rows[0]!.selfPct).toBeCloseTo((100 * json.rows[0]!.self) / json.total, 9);
  });

  it('matches `go tool pprof -top` on the CPU profile, function by function', () => {
    expectEqualsPprofTop(topJson('-i', CPU), readFileSync(fixture('go-cpu-labels.pprof-top.txt'), 'utf8'));
  });

  it('matches `go tool pprof -top -sample_index=inuse_space` on the heap profile', () => {
    const json = topJson('-i', HEAP, '--sample-type', 'inuse_space');
    expect(json.unit).toBe('bytes');
    expectEqualsPprofTop(json, readFileSync(fixture('go-heap.pprof-top.txt'), 'utf8'));
  });

  it('--tag trace_id=… totals equal the -tags output, and equal pprof -tagfocus per function', () => {
    const tags = parsePprofTags(readFileSync(fixture('go-cpu-labels.pprof-tags.txt'), 'utf8'));
    const traces = tags.get('trace_id')!;
    expect(traces.size).toBe(3);
    for (const [id, printed] of traces) {
      const json = topJson('-i', CPU, '--tag', `trace_id=${id}`);
      expect(samePrinted(json.total, printed.replace(/\.0ms$/, 'ms')), `${id}: ${json.total} vs ${printed}`).toBe(true);
      // The same selection through --trace-id, given in upper case.
      expect(topJson('-i', CPU, '--trace-id', id.toUpperCase()).total).toBe(json.total);
      const pprof = execFileSync('go', ['tool', 'pprof', '-top', '-nodecount=0', `-tagfocus=trace_id=${id}`, CPU], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expectEqualsPprofTop(json, pprof);
    }
  });

  it('--sort total, --limit and --by module', () => {
    const byTotal = topJson('-i', CPU, '--sort', 'total', '--limit', '3');
    expect(byTotal.rows).toHaveLength(3);
    expect(byTotal.rows.map((r) => r.total)).toEqual([...byTotal.rows.map((r) => r.total)].sort((a, b) => b - a));
    const modules = topJson('-i', CPU, '--by', 'module');
    expect(modules.rows.map((r) => r.function)).toEqual(['g2']);
    expect(modules.rows[0]!.self).toBe(modules.total);
  });

  it('prints a table with self, self%, total, total%, function and module', () => {
    const r = profctl('top', '-i', CPU, '--limit', '2');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^cpu \(nanoseconds\): total 1\.78s, showing 2 of \d+ functions$/);
    expect(lines[1]!.trim().split(/\s+/)).toEqual(['self', 'self%', 'total', 'total%', 'function', 'module']);
    expect(lines[2]!.trim().split(/\s+/)).toEqual(['970ms', '54.49%', '970ms', '54.49%', 'crypto/sha256.block', 'g2']);
    expect(lines).toHaveLength(4);
    expect(r.stderr).toMatch(/more rows; --limit 0 shows all/);
  });

  it('a very long name overflows its column instead of widening every row', () => {
    const dir = mkdtempSync(join(tmpdir(), 'profctl-top-'));
    const long = `shop::pricing::Engine<${'std::vector<double, std::allocator<double> >, '.repeat(4)}int>::compute`;
    // perf script text, so every frame has a module.
    const sample = (leaf: string) => `prog 4242 100.000001:   10101010 cpu-clock: \n\t    401136 ${leaf} (/usr/bin/prog)\n\t    401200 main (/usr/bin/prog)\n\n`;
    const input = join(dir, 'long.perf');
    writeFileSync(input, sample(long).repeat(3) + sample('short_leaf').repeat(2) + sample('other_leaf'));
    const r = profctl('top', '-i', input);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const longLine = lines.find((l) => l.includes(long))!;
    expect(longLine.endsWith(`${long}  prog`)).toBe(true);
    // The other rows keep a column that fits a terminal, aligned with the header.
    const header = lines[1]!;
    const short = lines.find((l) => l.includes('short_leaf'))!;
    expect(short.length).toBeLessThan(120);
    expect(short.indexOf('short_leaf')).toBe(header.indexOf('function'));
    expect(short.indexOf('prog')).toBe(header.indexOf('module'));
    expect(lines.find((l) => l.includes('other_leaf'))!.indexOf('prog')).toBe(header.indexOf('module'));
  });

  it('piped, prints every one of 130,000 functions, aligned (more than a call takes as arguments)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'profctl-top-'));
    const input = join(dir, 'many.folded');
    const n = 130_000;
    let text = '';
    for (let i = 0; i < n; i++) text += `main;handler_${i} ${(i % 7) + 1}\n`;
    writeFileSync(input, text);
    const r = profctl('top', '-i', input);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`, ${n + 1} functions$`));
    expect(lines).toHaveLength(2 + n + 1);
    const header = lines[1]!;
    const at = header.indexOf('function');
    const row = lines.find((l) => l.endsWith('handler_129999'))!;
    expect(row.indexOf('handler_129999')).toBe(at);
    expect(lines[lines.length - 1]).toMatch(/^\s*0\s+0\.00%\s+\d+\s+100\.00%\s+main$/);
  });

  it('an unknown sample type is a usage error listing the available ones', () => {
    const r = profctl('top', '-i', HEAP, '--sample-type', 'cpu');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown sample type "cpu"/);
    expect(r.stderr).toMatch(/alloc_objects, alloc_space, inuse_objects, inuse_space/);
  });

  it('a filter that leaves nothing says which on stderr and prints the empty result', () => {
    const r = profctl('top', '-i', CPU, '--json', '--focus', 'no_such_function');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/--focus no_such_function matched no samples/);
    expect(JSON.parse(r.stdout)).toMatchObject({ total: 0, rows: [] });
  });

  it('bad input: one line naming the file, exit 2, no stack trace', () => {
    const r = profctl('top', '-i', fixture('go-heap.pprof-top.txt'), '--input-format', 'pprof');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/go-heap\.pprof-top\.txt: not a (valid )?pprof profile/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a directory given as --input: one line saying so, exit 2', () => {
    const r = profctl('top', '-i', tmpdir());
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`profctl: ${tmpdir()}: is a directory, not a profile file\n`);
  });

  it('no --input and no store: a usage error with a hint', () => {
    const r = profctl('top', '--store', '/nonexistent/profctl-store');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/hint:/);
  });
});
