// The package a stranger installs: `npm pack` (which builds dist/ through
// `prepare`), then `npm install -g` of that tarball into a temporary prefix,
// which fetches only the runtime dependencies and compiles the sampling
// helper through the `install` script. The installed profctl must run
// without the repository or any devDependency: --version, top on a fixture
// (the same output as the working tree's), the demo service's OpenTelemetry
// imports, and (as root) record of a short command. The man page and the
// completions must be in the package. Dependencies come from the registry
// (--prefer-offline uses npm's cache when it can).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipReason, repoRoot } from './helper-fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'profctl-pack-'));
const prefix = join(work, 'prefix');
const installed = join(prefix, 'lib', 'node_modules', 'profctl');
const profctl = join(prefix, 'bin', 'profctl');
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const fixture = join(repoRoot, 'test', 'fixtures', 'pprof', 'go-cpu-labels.pb.gz');

/** The environment without the npm_* variables of an enclosing `npm test`, which would redirect npm. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, NO_COLOR: '1' };
}

function npm(args: string[], cwd: string) {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', env: cleanEnv(), timeout: 150_000 });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return r;
}

function run(command: string, args: string[], cwd = work) {
  return spawnSync(command, args, { cwd, encoding: 'utf8', env: cleanEnv(), timeout: 60_000 });
}

let tarball = '';
let packed: string[] = [];

describe('the packed package', () => {
  beforeAll(() => {
    npm(['pack', '--pack-destination', work, '--prefer-offline'], repoRoot);
    const name = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!name) throw new Error(`npm pack wrote no tarball into ${work}`);
    tarball = join(work, name);
    packed = run('tar', ['tzf', tarball]).stdout.split('\n').filter(Boolean);
    // --allow-scripts: the install step (the helper's build) must run once npm stops running scripts by default.
    npm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--allow-scripts=profctl', tarball], work);
  }, 300_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('holds the bin, dist/, man page, completions, the helper source with its build step, and the demo', () => {
    for (const path of [
      'bin/profctl',
      'dist/cli.js',
      'dist/commands/demo.js',
      'man/profctl.1',
      'completions/profctl.bash',
      'completions/_profctl',
      'completions/profctl.fish',
      'src/native/profctl-helper.c',
      'src/native/bpf-program.c',
      'scripts/build-native.mjs',
      'demo/service.js',
      'demo/load.js',
      'package.json',
    ]) {
      expect(packed, path).toContain(`package/${path}`);
    }
    // Nothing from development: no tests, no TypeScript sources, no built helper, no stray logs.
    expect(packed.filter((p) => /^package\/(test|bench|node_modules|build)\//.test(p) || /\.log$/.test(p) || /^package\/src\/.*\.tsx?$/.test(p))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; bin: Record<string, string>; man: string[] };
    expect(manifest.bin.profctl).toBe('bin/profctl');
    expect(manifest.man).toContain('man/profctl.1');
    expect(Object.keys(manifest.dependencies)).toContain('@opentelemetry/sdk-trace-base');
  });

  it('installs the bin and the man page into the prefix, without devDependencies', () => {
    expect(existsSync(profctl)).toBe(true);
    expect(existsSync(join(prefix, 'share', 'man', 'man1', 'profctl.1'))).toBe(true);
    for (const dev of ['typescript', 'vitest', 'fast-check']) expect(existsSync(join(installed, 'node_modules', dev)), dev).toBe(false);
    const man = readFileSync(join(installed, 'man', 'profctl.1'), 'utf8');
    expect(man).toMatch(/^\.TH PROFCTL 1/m);
    expect(readFileSync(join(installed, 'completions', 'profctl.bash'), 'utf8')).toMatch(/complete .*profctl/);
  });

  it('runs: --version, and top on a fixture prints what the working tree prints', () => {
    const v = run(profctl, ['--version']);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe(version);
    const top = run(profctl, ['top', '--input', fixture, '--limit', '0']);
    expect(top.status, top.stderr).toBe(0);
    const fromTree = run(process.execPath, [join(repoRoot, 'bin', 'profctl'), 'top', '--input', fixture, '--limit', '0']);
    expect(fromTree.status, fromTree.stderr).toBe(0);
    expect(top.stdout).toBe(fromTree.stdout);
    expect(top.stdout).toMatch(/sha256/);
  });

  it("loads the demo service's OpenTelemetry SDK from the package's own dependencies", async () => {
    const service = spawn(process.execPath, ['--perf-basic-prof', join(installed, 'demo', 'service.js'), '--otlp', 'http://127.0.0.1:9/v1/traces'], { cwd: work, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    service.stdout.on('data', (d) => (out += d));
    service.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => service.on('exit', r));
    for (let i = 0; i < 100 && !out.includes('listening') && service.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
    expect(out, err).toMatch(/"listening":\d+/);
    service.stdin.end(); // the service leaves when its parent's pipe closes
    expect(await exited).toBe(0);
  }, 30_000);

  describe.skipIf(skipReason !== undefined)('as root', () => {
    it('the install step built the helper, and record profiles a short command', () => {
      expect(statSync(join(installed, 'build', 'profctl-helper')).mode & 0o111).not.toBe(0);
      const out = join(work, 'burn.pb.gz');
      const rec = run(profctl, ['record', '-o', out, '--', 'sh', '-c', 'i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done']);
      expect(rec.status, rec.stderr).toBe(0);
      expect(rec.stderr).toMatch(/recorded \d+ samples/);
      const top = run(profctl, ['top', '--input', out, '--json', '--limit', '0']);
      expect(top.status, top.stderr).toBe(0);
      const rows = (JSON.parse(top.stdout) as { rows: Array<{ module: string; self: number }> }).rows;
      // The shell's own code ran: some samples land in its binary or its libc.
      expect(rows.some((r) => /sh|dash|bash|libc/.test(r.module) && r.self > 0)).toBe(true);
    }, 60_000);
  });
});
