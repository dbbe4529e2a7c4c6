// OTLP JSON parsing: Collector file-exporter lines, a single pretty-printed
// object, hex and base64 ids, string and number int64s, enum names and
// numbers, bad lines counted (not fatal) unless nothing parses.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOtlpJson, normalizeId, decodeOtlpJsonText } from '../../src/spans/otlp-json.js';
import { OtlpFileSpanSource } from '../../src/spans/file-source.js';
import { BadInputError } from '../../src/errors.js';
import { generateCheckoutLines, requestCount } from '../fixtures/otlp/generate-checkout.mjs';

const fixtures = join(__dirname, '../fixtures/otlp');

describe('normalizeId', () => {
  it('accepts hex of the right length, lower-casing it', () => {
    expect(normalizeId('5B8EFFF798038103D269B633813FC60C', 16)).toBe('5b8efff798038103d269b633813fc60c');
  });
  it('accepts base64 (standard and url-safe) of the right byte length', () => {
    expect(normalizeId('S/kvNXezTaajzpKdDg5HNg==', 16)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(normalizeId('S_kvNXezTaajzpKdDg5HNg==', 16)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(normalizeId('APBnqgupArc=', 8)).toBe('00f067aa0ba902b7');
  });
  it('rejects empty, all-zero, wrong-length and non-id strings', () => {
    expect(normalizeId('', 8)).toBeUndefined();
    expect(normalizeId('0000000000000000', 8)).toBeUndefined();
    expect(normalizeId('AAAAAAAAAAA=', 8)).toBeUndefined();
    expect(normalizeId('abc', 8)).toBeUndefined();
    expect(normalizeId('zz', 16)).toBeUndefined();
    expect(normalizeId(42, 8)).toBeUndefined();
  });
});

describe('parseOtlpJson', () => {
  it('reads file-exporter lines with mixed encodings and counts the bad lines and spans', () => {
    const r = parseOtlpJson(readFileSync(join(fixtures, 'mixed-encodings.jsonl'), 'utf8'), 'mixed.jsonl');
    expect(r.badLines).toBe(2);
    expect(r.badSpans).toBe(1);
    expect(r.warnings.join('\n')).toMatch(/ignored 2 lines .*line 2/);
    expect(r.warnings.join('\n')).toMatch(/skipped 1 spans/);
    expect(r.spans).toHaveLength(3);
    const [checkout, legacy, charge] = r.spans;
    expect(checkout).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      name: 'POST /checkout',
      service: 'checkout',
      kind: 'server',
      startMs: 1767225600000,
      endMs: 1767225600350.123,
      status: 'error',
      pid: 4100,
      tid: 4201,
      attributes: { 'thread.id': 4201 },
    });
    expect(legacy).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', kind: 'server', status: 'ok', startMs: 1767225601000, endMs: 1767225601100 });
    expect(legacy!.parentSpanId).toBeUndefined();
    expect(legacy!.pid).toBeUndefined();
    expect(charge).toMatchObject({ service: 'payments', parentSpanId: '00f067aa0ba902b7', tid: 5150, status: 'unset', attributes: { retry: true, ratio: 0.5 } });
  });

  it('reads a single pretty-printed object', () => {
    const r = parseOtlpJson(readFileSync(join(fixtures, 'single-object.json'), 'utf8'), 'single.json');
    expect(r.badLines).toBe(0);
    expect(r.spans).toEqual([
      { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'GET /users', service: 'api', kind: 'server', startMs: 1544712660000, endMs: 1544712661000, status: 'unset', pid: 77 },
    ]);
  });

  it('reads one object and one line holding more spans than a call takes as arguments', () => {
    const n = 150_000;
    const spans = Array.from({ length: n }, (_, i) => ({
      traceId: (i + 1).toString(16).padStart(32, '0'),
      spanId: (i + 1).toString(16).padStart(16, '0'),
      name: 'GET /x',
      kind: 2,
      startTimeUnixNano: `${1_764_288_000_000 + i}000000`,
      endTimeUnixNano: `${1_764_288_000_005 + i}000000`,
    }));
    const text = JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] }, scopeSpans: [{ spans }] }] });
    for (const input of [text, `${text}\n${text.replace(/"svc"/, '"svc2"')}\n`]) {
      const r = parseOtlpJson(input, 'big.json');
      expect(r.badLines).toBe(0);
      expect(r.spans.length).toBe(input === text ? n : 2 * n);
      expect(r.spans[n - 1]).toMatchObject({ spanId: n.toString(16).padStart(16, '0'), service: 'svc', startMs: 1_764_288_000_000 + n - 1, endMs: 1_764_288_000_005 + n - 1 });
    }
  });

  it('fails, naming the source, when nothing parses', () => {
    expect(() => parseOtlpJson('hello\nworld\n', 'junk.txt')).toThrow(BadInputError);
    expect(() => parseOtlpJson('hello\nworld\n', 'junk.txt')).toThrow(/junk\.txt: not OTLP trace JSON \(line 1/);
    expect(() => parseOtlpJson('{"a":1}', 'obj.json')).toThrow(/obj\.json: not OTLP trace JSON/);
  });

  it('treats an empty file as no spans, with a note', () => {
    const r = parseOtlpJson('\n\n', 'empty.jsonl');
    expect(r.spans).toEqual([]);
    expect(r.warnings[0]).toMatch(/empty/);
  });

  it('reads every span the generator wrote', () => {
    const lines = generateCheckoutLines(1767236400000);
    const r = parseOtlpJson(lines.join('\n'), 'gen');
    expect(r.badLines).toBe(0);
    const checkoutServer = r.spans.filter((s) => s.service === 'checkout' && s.kind === 'server');
    expect(checkoutServer).toHaveLength(requestCount);
    // frontend calls for k % 3 == 0, checkout's child spans, payments' server spans
    expect(r.spans.filter((s) => s.service === 'frontend')).toHaveLength(requestCount / 3);
    expect(r.spans.filter((s) => s.service === 'payments')).toHaveLength(requestCount);
    expect(r.spans).toHaveLength(requestCount * 4 + requestCount / 3);
  });
});

