// profctl demo's pure parts: its options (duration bounds, defaults) and the
// reading of the `next:` command that `profctl slo` prints, which the demo
// runs as its second step.
import { describe, it, expect } from 'vitest';
import { parseDemoOptions } from '../../src/commands/demo.js';
import { splitCommandLine } from '../../src/commands/demo-walk.js';
import { UserError } from '../../src/errors.js';

describe('parseDemoOptions', () => {
  it('defaults to 60s, temporary store, no --keep, no --json', () => {
    expect(parseDemoOptions({})).toEqual({ durationMs: 60_000, keep: false, json: false, store: undefined });
  });
  it('reads --duration, --keep, --json and --store', () => {
    expect(parseDemoOptions({ duration: '90s', keep: true, json: true, store: '/tmp/s' })).toEqual({ durationMs: 90_000, keep: true, json: true, store: '/tmp/s' });
    expect(parseDemoOptions({ duration: '2m' }).durationMs).toBe(120_000);
  });
  it('refuses a duration too short for the SLO to burn, and one it cannot read', () => {
    expect(() => parseDemoOptions({ duration: '5s' })).toThrow(UserError);
    expect(() => parseDemoOptions({ duration: '5s' })).toThrow(/too short/);
    expect(() => parseDemoOptions({ duration: 'soon' })).toThrow(UserError);
  });
});

describe('splitCommandLine', () => {
  it('splits the trace command slo suggests into argv', () => {
    expect(splitCommandLine('profctl trace --service checkout --since 02:09 --until now --slowest')).toEqual(['profctl', 'trace', '--service', 'checkout', '--since', '02:09', '--until', 'now', '--slowest']);
  });
  it('undoes the shell quoting of names with spaces and quotes', () => {
    expect(splitCommandLine("profctl trace --service 'check out' --spans '/tmp/it'\\''s.json'")).toEqual(['profctl', 'trace', '--service', 'check out', '--spans', "/tmp/it's.json"]);
  });
});
