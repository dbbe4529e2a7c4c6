// Fuzzing segment and table decoding: whatever the bytes, decoding ends with
// a result or a DecodeError (never another exception, never a hang), and the
// reader turns any damage into a warning.
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/store/binary.js';
import { openStoreReader, openStoreWriter } from '../../src/store/index.js';
import { SectionKind, decodeMeta, decodeRows, decodeSamples, decodeSegmentHeader, readSection } from '../../src/store/segment-codec.js';
import { decodeSpans } from '../../src/store/span-codec.js';
import { scanTableBytes } from '../../src/store/tables.js';
import { makeProfile, makeSpans, tempStoreDir } from './store-fixtures.js';
import { segmentFiles } from '../support/store-files.js';

const T0 = Date.UTC(2025, 0, 15, 2, 0, 0);
let dir: string;
let segment: Uint8Array;
let stacksTable: Uint8Array;

beforeAll(() => {
  dir = tempStoreDir();
  const w = openStoreWriter(dir, { durable: false });
  const p = makeProfile(T0, 300, 3);
  p.samples.forEach((s, i) => (s.values = [1, i % 5 === 0 ? 7 : 3])); // per-sample values too
  const { file } = w.appendSegment({ startMs: T0, endMs: T0 + 10_000, profile: p, spans: makeSpans(T0, 12) });
  w.close();
  segment = fs.readFileSync(path.join(dir, 'segments', file));
  stacksTable = fs.readFileSync(path.join(dir, 'tables', 'g000001.stacks'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs every decoding step a query can run; returns normally or throws DecodeError. */
function decodeAll(buf: Uint8Array): void {
  const h = decodeSegmentHeader(buf);
  const metaBytes = readSection(buf, h, SectionKind.meta);
  if (metaBytes) {
    const meta = decodeMeta(metaBytes);
    const rowsBytes = readSection(buf, h, SectionKind.rows);
    const rows = rowsBytes ? decodeRows(rowsBytes, meta, h.stackCount) : undefined;
    const sb = readSection(buf, h, SectionKind.samples);
    if (sb && rows) decodeSamples(sb, meta, rows.tuple.length);
  }
  const spans = readSection(buf, h, SectionKind.spans);
  if (spans) decodeSpans(spans);
}

function onlyDecodeErrors(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
  }
}

/** A valid segment with some bytes replaced, some cut off, or some inserted. */
const mutated = () =>
  fc.oneof(
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }).map((edits) => {
      const b = Uint8Array.from(segment);
      for (const [at, v] of edits) b[at % b.length] = v;
      return b;
    }),
    fc.nat().map((n) => segment.slice(0, n % segment.length)),
    fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([at, ins]) => {
      const cut = at % segment.length;
      return Uint8Array.from([...segment.subarray(0, cut), ...ins, ...segment.subarray(cut)]);
    }),
  );

describe('segment decoding fuzz', () => {
  it('decodes the unmutated segment', () => {
    expect(() => decodeAll(segment)).not.toThrow();
  });

  it('random bytes end in a DecodeError or a result', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), (b) => onlyDecodeErrors(() => decodeAll(b))), { numRuns: 2000 });
  });

  it('random bytes behind a valid magic and version end in a DecodeError or a result', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (b) => onlyDecodeErrors(() => decodeAll(Uint8Array.from([...segment.subarray(0, 8), ...b])))),
      { numRuns: 2000 },
    );
  });

  it('mutated segments end in a DecodeError or a result', () => {
    fc.assert(fc.property(mutated(), (b) => onlyDecodeErrors(() => decodeAll(b))), { numRuns: 3000 });
  });

  // Checksums stop most mutations at the header; these go past them, straight to the section decoders.
  it('section decoders take any bytes', () => {
    const h = decodeSegmentHeader(segment);
    const meta = decodeMeta(readSection(segment, h, SectionKind.meta)!);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (b) => {
        onlyDecodeErrors(() => decodeMeta(b));
        onlyDecodeErrors(() => decodeRows(b, meta, h.stackCount));
        onlyDecodeErrors(() => decodeSamples(b, meta, 50));
        onlyDecodeErrors(() => decodeSpans(b));
      }),
      { numRuns: 3000 },
    );
    const sections = [SectionKind.meta, SectionKind.rows, SectionKind.samples, SectionKind.spans].map((k) => Uint8Array.from(readSection(segment, h, k)!));
    fc.assert(
      fc.property(fc.nat(3), fc.nat(), fc.integer({ min: 0, max: 255 }), (which, at, v) => {
        const b = Uint8Array.from(sections[which]!);
        b[at % b.length] = v;
        if (which === 0) onlyDecodeErrors(() => decodeMeta(b));
        if (which === 1) onlyDecodeErrors(() => decodeRows(b, meta, h.stackCount));
        if (which === 2) onlyDecodeErrors(() => decodeSamples(b, meta, 50));
        if (which === 3) onlyDecodeErrors(() => decodeSpans(b));
      }),
      { numRuns: 3000 },
    );
  });

  it('table scans stop at the first bad chunk and never throw on chunk damage', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (at, v, cut) => {
        const b = Uint8Array.from(stacksTable.subarray(0, 16 + (cut % (stacksTable.length - 15))));
        if (b.length > 16) b[16 + (at % (b.length - 16))] = v;
        const scan = scanTableBytes<number[]>(b, 'stacks', 0, 0, () => 1e6);
        expect(scan.validBytes + scan.invalidTailBytes).toBe(b.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('the reader never throws on a damaged segment file, and warns', async () => {
    const segDir = path.join(dir, 'segments');
    const file = segmentFiles(dir).find((f) => f.endsWith('.seg'))!;
    await fc.assert(
      fc.asyncProperty(mutated(), async (b) => {
        fs.writeFileSync(path.join(segDir, file), b);
        const warnings: string[] = [];
        const r = openStoreReader(dir, { onWarning: (m) => warnings.push(m) });
        const p = await r.readProfile({ aggregate: true });
        const full = await r.readProfile();
        const spans = await r.readSpans();
        expect(p.samples.length <= 300 && full.samples.length <= 300 && spans.length <= 12).toBe(true);
        if (full.samples.length < 300 || spans.length < 12) expect(warnings.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
    fs.writeFileSync(path.join(segDir, file), segment);
  });
});
