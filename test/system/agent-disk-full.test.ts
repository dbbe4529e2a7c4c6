// `profctl agent` on a file system that fills up, and on one mounted
// read-only: a 1 MiB tmpfs holding older segments (about 150 KiB), the rest
// of its space taken by another file, and a --max-size far above what fits.
// The agent must make room by evicting its oldest segments, as its cap
// would, keep writing the newest data, leave no temp file or torn table
// behind, and stop cleanly. Needs root (mount, BPF); in CI (root) it must
// run.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHelper, buildTarget, skipReason, repoRoot } from './helper-fixtures.js';
import { writeOlderSegments } from '../unit/store-fixtures.js';
import { segmentFiles, tempFiles } from '../support/store-files.js';

const bin = join(repoRoot, 'bin', 'profctl');
const mount = mkdtempSync(join(tmpdir(), 'profctl-full-'));
const store = join(mount, 'store');
let mounted = false;

function profctl(args: string[]) {
  return spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
}

function segments(): string[] {
  return segmentFiles(store);
}

describe.skipIf(skipReason !== undefined)('profctl agent on a full file system', () => {
  let agent: ChildProcess;
  let exited: Promise<number | null>;
  let burner: ChildProcess;
  let stderr = '';
  let olderSegments: string[] = [];
  beforeAll(async () => {
    buildHelper();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]);
    mounted = true;
    // Older data, then another file takes all the space that is left.
    writeOlderSegments(store, 4, 20_000);
    olderSegments = segments();
    const free = statfsSync(mount).bavail * statfsSync(mount).bsize;
    writeFileSync(join(mount, 'filler'), Buffer.alloc(free));
    expect(statfsSync(mount).bavail).toBe(0);
    burner = spawn(buildTarget('call-chain', ['-O0', '-fno-omit-frame-pointer']), ['60']);
    agent = spawn(bin, ['agent', '--store', store, '--flush', '1s', '--max-size', '1GiB'], { stdio: ['ignore', 'ignore', 'pipe'] });
    agent.stderr!.on('data', (d) => (stderr += d));
    exited = new Promise((r) => agent.on('exit', r));
    for (let i = 0; i < 100 && !/sampling at/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
  }, 60_000);
  afterAll(() => {
    burner?.kill();
    agent?.kill('SIGKILL');
    if (mounted) spawnSync('umount', [mount]);
    rmSync(mount, { recursive: true, force: true });
  });

  it('evicts its oldest segments to make room and goes on writing', async () => {
    expect(stderr).toMatch(/sampling at 99 Hz/);
    for (let i = 0; i < 30 && (stderr.match(/\d+ samples?, \d+ spans? →/g) ?? []).length < 4; i++) await new Promise((r) => setTimeout(r, 1000));
    expect(stderr).toMatch(/file system of the store .* is full: evicted the (oldest segment|\d+ oldest segments)/);
    expect((stderr.match(/\d+ samples?, \d+ spans? →/g) ?? []).length, stderr).toBeGreaterThanOrEqual(4);
    expect(stderr).not.toMatch(/internal error|cannot write to the store/);
    // The oldest went first.
    const now = segments();
    expect(now[0]).not.toBe(olderSegments[0]);
    const st = JSON.parse(profctl(['status', '--store', store, '--json']).stdout);
    expect(st.agent).toMatchObject({ running: true, stale: false, unwritten: 0 });
    // What is left names the program: making room may have taken any but the newest segments.
    const top = profctl(['top', '--store', store, '--since', '1h', '--comm', 'call-chain', '--json']);
    expect(top.status, top.stderr).toBe(0);
    expect(JSON.parse(top.stdout).rows[0]?.function, `${segments().join('\n')}\n${stderr}`).toBe('chain_leaf');
  }, 60_000);

  it('keeps the windows it cannot write, and writes them once there is room', async () => {
    // Another program takes every block the agent frees, until it has nothing left to evict.
    let n = 0;
    const fillers: string[] = [];
    const takeFreeSpace = () => {
      const free = statfsSync(mount).bavail * statfsSync(mount).bsize;
      if (free === 0) return;
      const f = join(mount, `filler-${n++}`);
      fillers.push(f);
      writeFileSync(f, Buffer.alloc(free));
    };
    for (let i = 0; i < 450 && !/cannot write to the store/.test(stderr); i++) {
      takeFreeSpace();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(stderr).toMatch(/cannot write to the store: no space left on the file system of the store .*; \d+ samples and spans kept to try again at the next flush/);
    const outageFrom = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 3000));
    // Its status file cannot be written either, but it holds the store's lock: still running.
    expect(JSON.parse(profctl(['status', '--store', store, '--json']).stdout).agent.running).toBe(true);
    const outageTo = new Date().toISOString();
    // The space comes back: the other program's files go.
    for (const f of [join(mount, 'filler'), ...fillers]) rmSync(f);
    const logged = stderr.length;
    for (let i = 0; i < 50 && !/\d+ samples?, \d+ spans? →/.test(stderr.slice(logged)); i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1500));
    const st = JSON.parse(profctl(['status', '--store', store, '--json']).stdout);
    expect(st.agent, stderr.slice(logged)).toMatchObject({ running: true, unwritten: 0 });
    // The seconds the store could not be written are in it now.
    const top = profctl(['top', '--store', store, '--since', outageFrom, '--until', outageTo, '--comm', 'call-chain', '--json']);
    expect(top.status, top.stderr).toBe(0);
    expect(JSON.parse(top.stdout).rows[0].function).toBe('chain_leaf');
  }, 90_000);

  it('stops cleanly and leaves a store every reader can read', async () => {
    agent.kill('SIGTERM');
    const code = await exited;
    expect(code, stderr).toBe(0);
    expect(tempFiles(store)).toEqual([]);
    const top = profctl(['top', '--store', store, '--since', '2h', '--json']);
    expect(top.status, top.stderr).toBe(0);
    expect(top.stderr).not.toMatch(/warning/);
  }, 30_000);

  it('refuses to start a new store on a full file system, in one line, leaving no lock', () => {
    const fresh = join(mount, 'fresh');
    const free = statfsSync(mount).bavail * statfsSync(mount).bsize;
    if (free > 0) writeFileSync(join(mount, 'filler-last'), Buffer.alloc(free));
    const r = spawnSync(bin, ['agent', '--store', fresh], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(4);
    expect(r.stderr).toBe(`profctl: no space left on the file system of the store ${fresh}\n  hint: free space there, or move the store with --store DIR\n`);
    expect(readdirSync(fresh).filter((f) => f === 'writer.lock')).toEqual([]);
  }, 30_000);

  it('refuses a store on a read-only file system, in one line', () => {
    execFileSync('mount', ['-o', 'remount,ro', mount]);
    for (const args of [['agent', '--store', store], ['record', '--store', store, '--', 'true']]) {
      const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(4);
      expect(r.stderr).toBe(`profctl: cannot write to the store ${store}: read-only file system\n  hint: pass --store DIR on a writable file system\n`);
    }
  }, 30_000);
});
