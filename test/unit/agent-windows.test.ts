// The agent's flush windows on their way to the store: empty windows are
// written (no false gaps), a refused window waits and is written, in order,
// with the next, and only beyond the bound are the oldest dropped, counted.
import { describe, expect, it } from 'vitest';
import { WindowQueue } from '../../src/commands/agent-windows.js';
import { openStoreReader, openStoreWriter, type StoreWriter } from '../../src/store/index.js';
import { makeProfile, useTempStoreDirs } from './store-fixtures.js';

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);
const newDir = useTempStoreDirs();

function window(i: number, samples: number) {
  const startMs = T0 + i * 10_000;
  return { startMs, endMs: startMs + 10_000, profile: makeProfile(startMs, samples, i + 1) };
}

/** A writer that refuses appends while `refusing()` says so, as a full file system would. */
function refusingWhile(w: StoreWriter, refusing: () => boolean): StoreWriter {
  return {
    dir: w.dir,
    appendSegment: (d) => {
      if (refusing()) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return w.appendSegment(d);
    },
    enforceBounds: (n) => w.enforceBounds(n),
    close: () => w.close(),
  };
}

describe('WindowQueue', () => {
  it('writes an empty window, so the store shows no gap', () => {
    const dir = newDir();
    const w = openStoreWriter(dir, { durable: false, now: () => T0 + 30_000 });
    const q = new WindowQueue(w, { onWarning: (m) => expect.fail(m) });
    expect(q.write(window(0, 50))).toBe(true);
    expect(q.write(window(1, 0))).toBe(true);
    expect(q.write(window(2, 50))).toBe(true);
    w.close();
    const stats = openStoreReader(dir).stats();
    expect(stats.segments).toBe(3);
    expect(stats.gaps).toEqual([]);
  });

  it('keeps refused windows and writes them, oldest first, once the store takes them', async () => {
    const dir = newDir();
    let full = true;
    const warnings: string[] = [];
    const written: number[] = [];
    const w = openStoreWriter(dir, { durable: false, now: () => T0 + 60_000 });
    const q = new WindowQueue(refusingWhile(w, () => full), { onWarning: (m) => warnings.push(m), onWritten: (r) => written.push(r.samples) });
    expect(q.write(window(0, 10))).toBe(false);
    expect(q.write(window(1, 20))).toBe(false);
    expect(q.unwritten).toBe(30);
    expect(warnings).toEqual([
      'cannot write to the store: ENOSPC: no space left on device, write; 10 samples and spans kept to try again at the next flush',
      'cannot write to the store: ENOSPC: no space left on device, write; 30 samples and spans kept to try again at the next flush',
    ]);
    full = false;
    expect(q.write(window(2, 40))).toBe(true);
    expect(written).toEqual([10, 20, 40]);
    expect(q.unwritten).toBe(0);
    w.close();
    const profile = await openStoreReader(dir).readProfile();
    expect(profile.samples).toHaveLength(70);
    expect(openStoreReader(dir).stats().gaps).toEqual([]);
  });

  it('drops the oldest windows beyond its bound, and says how many samples went', () => {
    const dir = newDir();
    const warnings: string[] = [];
    const w = openStoreWriter(dir, { durable: false });
    const q = new WindowQueue(refusingWhile(w, () => true), { onWarning: (m) => warnings.push(m), maxWindows: 2 });
    q.write(window(0, 5));
    q.write(window(1, 6));
    q.write(window(2, 7));
    w.close();
    expect(q.unwritten).toBe(13);
    expect(warnings.at(-1)).toBe('cannot write to the store: ENOSPC: no space left on device, write; 13 samples and spans kept to try again at the next flush, 5 older ones dropped');
  });
});