describe('decodeOtlpJsonText (receiver bodies)', () => {
  it('decodes a body and counts rejected spans; throws on non-JSON', () => {
    const line = readFileSync(join(fixtures, 'mixed-encodings.jsonl'), 'utf8').split('\n')[4]!;
    const r = decodeOtlpJsonText(line);
    expect(r.spans).toHaveLength(1);
    expect(r.rejected).toBe(1);
    expect(decodeOtlpJsonText('{}')).toEqual({ spans: [], rejected: 0 });
    expect(() => decodeOtlpJsonText('nope')).toThrow();
  });
});

describe('OtlpFileSpanSource', () => {
  it('filters by overlap and service, finds traces, reports warnings once', async () => {
    const warnings: string[] = [];
    const src = new OtlpFileSpanSource(join(fixtures, 'mixed-encodings.jsonl'), (w) => warnings.push(w));
    expect(await src.spansInRange(1767225600150, 1767225600160)).toHaveLength(2);
    expect(await src.spansInRange(0, Number.MAX_SAFE_INTEGER, { services: ['payments'] })).toHaveLength(1);
    expect((await src.trace('4BF92F3577B34DA6A3CE929D0E0E4736')).map((s) => s.name).sort()).toEqual(['POST /charge', 'POST /checkout', 'legacy']);
    expect(warnings).toHaveLength(2);
  });
  it('names a missing file', async () => {
    const src = new OtlpFileSpanSource('/nonexistent/spans.jsonl');
    await expect(src.spansInRange(0, 1)).rejects.toThrow(/spans\.jsonl: no such file/);
  });
});
