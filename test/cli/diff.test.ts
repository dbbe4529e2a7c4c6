// `profctl diff` end to end: spawns bin/profctl (run `npx tsc -p .` first) on
// the real Go fixture split by request and on seeded synthetic runs, and
// checks exit codes (0 same/noise, 1 regression, 2 usage), the --json shape,
// and the Markdown report.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readProfileFile } from '../../src/profile/read-file.js';
import { encodePprof } from '../../src/profile/pprof.js';
import { traceIdLabelFilter } from '../../src/query/filter.js';
import { sampleWorkload, seededRandom, serviceWorkload, type Workload } from '../unit/diff-workload.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/profctl');
const FIXTURE = join(ROOT, 'test/fixtures/pprof/go-cpu-labels.pb.gz');
const dir = mkdtempSync(join(tmpdir(), 'profctl-diff-'));
const file = (name: string) => join(dir, name);

function profctl(...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/commands/diff.js'))) throw new Error('dist/ is missing: run `npx tsc -p .` before the CLI tests');
  const whole = await readProfileFile(FIXTURE);
  writeFileSync(file('sort.pb.gz'), encodePprof(traceIdLabelFilter(whole, 'a3ce929d0e0e47364bf92f3577b34da6')));
  writeFileSync(file('hash1.pb.gz'), encodePprof(traceIdLabelFilter(whole, '80f198ee56343ba864fe8b2a57d3eff7')));
  writeFileSync(file('hash2.pb.gz'), encodePprof(traceIdLabelFilter(whole, '9c0ab2e37e5a0d2b0ecf2cc4f0c2a1d3')));

  const random = seededRandom(424242);
  const regressed: Workload = serviceWorkload.map(([s, w]) => [s, s.endsWith('flate.deflate') ? w * 1.6 : w]);
  writeFileSync(file('run-a.pb.gz'), encodePprof(sampleWorkload(serviceWorkload, 3000, random)));
  writeFileSync(file('run-b.pb.gz'), encodePprof(sampleWorkload(serviceWorkload, 4500, random)));
  writeFileSync(file('run-c.pb.gz'), encodePprof(sampleWorkload(serviceWorkload, 3000, random)));
  writeFileSync(file('regressed.pb.gz'), encodePprof(sampleWorkload(regressed, 3000, random)));
  // A folded baseline: only samples/count, where the pprof runs default to cpu/nanoseconds.
  writeFileSync(file('base.folded'), serviceWorkload.map(([s, w]) => `${s} ${Math.round(w * 30)}`).join('\n') + '\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('exit status of --fail-on-regression', () => {
  it('0 for identical inputs', () => {
    const r = profctl('diff', '--baseline', FIXTURE, '--input', FIXTURE, '--fail-on-regression', '0');
    expect(r.stderr).not.toMatch(/regression:/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/no significant self-share growth over \+0 points/);
  });

  it('0 for two runs of the same workload (noise), of different lengths', () => {
    const r = profctl('diff', '--baseline', file('run-a.pb.gz'), '--input', file('run-b.pb.gz'), '--fail-on-regression', '1');
    expect(r.code).toBe(0);
  });

  it('0 for one hashing request against the other (real noise)', () => {
    expect(profctl('diff', '--baseline', file('hash1.pb.gz'), '--input', file('hash2.pb.gz'), '--fail-on-regression', '1').code).toBe(0);
  });

  it('1 for a real regression, after printing the report', () => {
    const r = profctl('diff', '--baseline', file('run-a.pb.gz'), '--input', file('regressed.pb.gz'), '--fail-on-regression', '2');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/flate\.deflate .*◀ regression/);
    expect(r.stderr).toMatch(/regression: 1 function gained more than 2 points of self share \(worst: flate\.deflate/);
  });

  it('1 for sorting → hashing on the real profile; merged baselines and inputs', () => {
    const r = profctl('diff', '--baseline', file('sort.pb.gz'), '--input', file('hash1.pb.gz'), '--input', file('hash2.pb.gz'), '--fail-on-regression', '5', '--json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.regressions.map((x: { function: string }) => x.function)).toContain('crypto/sha256.block');
    // Two baseline runs merge: their samples add up.
    const merged = JSON.parse(profctl('diff', '--baseline', file('hash1.pb.gz'), '--baseline', file('hash2.pb.gz'), '--input', FIXTURE, '--json').stdout);
    expect(merged.baseline.samples).toBe(124);
  });

  it('0 when the growth is real but below the threshold', () => {
    expect(profctl('diff', '--baseline', file('run-a.pb.gz'), '--input', file('regressed.pb.gz'), '--fail-on-regression', '40').code).toBe(0);
  });
});

describe('usage errors exit 2 with one line', () => {
  it.each([
    [['diff', '--input', 'x.pb.gz'], /needs a baseline/],
    [['diff', '--baseline', FIXTURE, '--input', FIXTURE, '--fail-on-regression', 'lots'], /--fail-on-regression "lots"/],
    [['diff', '--baseline', FIXTURE, '--input', FIXTURE, '--limit', '-3'], /--limit/],
    [['diff', '--baseline', '/nonexistent/base.pb.gz', '--input', FIXTURE], /nonexistent\/base\.pb\.gz/],
    [['diff', '--baseline', FIXTURE, '--input', FIXTURE, '--format', 'html'], /format/],
  ])('%j', (args, message) => {
    const r = profctl(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses a baseline without the sample type asked for', () => {
    const r = profctl('diff', '--baseline', file('base.folded'), '--input', file('run-a.pb.gz'), '--sample-type', 'cpu');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^profctl: --baseline: unknown sample type "cpu"\n  hint: available: samples\n$/);
  });
});

describe('--json', () => {
  it('has the documented shape, and shares equal go tool pprof -top', () => {
    const r = profctl('diff', '--baseline', FIXTURE, '--input', FIXTURE, '--json', '--limit', '0');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['baseline', 'current', 'alpha', 'failOnRegression', 'totalRows', 'rows', 'regressions']);
    expect(out.baseline).toEqual({ total: 1.78e9, unit: 'nanoseconds', sampleType: 'cpu', samples: 178, countSource: 'count-type' });
    expect(out.failOnRegression).toBeNull();
    expect(out.rows).toHaveLength(out.totalRows);
    expect(Object.keys(out.rows[0])).toEqual([
      'function', 'module', 'status', 'baselineSelf', 'currentSelf', 'baselineTotal', 'currentTotal',
      'baselineSelfPct', 'currentSelfPct', 'deltaSelfPct', 'baselineTotalPct', 'currentTotalPct', 'deltaTotalPct',
      'baselineSelfSamples', 'currentSelfSamples', 'pValue', 'rawPValue', 'significant', 'regression',
    ]);
    // Every function line of pprof's own -top output: flat% and cum%.
    const top = readFileSync(FIXTURE.replace('.pb.gz', '.pprof-top.txt'), 'utf8');
    const lines = [...top.matchAll(/^\s*\S+\s+([\d.]+)%\s+[\d.]+%\s+\S+\s+([\d.]+)%\s+(.+?)(?: \(inline\))?$/gm)];
    expect(lines.length).toBeGreaterThan(20);
    for (const [, flat, cum, name] of lines) {
      const row = out.rows.find((x: { function: string }) => x.function === name);
      expect(row, name).toBeDefined();
      expect(row.currentSelfPct).toBeCloseTo(Number(flat), 1);
      expect(row.currentTotalPct).toBeCloseTo(Number(cum), 1);
      expect(row.deltaSelfPct).toBe(0);
      expect(row.status).toBe('both');
    }
  });

  it('limits rows but lists every regression; --ignore drops runtime frames', () => {
    const out = JSON.parse(profctl('diff', '--baseline', file('sort.pb.gz'), '--input', file('hash1.pb.gz'), '--json', '--limit', '2', '--fail-on-regression', '0.5').stdout);
    expect(out.totalRows).toBeGreaterThan(2);
    expect(out.rows.length).toBeGreaterThanOrEqual(2);
    for (const reg of out.regressions) expect(out.rows.map((x: { function: string }) => x.function)).toContain(reg.function);
    expect(out.rows[0].deltaSelfPct).toBeGreaterThanOrEqual(out.rows[1].deltaSelfPct);

    const all = JSON.parse(profctl('diff', '--baseline', FIXTURE, '--input', FIXTURE, '--json', '--limit', '0').stdout);
    const ignored = JSON.parse(profctl('diff', '--baseline', FIXTURE, '--input', FIXTURE, '--json', '--limit', '0', '--ignore', '^runtime\\.').stdout);
    expect(all.rows.some((x: { function: string }) => x.function.startsWith('runtime.'))).toBe(true);
    expect(ignored.rows.some((x: { function: string }) => x.function.startsWith('runtime.'))).toBe(false);
    expect(ignored.baseline.samples).toBeLessThan(all.baseline.samples);
  });

  it('falls back to a sample type both sides have, with a note', () => {
    const r = profctl('diff', '--baseline', file('base.folded'), '--input', file('run-c.pb.gz'), '--json', '--fail-on-regression', '2');
    expect(r.stderr).toMatch(/comparing samples\/count/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).current.sampleType).toBe('samples');
  });
});

describe('--format markdown', () => {
  it('a verdict line, then a table with regressions flagged', () => {
    const r = profctl('diff', '--baseline', file('run-a.pb.gz'), '--input', file('regressed.pb.gz'), '--format', 'markdown', '--fail-on-regression', '2', '--limit', '5');
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^\*\*profctl diff\*\* ❌ 1 significant regression over \+2 points: flate\.deflate \+\d+\.\d\d points\.$/);
    const header = lines.findIndex((l) => l.startsWith('| | Function |'));
    expect(header).toBeGreaterThan(0);
    expect(lines[header + 1]).toMatch(/^\|---\|---\|(---:\|){7}$/);
    expect(lines[header + 2]).toMatch(/^\| 🔺 regression \| `flate\.deflate` \| [\d.]+% \| [\d.]+% \| \*\*\+[\d.]+\*\* \|/);
    expect(r.stdout).not.toMatch(/\u001b\[/);
  });

  it('says so when all is well', () => {
    const r = profctl('diff', '--baseline', FIXTURE, '--input', FIXTURE, '--format', 'markdown');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('**profctl diff** ✅ no significant self-share growth (alpha 0.05, Holm-adjusted).');
  });
});
