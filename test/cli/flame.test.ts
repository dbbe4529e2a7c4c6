// `profctl flame` end to end: spawns bin/profctl (run `npx tsc -p .` first)
// and checks exit codes, colour rules (NO_COLOR, FORCE_COLOR, a file), --width,
// the SVG/HTML/JSON outputs written atomically with -o, delegation of the
// export formats, and one-line errors.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/profctl');
const GO = join(ROOT, 'test/fixtures/pprof/go-cpu-labels.pb.gz');
const PERF = join(ROOT, 'test/fixtures/perf-script/perf-vertx-stacks-01.txt');
const dir = mkdtempSync(join(tmpdir(), 'profctl-flame-'));
const ESC = /\u001b\[/;

function profctl(args: string[], env: NodeJS.ProcessEnv = {}) {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const k of ['FORCE_COLOR', 'NO_COLOR', 'COLUMNS']) if (!(k in env)) delete e[k];
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: e });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/commands/flame.js'))) throw new Error('dist/ is missing: run `npx tsc -p .` before the CLI tests');
});

describe('profctl flame text', () => {
  it('draws an icicle as wide as --width, root on top, summary on stderr', () => {
    for (const width of [40, 100, 177]) {
      const r = profctl(['flame', '--input', GO, '--width', String(width)]);
      expect(r.code).toBe(0);
      const rows = r.stdout.trimEnd().split('\n');
      expect(rows[0]).toHaveLength(width);
      expect(rows[0]).toMatch(/^all: 1\.78s cpu/);
      for (const row of rows) expect(row.length).toBeLessThanOrEqual(width);
      expect(r.stderr).toMatch(/^profctl: flame: 1\.78s cpu \(nanoseconds\), \d+ call paths, \d+ frames drawn/);
    }
  });

  it('uses COLUMNS when stdout is not a terminal and no --width is given', () => {
    const r = profctl(['flame', '--input', GO], { COLUMNS: '73' });
    expect(r.stdout.split('\n')[0]).toHaveLength(73);
  });

  it('is plain when piped, with NO_COLOR and with --no-color; FORCE_COLOR turns colour on', () => {
    expect(profctl(['flame', '--input', PERF, '--width', '80']).stdout).not.toMatch(ESC);
    expect(profctl(['flame', '--input', PERF, '--width', '80'], { NO_COLOR: '1' }).stdout).not.toMatch(ESC);
    expect(profctl(['--no-color', 'flame', '--input', PERF, '--width', '80'], { FORCE_COLOR: '0' }).stdout).not.toMatch(ESC);
    const forced = profctl(['flame', '--input', PERF, '--width', '80'], { FORCE_COLOR: '3' });
    expect(forced.stdout).toMatch(/\u001b\[48;2;\d+;\d+;\d+m/);
    expect(forced.stderr).toMatch(/colours: native red-yellow, kernel aqua/);
  });

  it('writes text to -o without colour escapes', () => {
    const out = join(dir, 'flame.txt');
    const r = profctl(['flame', '--input', GO, '--width', '90', '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const text = readFileSync(out, 'utf8');
    expect(text.split('\n')[0]).toHaveLength(90);
    expect(text).not.toMatch(ESC);
  });

  it('draws a differential graph and names the paths only in the baseline', () => {
    const r = profctl(['flame', '--input', PERF, '--baseline', GO, '--sample-type', 'samples', '--width', '100']);
    // Different programs: everything in the baseline is gone from the current profile.
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/call paths only in the baseline \(100\.00% of it\)/);
    expect(r.stdout).toMatch(/\+\d+\.\d+pp/);
  });
});

describe('profctl flame files', () => {
  it('writes a self-contained SVG atomically with -o, with the title', () => {
    const out = join(dir, 'flame.svg');
    const r = profctl(['flame', '--input', GO, '--format', 'svg', '-o', out, '--title', 'checkout <cpu>']);
    expect(r.code).toBe(0);
    const svg = readFileSync(out, 'utf8');
    expect(svg).toMatch(/^<\?xml/);
    expect(svg).toContain('checkout &#60;cpu&#62;');
    expect(svg).toContain('<script');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes HTML whose embedded data matches the JSON tree', () => {
    const out = join(dir, 'flame.html');
    expect(profctl(['flame', '--input', GO, '--format', 'html', '-o', out]).code).toBe(0);
    const html = readFileSync(out, 'utf8');
    const data = JSON.parse(/<script type="application\/json" id="flame-data">(.*?)<\/script>/s.exec(html)![1]!);
    const json = JSON.parse(profctl(['flame', '--input', GO, '--format', 'json']).stdout);
    expect(data.total[0]).toBe(json.total);
    let nodes = 0;
    const count = (n: { children: unknown[] }): void => {
      nodes++;
      n.children.forEach((c) => count(c as { children: unknown[] }));
    };
    count(json.root);
    expect(data.total).toHaveLength(nodes);
  });

  it('prints SVG to a pipe', () => {
    const r = profctl(['flame', '--input', GO, '--format', 'svg']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^<\?xml/);
  });

  it('hands folded, pprof and speedscope to export', () => {
    const viaFlame = profctl(['flame', '--input', PERF, '--format', 'folded']);
    const viaExport = profctl(['export', '--input', PERF, '--format', 'folded']);
    expect(viaFlame.code).toBe(0);
    expect(viaFlame.stdout).toBe(viaExport.stdout);
    expect(viaFlame.stdout.length).toBeGreaterThan(0);
  });
});

describe('profctl flame errors', () => {
  const oneLine = (stderr: string) => {
    expect(stderr).toMatch(/^profctl: /);
    expect(stderr).not.toMatch(/\n\s+at /);
  };

  it('rejects a bad --width with exit 2', () => {
    for (const w of ['0', 'wide', '-3', '2.5']) {
      const r = profctl(['flame', '--input', GO, '--width', w]);
      expect(r.code).toBe(2);
      oneLine(r.stderr);
      expect(r.stderr).toContain('--width');
    }
  });

  it('exits 2 for a missing input, naming the file', () => {
    const r = profctl(['flame', '--input', join(dir, 'nope.pb.gz')]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain('nope.pb.gz');
  });

  it('says there is nothing to draw when a filter leaves no samples', () => {
    const r = profctl(['flame', '--input', GO, '--focus', 'no_such_function_anywhere']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nothing to draw/);
    expect(r.stdout).toBe('');
  });

  it('refuses --baseline or --inverted with an export format', () => {
    const r = profctl(['flame', '--input', GO, '--baseline', GO, '--format', 'pprof', '-o', join(dir, 'x.pb.gz')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--baseline applies to graphs only/);
    expect(profctl(['flame', '--input', GO, '--inverted', '--format', 'folded']).code).toBe(2);
  });

  it('exits 2 for a baseline without the sample type asked for', () => {
    const folded = join(dir, 'base.folded');
    writeFileSync(folded, 'main;work 10\n');
    const r = profctl(['flame', '--input', GO, '--baseline', folded, '--sample-type', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the baseline has no cpu\/nanoseconds samples/);
  });
});
