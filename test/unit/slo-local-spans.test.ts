// The local SLI over spans: which spans are requests, what is bad, window
// counts, and a whole evaluation of the generated checkout incident whose
// numbers are worked out by hand in the comments (see the generator header).
import { describe, expect, it } from 'vitest';
import { evaluateSlo, type SliMeasure } from '../../src/slo/evaluate.js';
import { countsInWindow, requestSeries, rootServerSpans, spansMeasure } from '../../src/slo/spans-sli.js';
import { parseOtlpJson } from '../../src/spans/otlp-json.js';
import type { Span, SpanSource } from '../../src/spans/model.js';
import type { SloDefinition } from '../../src/slo/definition.js';
import { nextCommand } from '../../src/slo/next-command.js';
import { generateCheckoutLines } from '../fixtures/otlp/generate-checkout.mjs';

const day = 86_400_000;
const span = (p: Partial<Span>): Span => ({ traceId: 'a'.repeat(32), spanId: '1'.repeat(16), name: 'x', service: 'checkout', kind: 'server', startMs: 0, endMs: 100, status: 'unset', ...p });

function arraySource(spans: Span[]): SpanSource {
  return {
    description: 'test spans',
    async spansInRange(from, to, opts) {
      return spans.filter((s) => s.endMs >= from && s.startMs <= to && (!opts?.services || opts.services.includes(s.service)));
    },
    async trace(id) {
      return spans.filter((s) => s.traceId === id);
    },
  };
}

const latencySlo: SloDefinition = { name: 'checkout-latency', service: 'checkout', objective: 99.9, latencyMs: 300, windowMs: 30 * day, sli: { kind: 'spans' }, file: 't.yaml' };
const availabilitySlo: SloDefinition = { ...latencySlo, name: 'checkout-availability', objective: 99, latencyMs: undefined };

describe('root server spans', () => {
  it('are spans without a parent, or server spans whose parent is in another service', () => {
    const spans = [
      span({ spanId: '1'.repeat(16) }),
      span({ spanId: '2'.repeat(16), parentSpanId: '1'.repeat(16) }), // server child of a checkout span: nested, not a request
      span({ spanId: '3'.repeat(16), parentSpanId: 'f'.repeat(16) }), // parent in frontend: a request
      span({ spanId: '4'.repeat(16), parentSpanId: 'f'.repeat(16), kind: 'client' }), // a call out, not a request
      span({ spanId: '5'.repeat(16), kind: 'internal' }), // no parent: a root (a job, say)
      span({ spanId: '6'.repeat(16), service: 'payments' }),
    ];
    expect(rootServerSpans(spans, 'checkout').map((s) => s.spanId[0])).toEqual(['1', '3', '5']);
  });
});

describe('window counts', () => {
  it('count requests by end time in (at - window, at], bad by latency or by error status', () => {
    const spans = [
      span({ spanId: '1'.repeat(16), startMs: 0, endMs: 1000 }), // 1000 ms: slow
      span({ spanId: '2'.repeat(16), startMs: 1500, endMs: 1700, status: 'error' }), // fast but failed
      span({ spanId: '3'.repeat(16), startMs: 2700, endMs: 3000 }), // exactly 300 ms: not slower than 300 ms
    ];
    const lat = requestSeries(spans, { service: 'checkout', latencyMs: 300 });
    expect(countsInWindow(lat, 3000, 3000)).toEqual({ total: 3, bad: 1 });
    expect(countsInWindow(lat, 2000, 3000)).toEqual({ total: 2, bad: 0 }); // (1000, 3000]: the slow one ended at 1000
    expect(countsInWindow(lat, 100, 500)).toEqual({ total: 0, bad: 0 }); // an empty window
    const avail = requestSeries(spans, { service: 'checkout' });
    expect(countsInWindow(avail, 3000, 3000)).toEqual({ total: 3, bad: 1 });
    expect(countsInWindow(avail, 500, 1600)).toEqual({ total: 0, bad: 0 }); // (1100, 1600]
    expect(countsInWindow(avail, 1000, 1700)).toEqual({ total: 2, bad: 1 }); // (700, 1700]
  });
});

