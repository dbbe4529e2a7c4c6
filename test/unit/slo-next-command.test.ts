// The next command of the walk: a --since that `profctl trace` reads (a local
// clock time today, else RFC 3339), only for burning latency SLOs, naming the
// same span data the SLO was measured on.
import { describe, expect, it } from 'vitest';
import { nextCommand, sinceArgument, traceLeadMs } from '../../src/slo/next-command.js';
import type { SloEvaluation } from '../../src/slo/evaluate.js';
import { sinceText } from '../../src/render/slo-table.js';
import { flameCommand } from '../../src/commands/trace.js';

const local = (h: number, m: number, s = 0, dayOffset = 0) => new Date(2026, 2, 10 + dayOffset, h, m, s).getTime();

function evaluation(p: Partial<SloEvaluation> & { latencyMs?: number; kind?: 'spans' | 'prometheus' }): SloEvaluation {
  const sli = p.kind === 'prometheus' ? { kind: 'prometheus' as const, url: 'http://p', good: 'g', total: 't', timeoutMs: 1000 } : { kind: 'spans' as const };
  return {
    slo: { name: 'x', service: 'check out', objective: 99, latencyMs: 'latencyMs' in p ? p.latencyMs : 300, windowMs: 30 * 86_400_000, sli, file: 'f' },
    burnRates: null,
    noTraffic: [],
    budgetRemaining: 0.5,
    status: 'page',
    firing: [],
    burningSinceMs: local(2, 14, 30),
    burningSinceAtLimit: false,
    ...p,
  };
}

describe('sinceArgument', () => {
  it('is a local clock time, rounded down to the minute, earlier the same day', () => {
    expect(sinceArgument(local(2, 9, 59), local(2, 30))).toBe('02:09');
  });
  it('is RFC 3339 (UTC) on another day', () => {
    const t = local(23, 58, 10, -1);
    expect(sinceArgument(t, local(0, 5))).toBe(new Date(local(23, 58, 0, -1)).toISOString().replace('.000Z', 'Z'));
  });
});

describe('sinceText (the BURNING SINCE cell)', () => {
  it('is the local clock time when the burn began today', () => {
    expect(sinceText(evaluation({ burningSinceMs: local(0, 1, 40) }), local(0, 9))).toBe('00:01');
  });
  it('puts the month and day in front when it began on another day, as just after midnight', () => {
    expect(sinceText(evaluation({ burningSinceMs: local(23, 54, 0, -1) }), local(0, 2))).toBe('Mar 09 23:54');
  });
  it('marks a burn that goes back at least as far as the data with ≥', () => {
    expect(sinceText(evaluation({ burningSinceMs: local(1, 0), burningSinceAtLimit: true }), local(2, 0))).toBe('≥01:00');
    expect(sinceText(evaluation({ burningSinceMs: null }), local(2, 0))).toBe('-');
  });
});

describe('nextCommand', () => {
  const now = local(2, 30);
  it('opens the trace window one short alert window before the burn began', () => {
    expect(traceLeadMs).toBe(5 * 60_000);
    expect(nextCommand(evaluation({}), now)).toBe("profctl trace --service 'check out' --since 02:09 --until now --slowest");
  });
  it('names the span file or store the SLO was measured on', () => {
    expect(nextCommand(evaluation({}), now, { spans: '/data/spans.jsonl' })).toMatch(/--slowest --spans \/data\/spans\.jsonl$/);
    expect(nextCommand(evaluation({}), now, { store: '/srv/store' })).toMatch(/--slowest --store \/srv\/store$/);
    expect(nextCommand(evaluation({ kind: 'prometheus' }), now, { spans: '/data/spans.jsonl' })).not.toMatch(/--spans/);
  });
  it('is null for availability SLOs, calm SLOs and failed sources', () => {
    expect(nextCommand(evaluation({ latencyMs: undefined }), now)).toBeNull();
    expect(nextCommand(evaluation({ status: 'ok', burningSinceMs: null }), now)).toBeNull();
    expect(nextCommand(evaluation({ error: 'down' }), now)).toBeNull();
  });
  it('is given for tickets too', () => {
    expect(nextCommand(evaluation({ status: 'ticket' }), now)).toMatch(/^profctl trace /);
  });
});

describe("trace's next command (flame --trace-id)", () => {
  const id = '4bf92f3577b34da6a3ce929d0e0e4736';
  it('names the same data as the listing, quoted for the shell', () => {
    expect(flameCommand(id, {})).toBe(`profctl flame --trace-id ${id}`);
    expect(flameCommand(id, { input: ['/tmp/my run/cpu.pb.gz', 'b.perf'], inputFormat: 'perf-script', spans: 'jaeger+http://jaeger:16686', includeAmbiguous: true })).toBe(
      `profctl flame --trace-id ${id} --input '/tmp/my run/cpu.pb.gz' --input b.perf --input-format perf-script --spans jaeger+http://jaeger:16686 --include-ambiguous`,
    );
    expect(flameCommand(id, { store: "/srv/o'brien/store" })).toBe(`profctl flame --trace-id ${id} --store '/srv/o'\\''brien/store'`);
  });
});
