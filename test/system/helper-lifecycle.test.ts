// The helper's life cycle: it leaves nothing attached when stopped or when
// its parent dies, and a user without the privilege gets one actionable line
// (exit code 3). Loaded programs are listed with test/native/list-bpf-progs.c.

import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCapture } from '../../src/capture/engine.js';
import { HelperError, helperPath, startHelper } from '../../src/capture/helper-process.js';
import { ExitCode } from '../../src/errors.js';
import { buildHelper, buildTarget, skipReason } from './helper-fixtures.js';

/** BPF program ids a process holds, from its fdinfo ("prog_id:" lines). */
function heldProgramIds(pid: number): number[] {
  const ids: number[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    let info: string;
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch (err) {
      // A descriptor the helper closed since the listing (it opens and closes some while it starts): not held.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const m = /^prog_id:\s*(\d+)/m.exec(info);
    if (m) ids.push(Number(m[1]));
  }
  return [...new Set(ids)]; // the raw-tracepoint link's fdinfo names its program too
}

function perfEventFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try { return execFileSync('readlink', [`/proc/${pid}/fd/${fd}`], { encoding: 'utf8' }).includes('perf_event'); } catch { return false; }
  }).length;
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (!existsSync(`/proc/${pid}`)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !existsSync(`/proc/${pid}`);
}

describe.skipIf(skipReason !== undefined)('helper life cycle', () => {
  let listPrograms: string;
  const savedHelper = process.env.PROFCTL_HELPER;
  beforeAll(() => {
    buildHelper();
    listPrograms = buildTarget('list-bpf-progs', ['-O2']);
  });
  afterEach(() => {
    if (savedHelper === undefined) delete process.env.PROFCTL_HELPER;
    else process.env.PROFCTL_HELPER = savedHelper;
  });
  /** Ids still loaded after up to 5 s: the kernel frees programs after an RCU grace period. */
  async function programsUnloaded(ids: number[]): Promise<number[]> {
    let left = ids;
    for (let i = 0; i < 100 && left.length; i++) {
      if (i) await new Promise((r) => setTimeout(r, 50));
      const loaded = loadedIds();
      left = ids.filter((id) => loaded.has(id));
    }
    return left;
  }
  const loadedIds = () => new Set(execFileSync(listPrograms, { encoding: 'utf8' }).split('\n').filter(Boolean).map((l) => Number(l.split(' ')[0])));

  it('detaches everything on stop()', async () => {
    const capture = await startHelper({ hz: 99 });
    const ids = heldProgramIds(capture.pid);
    expect(ids.length).toBe(5); // the sampler, the fork follower, the exec and exit events (one exit program: the other is unloaded), the kernel namer
    expect(perfEventFds(capture.pid)).toBeGreaterThanOrEqual(1);
    for (const id of ids) expect(loadedIds().has(id)).toBe(true);
    await capture.stop();
    expect(await waitGone(capture.pid, 5000)).toBe(true);
    expect(await programsUnloaded(ids)).toEqual([]);
  });

  it('exits and detaches when its parent is killed', async () => {
    // An intermediate parent that sends the helper's stdout to /dev/null, so
    // only the parent-death check (not a broken pipe) can stop the helper.
    const script = `const c = require('child_process').spawn(${JSON.stringify(helperPath())}, ['--hz', '99'], { stdio: ['ignore', require('fs').openSync('/dev/null', 'w'), 'ignore'] });
      setTimeout(() => console.log(c.pid), 700); setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    const helperPid = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    let ids: number[] = [];
    for (let i = 0; i < 40 && ids.length < 5; i++) {
      ids = heldProgramIds(helperPid);
      if (ids.length < 5) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ids.length).toBe(5);
    parent.kill('SIGKILL');
    expect(await waitGone(helperPid, 5000)).toBe(true);
    expect(await programsUnloaded(ids)).toEqual([]);
  });

  it('tells an unprivileged user what is needed, with exit code 3', async () => {
    // Run the real helper as nobody, with no capabilities.
    const dir = mkdtempSync(join(tmpdir(), 'profctl-nobody-'));
    chmodSync(dir, 0o755);
    const copy = join(dir, 'profctl-helper');
    copyFileSync(helperPath(), copy);
    chmodSync(copy, 0o755);
    const wrapper = join(dir, 'as-nobody');
    writeFileSync(wrapper, `#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all ${copy} "$@"\n`);
    chmodSync(wrapper, 0o755);
    process.env.PROFCTL_HELPER = wrapper;
    for (const engine of ['bpf', 'auto'] as const) {
      const err = await startCapture({ hz: 99, engine }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(HelperError);
      const e = err as HelperError;
      expect(e.exitCode).toBe(ExitCode.permission);
      expect(e.message).toBe('sampling needs root or CAP_BPF+CAP_PERFMON');
      expect(e.hint).toMatch(/sudo/);
    }
  });

  it('says how to build the helper when it is missing', async () => {
    process.env.PROFCTL_HELPER = join(tmpdir(), 'no-such-dir', 'profctl-helper');
    const err = await startCapture({ hz: 99, engine: 'bpf' }).then(() => undefined, (e: unknown) => e);
    expect((err as HelperError).exitCode).toBe(ExitCode.environment);
    expect((err as HelperError).hint).toMatch(/npm run build:native/);
  });
});