describe('the generated checkout incident', () => {
  // One request every 10 s for 3 h (1080), ending at anchor − 10k − 1 s; the
  // last 60 (10 minutes) are slow, and k = 500 and 900 too. Errors at k % 50 == 25.
  const anchor = Date.UTC(2026, 0, 1, 3, 0, 0);
  const now = anchor + 2000; // the command runs a little after the file was written
  const spans = parseOtlpJson(generateCheckoutLines(anchor).join('\n'), 'gen').spans;

  it('pages the latency SLO with hand-computed burn rates', async () => {
    const e = await evaluateSlo(latencySlo, spansMeasure(arraySource(spans), latencySlo, now, 31 * day), now);
    expect(e.error).toBeUndefined();
    const budget = 0.001;
    // 5m: k = 0..29, all slow. 30m: 60 slow of 180. 1h: 60/360. 2h: k 0..719, so k = 500 too: 61/720.
    // 6h, 1d, 3d and the 30d window: all 1080 requests, 62 slow.
    expect(e.burnRates!['5m']).toBeCloseTo(30 / 30 / budget, 6);
    expect(e.burnRates!['30m']).toBeCloseTo(60 / 180 / budget, 6);
    expect(e.burnRates!['1h']).toBeCloseTo(60 / 360 / budget, 6);
    expect(e.burnRates!['2h']).toBeCloseTo(61 / 720 / budget, 6);
    for (const w of ['6h', '1d', '3d'] as const) expect(e.burnRates![w]).toBeCloseTo(62 / 1080 / budget, 6);
    expect(e.budgetRemaining).toBeCloseTo(1 - 62 / 1080 / budget, 6);
    expect(e.noTraffic).toEqual([]);
    expect(e.status).toBe('page');
    // 1h/5m pages while the hour holds ≥ 6 slow of 360 (14.4 × 0.001 × 360 = 5.184):
    // slow requests k = 54..59 end 541..591 s before the anchor, so the
    // condition has held since 9 minutes ago (minute steps), not 10.
    expect(e.burningSinceMs).toBe(now - 9 * 60_000);
    expect(e.burningSinceAtLimit).toBe(false);
    const next = nextCommand(e, now, { spans: '/tmp/spans.jsonl' });
    expect(next).toMatch(/^profctl trace --service checkout --since (\d\d:\d\d|\S+Z) --until now --slowest --spans \/tmp\/spans\.jsonl$/);
  });

  it('tickets the availability SLO and finds when errors started', async () => {
    const e = await evaluateSlo(availabilitySlo, spansMeasure(arraySource(spans), availabilitySlo, now, 31 * day), now);
    // 22 errors in 1080 requests everywhere long: 2.04% at 99% → 2.04x; the 5m window (k 0..29) has k=25: 1/30 → 3.33x
    expect(e.burnRates!['3d']).toBeCloseTo(22 / 1080 / 0.01, 6);
    expect(e.burnRates!['6h']).toBeCloseTo(22 / 1080 / 0.01, 6);
    expect(e.burnRates!['5m']).toBeCloseTo(1 / 30 / 0.01, 6);
    expect(e.burnRates!['1h']).toBeCloseTo(7 / 360 / 0.01, 6); // k = 25, 75, …, 325
    expect(e.status).toBe('ticket'); // 3d/6h above 1x; 1d/2h (2.04, 12/720 = 1.67) not above 3x
    // The oldest error (k = 1075) ended 10751 s before the anchor; before it,
    // the windows hold no error, so the ticket condition started then (to the minute).
    const firstError = anchor - 10_751_000;
    expect(e.burningSinceMs).toBeGreaterThanOrEqual(firstError);
    expect(e.burningSinceMs).toBeLessThan(firstError + 60_000);
    expect(nextCommand(e, now)).toBeNull(); // availability SLOs get no trace command
  });

  it('says no traffic for a service without requests: burn 0, budget untouched, ok', async () => {
    const slo = { ...latencySlo, service: 'nobody' };
    const e = await evaluateSlo(slo, spansMeasure(arraySource(spans), slo, now, 31 * day), now);
    expect(Object.values(e.burnRates!)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(e.noTraffic).toEqual(['5m', '30m', '1h', '2h', '6h', '1d', '3d']);
    expect(e.budgetRemaining).toBe(1);
    expect(e.status).toBe('ok');
    expect(e.burningSinceMs).toBeNull();
  });
});

describe('a failing source', () => {
  it('becomes an error on that SLO only', async () => {
    const failing: SliMeasure = {
      countsAt: () => Promise.reject(new Error('Prometheus at http://x: connection refused')),
      history: () => Promise.reject(new Error('unreachable')),
    };
    const e = await evaluateSlo(latencySlo, failing, 0);
    expect(e).toMatchObject({ error: 'Prometheus at http://x: connection refused', burnRates: null, budgetRemaining: null, status: 'ok' });
  });
});
