// profctl status as a health check: its exit status says whether an agent is
// running and writing its store, through the built binary. The agent's side
// (a real agent running, then stopped) is in test/system/agent.test.ts.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openStoreWriter, writeAgentStatus } from '../../src/store/index.js';
import { useTempStoreDirs } from '../unit/store-fixtures.js';

const bin = fileURLToPath(new URL('../../bin/profctl', import.meta.url));
const newDir = useTempStoreDirs();

function status(store: string, json = false) {
  return spawnSync(bin, ['status', '--store', store, ...(json ? ['--json'] : [])], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
}

/** A status file as an agent in this very process would write it, last rewritten `ageMs` ago. */
function agentStatus(dir: string, ageMs: number): void {
  const now = Date.now();
  writeAgentStatus(dir, {
    pid: process.pid,
    updatedMs: now - ageMs,
    startedMs: Math.round(performance.timeOrigin),
    hz: 99,
    flushMs: 10_000,
    samplesPerSecond: 198,
    lostPerSecond: 0,
    cpuPercent: 0.3,
    rssBytes: 6e7,
    maxSizeBytes: 1 << 30,
    retentionMs: 7 * 86_400_000,
  });
}

describe('status exit status', () => {
  it('is 1 when no agent has written a status, in text and JSON', () => {
    const dir = newDir();
    const text = status(dir);
    expect(text.status, text.stderr).toBe(1);
    expect(text.stdout).toMatch(/^agent +not running/);
    const json = status(dir, true);
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout).agent).toEqual({ running: false });
  });

  it('is 0 while an agent rewrites its status', () => {
    const dir = newDir();
    agentStatus(dir, 1_000);
    const r = status(dir);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^agent +running, pid /);
  });

  it('is 1 when the agent holds the store but its status is stale (a store it cannot write)', () => {
    const dir = newDir();
    agentStatus(dir, 3_600_000);
    // Not rewritten for an hour and no writer: the agent is gone.
    expect(status(dir).status).toBe(1);
    const w = openStoreWriter(dir, { durable: false });
    try {
      const r = status(dir, true);
      expect(JSON.parse(r.stdout).agent).toMatchObject({ running: true, stale: true });
      expect(r.status).toBe(1);
    } finally {
      w.close();
    }
  });
});
