import { describe, it, expect } from 'vitest';
import { parseRecordOptions, withNodePerfMap } from '../../src/commands/record.js';
import { parseAgentOptions } from '../../src/commands/agent.js';

describe('withNodePerfMap', () => {
  it('adds --perf-basic-prof to node and sends V8 log output nowhere', () => {
    expect(withNodePerfMap(['node', 'app.js'])).toEqual(['node', '--perf-basic-prof', '--logfile=/dev/null', 'app.js']);
    expect(withNodePerfMap(['/usr/bin/nodejs', 'app.js'])[1]).toBe('--perf-basic-prof');
  });
  it('leaves a user choice alone', () => {
    expect(withNodePerfMap(['node', '--perf-prof', 'app.js'])).toEqual(['node', '--perf-prof', 'app.js']);
    expect(withNodePerfMap(['node', '--prof', 'app.js'])).toEqual(['node', '--perf-basic-prof', '--prof', 'app.js']);
  });
  it('does not touch other commands', () => {
    expect(withNodePerfMap(['./nodeapp', 'x'])).toEqual(['./nodeapp', 'x']);
    expect(withNodePerfMap(['python3', 'node'])).toEqual(['python3', 'node']);
  });
});

describe('parseRecordOptions', () => {
  it('defaults: 99 Hz, 10 s for the whole machine, until exit for a command', () => {
    expect(parseRecordOptions([], {})).toMatchObject({ hz: 99, durationMs: 10_000, pids: [], command: [] });
    expect(parseRecordOptions(['sleep', '1'], {}).durationMs).toBeUndefined();
  });
  it('reads pids and durations', () => {
    expect(parseRecordOptions([], { pid: ['12', '34'], duration: '1m', hz: '49' })).toMatchObject({ pids: [12, 34], durationMs: 60_000, hz: 49 });
  });
  it('rejects a command with --pid, and silly rates', () => {
    expect(() => parseRecordOptions(['ls'], { pid: ['1'] })).toThrow(/either --pid or a command/);
    expect(() => parseRecordOptions([], { hz: '0' })).toThrow(/--hz/);
    expect(() => parseRecordOptions([], { hz: '50000' })).toThrow(/too high/);
  });
});

describe('parseAgentOptions', () => {
  it('defaults: 99 Hz, a 10 s flush, a 1 GiB cap, 7 days kept', () => {
    expect(parseAgentOptions({})).toMatchObject({ hz: 99, flushMs: 10_000, maxSizeBytes: 1024 ** 3, retentionMs: 7 * 86_400_000 });
  });
  it('rejects a flush faster than a second or slower than 10 minutes, and a cap no segment fits in', () => {
    expect(() => parseAgentOptions({ flush: '500ms' })).toThrow(/too short/);
    expect(() => parseAgentOptions({ flush: '2h' })).toThrow(/--flush 2h: too long/);
    expect(parseAgentOptions({ flush: '10m' }).flushMs).toBe(600_000);
    expect(() => parseAgentOptions({ maxSize: '0' })).toThrow(/--max-size 0: too small/);
    expect(() => parseAgentOptions({ maxSize: '3KB' })).toThrow(/too small/);
    expect(parseAgentOptions({ maxSize: '64KiB' }).maxSizeBytes).toBe(65_536);
  });
  it('bounds --hz as record does, before any helper is started', () => {
    expect(() => parseAgentOptions({ hz: '1000000' })).toThrow(/--hz 1000000: too high/);
    expect(() => parseAgentOptions({ hz: '0' })).toThrow(/positive whole number/);
    expect(parseAgentOptions({ hz: '10000' }).hz).toBe(10_000);
  });
});
