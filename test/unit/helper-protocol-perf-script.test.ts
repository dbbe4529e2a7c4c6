// The perf engine's reader of `perf script -F comm,pid,tid,cpu,time,ip --ns`
// output (the fallback when the BPF helper cannot load): raw addresses split
// into user and kernel stacks by address range, monotonic time shifted to
// wall clock, lost-event lines counted, mapping-relative user frames made
// absolute from the mmap events (a frame in a mapping it never saw stays as printed).

import { expect, it } from 'vitest';
import { parsePerfScriptRaw } from '../../src/capture/perf-engine.js';

const text = [
  'my prog     0/0     [000]     0.000000000: PERF_RECORD_MMAP2 200/200: [0x401000(0x1000) @ 0x1000 fe:00 2147849 0]: r-xp /tmp/my prog',
  'node 16552/16557 [000]   763.926242046: ',
  '\t         1f9551f',
  '\t         1f96ec7',
  '',
  'kworker/0:1-eve    31/31    [001]   763.936970854: ',
  '\tffffffff81a2b3c4',
  '\tffffffff81000010',
  '',
  'my prog 200/201 [001]   764.000001999: ',
  '\tffffffff81a2b3c4',
  '\t            1136 (/tmp/my prog)',
  '\t           2724a (/usr/lib/x86_64-linux-gnu/libc.so.6)',
  '',
  'PERF_RECORD_LOST lost 17',
  'idle 9/9 [000]   765.5: ',
].join('\n');

it('reads samples, splits kernel from user frames and counts losses', () => {
  const { samples, lost } = parsePerfScriptRaw(text, 1_700_000_000_000);
  expect(lost).toBe(17);
  expect(samples).toEqual([
    { timeMs: 1_700_000_763_926.242, pid: 16552, tid: 16557, cpu: 0, comm: 'node', userStack: [0x1f9551fn, 0x1f96ec7n], kernelStack: [] },
    { timeMs: 1_700_000_763_936.97, pid: 31, tid: 31, cpu: 1, comm: 'kworker/0:1-eve', userStack: [], kernelStack: [0xffffffff81a2b3c4n, 0xffffffff81000010n] },
    { timeMs: 1_700_000_764_000.001, pid: 200, tid: 201, cpu: 1, comm: 'my prog', userStack: [0x401136n, 0x2724an], kernelStack: [0xffffffff81a2b3c4n] },
    { timeMs: 1_700_000_765_500, pid: 9, tid: 9, cpu: 0, comm: 'idle', userStack: [], kernelStack: [] },
  ]);
});
