// bin/profctl is a shell/JavaScript polyglot that starts node with V8 flags
// chosen per command. A fake `node` first in PATH prints the arguments it
// was given, so the flags are checked without running any command.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

const repoRoot = join(import.meta.dirname, '..', '..');
const bin = join(repoRoot, 'bin', 'profctl');
let fakeDir: string;

function nodeArgs(...argv: string[]): string[] {
  return nodeArgsWithPath(fakeDir, argv);
}

function nodeArgsWithPath(pathPrefix: string, argv: string[]): string[] {
  const out = execFileSync(bin, argv, { encoding: 'utf8', env: { ...process.env, PATH: `${pathPrefix}:${process.env.PATH}` } });
  return out.split('\n').filter((l) => l !== '');
}

function randomSeed(args: string[]): number {
  const flag = args.find((a) => a.startsWith('--random-seed='));
  expect(flag, `no --random-seed in ${args.join(' ')}`).toBeDefined();
  expect(flag).toMatch(/^--random-seed=\d+$/);
  return Number(flag!.slice('--random-seed='.length));
}

describe('bin/profctl launcher', () => {
  beforeAll(() => {
    fakeDir = mkdtempSync(join(os.tmpdir(), 'profctl-launcher-'));
    writeFileSync(join(fakeDir, 'node'), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
    chmodSync(join(fakeDir, 'node'), 0o755);
    mkdirSync(join(fakeDir, 'no-od'));
    writeFileSync(join(fakeDir, 'no-od', 'od'), '#!/bin/sh\nexit 1\n');
    chmodSync(join(fakeDir, 'no-od', 'od'), 0o755);
  });
  afterAll(() => rmSync(fakeDir, { recursive: true, force: true }));

  it('starts the agent in V8 predictable mode with a fresh random seed each time', () => {
    const runs = [['agent', '--store', '/nonexistent'], ['agent', '--quiet']];
    const [a, b] = runs.map((argv) => {
      const args = nodeArgs(...argv);
      expect(args).toContain('--predictable');
      expect(args).toContain('--max-opt=1');
      // The flags come before the script; the user's arguments follow it unchanged.
      expect(args.slice(args.indexOf(bin))).toEqual([bin, ...argv]);
      return args;
    }) as [string[], string[]];
    // Predictable mode fixes V8's random seed (heap addresses, string hashes) unless
    // one is given: 0 counts as none, and V8 takes a signed 32-bit value.
    const [sa, sb] = [randomSeed(a), randomSeed(b)];
    for (const seed of [sa, sb]) {
      expect(seed).toBeGreaterThanOrEqual(1);
      expect(seed).toBeLessThanOrEqual(2 ** 31 - 1);
    }
    expect(sa).not.toBe(sb);
  });

  it('runs the agent without predictable mode when no random seed can be read', () => {
    // A fixed seed would put V8's pages at the same addresses in every run of a root process.
    const argv = ['agent', '--quiet'];
    const args = nodeArgsWithPath(`${join(fakeDir, 'no-od')}:${fakeDir}`, argv);
    expect(args).not.toContain('--predictable');
    expect(args.some((a) => a.startsWith('--random-seed'))).toBe(false);
    expect(args).toContain('--max-opt=1');
    expect(args.slice(args.indexOf(bin))).toEqual([bin, ...argv]);
  });

  it('keeps V8 defaults for other commands', () => {
    const args = nodeArgs('top', '--since', '15m');
    expect(args).toEqual([bin, 'top', '--since', '15m']);
  });

  it('gives the agent flags node accepts', () => {
    const out = execFileSync(bin, ['agent', '--help'], { encoding: 'utf8' });
    expect(out).toMatch(/^Usage: profctl agent/m);
  });
});
