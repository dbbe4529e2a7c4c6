import { describe, it, expect } from 'vitest';
import { parseDuration, parseSize, parseTimeSpec, parseTimeRange } from '../../src/commands/units.js';

describe('parseDuration', () => {
  it.each([
    ['10s', 10_000],
    ['250ms', 250],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', '10', 'ten seconds', '10x', '5m junk'])('rejects %j', (t) => expect(() => parseDuration(t, '--flush')).toThrow(/--flush/));
});

describe('parseSize', () => {
  it.each([
    ['1GiB', 1024 ** 3],
    ['512MiB', 512 * 1024 ** 2],
    ['1GB', 1e9],
    ['2g', 2e9],
    ['4096', 4096],
  ])('%s', (text, n) => expect(parseSize(text)).toBe(n));
  it('rejects nonsense', () => expect(() => parseSize('lots', '--max-size')).toThrow(/--max-size/));
});

describe('parseTimeSpec', () => {
  const now = Date.UTC(2026, 10, 25, 14, 0, 0);
  it('durations are ago', () => expect(parseTimeSpec('15m', '--since', now)).toBe(now - 900_000));
  it('RFC 3339', () => expect(parseTimeSpec('2026-11-25T02:10:00Z', '--since', now)).toBe(Date.UTC(2026, 10, 25, 2, 10)));
  it('now', () => expect(parseTimeSpec('now', '--until', now)).toBe(now));
  it('clock time is local, today, or yesterday when in the future', () => {
    const t = parseTimeSpec('02:10', '--since', now);
    const d = new Date(t);
    expect(d.getHours()).toBe(2);
    expect(d.getMinutes()).toBe(10);
    expect(t).toBeLessThanOrEqual(now + 60_000);
    expect(now - t).toBeLessThan(86_400_000);
  });
  it('epoch seconds', () => expect(parseTimeSpec('1764037800', '--since', now)).toBe(1764037800_000));
  it('rejects nonsense with the option named', () => expect(() => parseTimeSpec('yesterday-ish', '--since', now)).toThrow(/--since/));
  it('range order is checked', () => expect(() => parseTimeRange('10m', '1h', now)).toThrow(/after --until/));
});
