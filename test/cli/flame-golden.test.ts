// Golden files of `profctl flame` on real fixtures, produced by running the
// built binary (run `npx tsc -p .` first); refresh them with `vitest -u` and
// review the diff like code. Each file is named after the flags that made it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readProfileFile } from '../../src/profile/read-file.js';
import { encodePprof } from '../../src/profile/pprof.js';
import { traceIdLabelFilter } from '../../src/query/filter.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/profctl');
const GO = join(ROOT, 'test/fixtures/pprof/go-cpu-labels.pb.gz');
const perf = (name: string) => join(ROOT, 'test/fixtures/perf-script', `${name}.txt`);
const golden = (name: string) => join(ROOT, 'test/golden', name);
const dir = mkdtempSync(join(tmpdir(), 'profctl-flame-golden-'));

function profctl(args: string[], env: NodeJS.ProcessEnv = { NO_COLOR: '1' }) {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('FORCE_COLOR' in env)) delete e.FORCE_COLOR;
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: e });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/commands/flame.js'))) throw new Error('dist/ is missing: run `npx tsc -p .` before the CLI tests');
  // The fixture's first hashing request alone: the "current" run of a differential graph against the whole.
  const whole = await readProfileFile(GO);
  writeFileSync(join(dir, 'hash1.pb.gz'), encodePprof(traceIdLabelFilter(whole, '80f198ee56343ba864fe8b2a57d3eff7')));
});

describe('profctl flame golden text', () => {
  const cases: Array<[string, string[]]> = [
    ['flame.go-cpu-labels.width100.txt', ['--input', GO, '--width', '100']],
    ['flame.go-cpu-labels.width60.txt', ['--input', GO, '--width', '60']],
    ['flame.go-cpu-labels.inverted.width100.txt', ['--input', GO, '--inverted', '--width', '100']],
    ['flame.go-cpu-labels.sample-type-samples.width80.txt', ['--input', GO, '--sample-type', 'samples', '--width', '80']],
    ['flame.go-cpu-labels.focus-sort.width100.txt', ['--input', GO, '--focus', '^sort\\.', '--width', '100']],
    ['flame.perf-vertx-stacks-01.width120.txt', ['--input', perf('perf-vertx-stacks-01'), '--width', '120']],
    ['flame.perf-java-stacks-01.width120.txt', ['--input', perf('perf-java-stacks-01'), '--width', '120']],
    ['flame.perf-iperf-stacks-pidtid-01.inverted.width100.txt', ['--input', perf('perf-iperf-stacks-pidtid-01'), '--inverted', '--width', '100']],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      const r = profctl(['flame', ...args]);
      expect(r.stderr).toMatch(/profctl: flame: /);
      expect(r.code).toBe(0);
      await expect(r.stdout).toMatchFileSnapshot(golden(name));
    });
  }

  it('flame.go-cpu-labels.width100.color.txt (FORCE_COLOR=3)', async () => {
    const r = profctl(['flame', '--input', GO, '--width', '100'], { FORCE_COLOR: '3' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\u001b\[48;2;/);
    await expect(r.stdout).toMatchFileSnapshot(golden('flame.go-cpu-labels.width100.color.txt'));
  });

  it('flame.go-cpu-labels.hash1-vs-baseline.width100.txt (differential)', async () => {
    const r = profctl(['flame', '--input', join(dir, 'hash1.pb.gz'), '--baseline', GO, '--width', '100']);
    expect(r.code).toBe(0);
    // The sorting request is only in the baseline: it must be named, not silently dropped.
    expect(r.stderr).toMatch(/call paths only in the baseline \(\d+\.\d+% of it\)/);
    expect(r.stderr).toMatch(/main\.sortWork/);
    await expect(r.stdout).toMatchFileSnapshot(golden('flame.go-cpu-labels.hash1-vs-baseline.width100.txt'));
  });

  it('flame.go-cpu-labels.json', async () => {
    const r = profctl(['flame', '--input', GO, '--format', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.root.total).toBe(doc.total);
    await expect(JSON.stringify(doc, null, 1) + '\n').toMatchFileSnapshot(golden('flame.go-cpu-labels.json'));
  });
});
