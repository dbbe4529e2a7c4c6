import { describe, it, expect } from 'vitest';
import { ProfileBuilder } from '../../src/profile/model.js';
import { hottestFrameOf, spanExtent, summarizeTraces } from '../../src/query/traces.js';
import { joinSamplesToSpans } from '../../src/query/join.js';
import { waterfallText } from '../../src/render/trace-view.js';

describe('the hottest function of a trace', () => {
  it('counts kernel time (system calls, interrupt return paths) for the user code that was running', () => {
    const b = new ProfileBuilder([{ type: 'samples', unit: 'count' }]);
    const user = (n: string) => b.frameId({ name: n, module: 'app', kind: 'native' });
    const kern = (n: string) => b.frameId({ name: n, module: '[kernel.kallsyms]', kind: 'kernel' });
    const irq = b.stackId([kern('irqentry_exit_to_user_mode'), kern('asm_sysvec_apic_timer_interrupt'), user('kind_sort'), user('main')]);
    const plain = b.stackId([user('kind_sort'), user('main')]);
    const idle = b.stackId([kern('default_idle'), kern('cpu_startup_entry')]);
    const labels = { trace_id: 'ab'.repeat(16) };
    // More samples end in the interrupt path than in kind_sort itself, as on a busy machine.
    for (let i = 0; i < 6; i++) b.addSample({ stack: irq, values: [1], labels });
    for (let i = 0; i < 4; i++) b.addSample({ stack: plain, values: [1], labels });
    const p = b.build();
    expect(p.frames[hottestFrameOf(p, irq)!]!.name).toBe('kind_sort');
    expect(p.frames[hottestFrameOf(p, idle)!]!.name).toBe('default_idle');
    const spans = [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'GET /sort', service: 's', kind: 'server' as const, startMs: 0, endMs: 10, status: 'unset' as const }];
    const [t] = summarizeTraces(spans, p, joinSamplesToSpans(p, spans));
    expect(t).toMatchObject({ samples: 10, hottest: 'kind_sort' });
  });
});

describe('spanExtent', () => {
  it('spans the earliest start to the latest end, for lists too long to spread into Math.min', () => {
    const spans = Array.from({ length: 300_000 }, (_, i) => ({ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'x', service: 's', kind: 'server' as const, startMs: 1000 + i, endMs: 1000 + i + (i === 5 ? 500_000 : 10), status: 'unset' as const }));
    expect(spanExtent(spans)).toEqual({ fromMs: 1000, toMs: 501_005 });
  });
});

describe('waterfallText', () => {
  it('draws a trace with more spans than a call takes as arguments, on one time axis', () => {
    const span = (i: number) => ({ traceId: 'ab'.repeat(16), spanId: i.toString(16).padStart(16, '0'), name: `step ${i}`, service: 's', kind: 'internal' as const, startMs: i, endMs: i + 1, status: 'unset' as const });
    const n = 200_000;
    const rows = Array.from({ length: n }, (_, i) => ({ span: span(i), depth: i === 0 ? 0 : 1, offsetMs: i, durationMs: i === 0 ? n : 1, samples: 0 }));
    const lines = waterfallText(rows, 100).trimEnd().split('\n');
    expect(lines).toHaveLength(n + 1);
    // The root spans the whole axis; the last step starts at its right end.
    expect(lines[1]).toMatch(/█{35}\s+step 0/);
    expect(lines[n]).toMatch(/ {34}█\s+step 199999$/);
  });
});
