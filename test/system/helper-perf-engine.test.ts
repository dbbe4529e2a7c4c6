// The perf fallback engine through startCapture: same contract as the BPF
// engine (raw leaf-first addresses, wall-clock times), checked on the
// call-chain program against `nm`. Needs root and perf(1).

import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { startCapture, type RawSample } from '../../src/capture/engine.js';
import { buildTarget, functionSymbols, nameStack, skipReason } from './helper-fixtures.js';
import { batchSamples } from '../../src/capture/helper-protocol.js';

describe.skipIf(skipReason !== undefined)('perf capture engine', () => {
  let callChain: string;
  beforeAll(() => {
    callChain = buildTarget('call-chain', ['-O0', '-fno-omit-frame-pointer', '-no-pie']);
  });

  it('samples only the given pid and unwinds its call chain', async () => {
    const child = spawn(callChain, ['4'], { stdio: 'ignore' });
    const bystander = spawn(callChain, ['4'], { stdio: 'ignore' });
    const exited = Promise.all([child, bystander].map((c) => new Promise((r) => c.on('close', r))));
    const capture = await startCapture({ hz: 199, pids: [child.pid!], engine: 'perf' });
    expect(capture.engine).toBe('perf');
    const samples: RawSample[] = [];
    // Until the target exits: perf can be slow to start on a loaded machine.
    const stopper = exited.then(() => capture.stop());
    for await (const batch of capture.samples()) samples.push(...batchSamples(batch));
    await stopper;
    expect(samples.length).toBeGreaterThan(10); // the machine is shared: the target may get little CPU
    expect(new Set(samples.map((s) => s.pid))).toEqual(new Set([child.pid]));
    const symbols = functionSymbols(callChain);
    const chains = samples.map((s) => nameStack(s.userStack, symbols).slice(0, 4).join(' '));
    const full = chains.filter((c) => c === 'chain_leaf chain_beta chain_alpha main').length;
    expect(full / samples.length).toBeGreaterThan(0.8);
    for (const s of samples) expect(Math.abs(s.timeMs - Date.now())).toBeLessThan(60_000);
    expect(capture.stats().samples).toBe(samples.length);
  });
});
