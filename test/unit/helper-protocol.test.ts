// The helper's wire protocol decoder, on streams built here byte by byte from
// the layout in src/native/protocol.md (an independent encoder, so a change
// to either side shows up as a failure).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RawSample } from '../../src/capture/capture-types.js';
import { blockSamples, HelperStreamDecoder, ProtocolError, type HelperRecord } from '../../src/capture/helper-protocol.js';

function header(version = 3, magic = 0x4c544350): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(magic, 0);
  b.writeUInt16LE(version, 4);
  b.writeUInt16LE(16, 6);
  b.writeUInt32LE(4242, 8);
  return b;
}

function record(type: number, payload: Buffer, flags = 0): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(8 + payload.length, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(flags, 6);
  return Buffer.concat([b, payload]);
}

interface SampleSpec { wallNs: bigint; pid: number; tid: number; cpu: number; comm: string; user: bigint[]; kernel: bigint[]; trace?: Buffer }

function sample(s: SampleSpec): Buffer {
  const fixed = Buffer.alloc(44);
  fixed.writeBigUInt64LE(s.wallNs, 0);
  fixed.writeUInt32LE(s.pid, 8);
  fixed.writeUInt32LE(s.tid, 12);
  fixed.writeUInt32LE(s.cpu, 16);
  fixed.writeUInt16LE(s.user.length, 20);
  fixed.writeUInt16LE(s.kernel.length, 22);
  fixed.writeUInt16LE(s.trace ? 1 : 0, 24);
  fixed.write(s.comm, 28, 16, 'utf8');
  const stacks = Buffer.alloc(8 * (s.user.length + s.kernel.length));
  [...s.user, ...s.kernel].forEach((a, i) => stacks.writeBigUInt64LE(a, 8 * i));
  return record(2, Buffer.concat([fixed, s.trace ?? Buffer.alloc(0), stacks]));
}

function stats(samples: number, lost: number, flags = 0): Buffer {
  const p = Buffer.alloc(48);
  p.writeBigUInt64LE(BigInt(samples), 0);
  p.writeBigUInt64LE(BigInt(lost), 8);
  p.writeBigUInt64LE(3n, 16);
  p.writeBigUInt64LE(1n, 24);
  p.writeBigUInt64LE(123456789n, 32);
  p.writeBigUInt64LE(1_700_000_000_123_456_789n, 40);
  return record(3, p, flags);
}

const traced: SampleSpec = {
  wallNs: 1_700_000_000_123_456_789n, pid: 100, tid: 101, cpu: 1, comm: 'worker-1',
  user: [0x401136n, 0x401180n, 0x7f1234567890n], kernel: [0xffffffff81a2b3c4n, 0xffffffffc0de0001n],
  trace: Buffer.from('4bf92f3577b34da6a3ce929d0e0e4736' + '00f067aa0ba902b7', 'hex'),
};
const plain: SampleSpec = { wallNs: 1_700_000_000_200_000_000n, pid: 7, tid: 7, cpu: 0, comm: 'a-sixteen-chars!', user: [], kernel: [0xffffffff81000000n] };

const stream = Buffer.concat([header(), sample(traced), record(99, Buffer.from('from the future')), sample(plain), stats(2, 5)]);

function stackRec(id: number, pid: number, user: bigint[], kernel: bigint[], reset = false): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32LE(id, 0);
  fixed.writeUInt32LE(pid, 4);
  fixed.writeUInt16LE(user.length, 8);
  fixed.writeUInt16LE(kernel.length, 10);
  fixed.writeUInt32LE(reset ? 1 : 0, 12);
  const words = Buffer.alloc(8 * (user.length + kernel.length));
  [...user, ...kernel].forEach((a, i) => words.writeBigUInt64LE(a, 8 * i));
  return record(8, Buffer.concat([fixed, words]));
}
function commRec(id: number, comm: string): Buffer {
  const p = Buffer.alloc(20);
  p.writeUInt32LE(id, 0);
  p.write(comm, 4, 16, 'utf8');
  return record(9, p);
}

interface ColumnSpec { wallNs: bigint; pid: number; tid: number; cpu: number; stack: number; comm: number; trace?: Buffer }

/** A SAMPLES record (version 6), laid out column by column as protocol.md says. */
function samplesRec(rows: ColumnSpec[]): Buffer {
  const n = rows.length;
  const traced = rows.flatMap((r, i) => (r.trace ? [[i, r.trace] as const] : []));
  const p = Buffer.alloc(8 + 28 * n + 28 * traced.length);
  p.writeUInt32LE(n, 0);
  p.writeUInt32LE(traced.length, 4);
  rows.forEach((r, i) => {
    p.writeDoubleLE(Number(r.wallNs / 1000n) / 1000, 8 + 8 * i);
    const fields = [r.pid, r.tid, r.cpu, r.stack, r.comm];
    fields.forEach((v, k) => p.writeUInt32LE(v, 8 + 8 * n + 4 * n * k + 4 * i));
  });
  traced.forEach(([i, t], k) => {
    p.writeUInt32LE(i, 8 + 28 * n + 28 * k);
    t.copy(p, 8 + 28 * n + 28 * k + 4);
  });
  return record(11, p);
}

/** The stream cut into chunks at these byte offsets (any order). */
function chunksAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
  return points.slice(1).map((end, i) => bytes.subarray(points[i], end));
}

/** The `traced` spec as every version decodes it: its fields, its trace context and its stacks. */
function expectTracedSpec(s: RawSample | undefined): void {
  expect({ timeMs: s?.timeMs, pid: s?.pid, tid: s?.tid, cpu: s?.cpu, comm: s?.comm, traceId: s?.traceId, spanId: s?.spanId }).toEqual({
    timeMs: 1_700_000_000_123.456, pid: 100, tid: 101, cpu: 1, comm: 'worker-1',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7',
  });
  expect(s?.userStack).toEqual(traced.user);
  expect(s?.kernelStack).toEqual(traced.kernel);
}

function decodeAll(chunks: Buffer[]): { records: HelperRecord[]; decoder: HelperStreamDecoder } {
  const decoder = new HelperStreamDecoder();
  const records = chunks.flatMap((c) => decoder.push(c));
  return { records, decoder };
}

describe('helper stream decoder', () => {
  it('decodes samples with exact 64-bit addresses, trace context and µs wall time', () => {
    const { records, decoder } = decodeAll([stream]);
    expect(records.map((r) => r.type)).toEqual(['header', 'sample', 'sample', 'stats']);
    expect(decoder.skipped).toBe(1);
    expect(decoder.trailingBytes).toBe(0);
    const first = records[1].type === 'sample' ? records[1].sample : undefined;
    // Stacks are decoded when asked for.
    expect({ ...first, userStack: first?.userStack, kernelStack: first?.kernelStack }).toEqual({
      timeMs: 1_700_000_000_123.456, pid: 100, tid: 101, cpu: 1, comm: 'worker-1',
      userStack: traced.user, kernelStack: traced.kernel,
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7',
    });
    expect(first?.userStack).toBe(first?.userStack); // decoded once
    const second = records[2].type === 'sample' ? records[2].sample : undefined;
    expect(second?.comm).toBe('a-sixteen-chars!');
    expect(second?.traceId).toBeUndefined();
    expect(second?.userStack).toEqual([]);
    expect(records[3]).toMatchObject({ type: 'stats', samples: 2, lost: 5, errors: 3, followed: 1, helperCpuNs: 123456789, wallMs: 1_700_000_000_123.456, batch: false });
  });

  it('tells a stats record that answers a batch command (version 5) by its record flag', () => {
    const { records } = decodeAll([Buffer.concat([header(5), stats(1, 0), stats(2, 0, 1), stats(3, 0, 2)])]);
    expect(records.filter((r) => r.type === 'stats').map((r) => r.type === 'stats' && [r.samples, r.batch])).toEqual([[1, false], [2, true], [3, false]]);
  });

  it('turns nanosecond times (to the year 2255) into exact µs-precision milliseconds', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 53n * 1000n - 1n }), (wallNs) => {
      const { records } = decodeAll([header(), sample({ ...plain, wallNs })]);
      const s = records[1]!.type === 'sample' ? records[1].sample : undefined;
      expect(s?.timeMs).toBe(Number(wallNs / 1000n) / 1000);
    }), { numRuns: 2000 });
  });

  it('gives the same records however the stream is split into chunks', () => {
    const whole = decodeAll([stream]).records;
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }), (cuts) => {
      expect(decodeAll(chunksAt(stream, cuts)).records).toEqual(whole);
    }));
  });

  it('keeps an unfinished record for the next chunk', () => {
    const { records, decoder } = decodeAll([stream.subarray(0, stream.length - 10)]);
    expect(records.map((r) => r.type)).toEqual(['header', 'sample', 'sample']);
    expect(decoder.trailingBytes).toBe(56 - 10); // the 56-byte stats record, less the 10 bytes cut off
  });

  it('decodes error and tls records', () => {
    const err = Buffer.alloc(8);
    err.writeUInt32LE(10, 0);
    err.writeInt32LE(1, 4);
    const tls = Buffer.alloc(16);
    tls.writeUInt32LE(55, 0);
    tls.writeBigInt64LE(-8n, 8);
    const { records } = decodeAll([header(), record(4, Buffer.concat([err, Buffer.from('creating BPF map pctl_config: Operation not permitted')])), record(5, tls)]);
    expect(records.slice(1)).toEqual([
      { type: 'error', code: 10, errno: 1, message: 'creating BPF map pctl_config: Operation not permitted' },
      { type: 'tls', pid: 55, offset: -8 },
    ]);
  });

  it('decodes process snapshots (version 2) and still reads version 1 streams', () => {
    const maps = '55d0c0a00000-55d0c0a01000 r-xp 00001000 08:01 1234 /usr/bin/short-lived\n7ffd1c5f2000-7ffd1c5f4000 r-xp 00000000 00:00 0 [vdso]\n';
    const fixed = Buffer.alloc(48);
    fixed.writeUInt32LE(4321, 0);
    fixed.writeUInt16LE(2, 4); // exec
    fixed.writeUInt16LE(1, 6); // same root
    fixed.writeBigUInt64LE(987654n, 8);
    fixed.writeBigUInt64LE(1_700_000_000_250_000_000n, 16);
    fixed.writeUInt32LE(12, 24);
    fixed.writeUInt32LE(Buffer.byteLength(maps), 28);
    fixed.write('node', 32, 16, 'utf8');
    const proc = record(6, Buffer.concat([fixed, Buffer.from(maps), Buffer.from('/tmp/perf-12.map')]));
    const { records } = decodeAll([header(2), proc, sample(plain)]);
    expect(records[1]).toEqual({
      type: 'process',
      process: { pid: 4321, reason: 'exec', sameRoot: true, startTime: '987654', timeMs: 1_700_000_000_250, nsPid: 12, comm: 'node', maps, perfMapPath: '/tmp/perf-12.map' },
    });
    const noPerfMap = record(6, Buffer.concat([fixed, Buffer.from(maps)]));
    expect(decodeAll([header(2), noPerfMap]).records[1]).not.toHaveProperty('process.perfMapPath');
    const truncated = record(6, Buffer.concat([fixed, Buffer.from(maps.slice(0, 10))]));
    expect(() => decodeAll([header(2), truncated])).toThrow(/process record too short/);
    expect(decodeAll([header(1), sample(plain)]).records.map((r) => r.type)).toEqual(['header', 'sample']);
  });

  it('decodes kernel names (version 3) and the ready flag that announces them', () => {
    const ksym = (addr: bigint, start: bigint, name: string, module: string) => {
      const fixed = Buffer.alloc(24);
      fixed.writeBigUInt64LE(addr, 0);
      fixed.writeBigUInt64LE(start, 8);
      fixed.writeUInt16LE(Buffer.byteLength(name), 16);
      fixed.writeUInt16LE(Buffer.byteLength(module), 18);
      return record(7, Buffer.concat([fixed, Buffer.from(name), Buffer.from(module)]));
    };
    const ready = Buffer.alloc(32);
    ready.writeUInt32LE(99, 0);
    ready.writeUInt32LE(2, 4);
    ready.writeInt32LE(-1, 16);
    ready.writeUInt32LE(2, 20); // kernel names on, TLS off
    const { records } = decodeAll([
      header(3),
      record(1, ready),
      ksym(0xffffffff816b7437n, 0xffffffff816b7430n, 'do_sys_openat2', ''),
      ksym(0xffffffffc0de0000n, 0xffffffffc0ddff00n, 'nf_hook_slow', '[nf_tables]'),
      ksym(0xffffffffc0201000n, 0n, '', ''),
      sample(plain),
    ]);
    expect(records[1]).toMatchObject({ type: 'ready', tlsEnabled: false, kernelNames: true });
    expect(records.slice(2, 5)).toEqual([
      { type: 'ksym', addr: 0xffffffff816b7437n, name: 'do_sys_openat2', module: '' },
      { type: 'ksym', addr: 0xffffffffc0de0000n, name: 'nf_hook_slow', module: '[nf_tables]' },
      { type: 'ksym', addr: 0xffffffffc0201000n, name: '', module: '' },
    ]);
    const cut = ksym(1n, 0n, 'a_long_name', '');
    cut.writeUInt32LE(cut.length - 4, 0);
    expect(() => decodeAll([header(3), cut.subarray(0, cut.length - 4)])).toThrow(/ksym record too short/);
  });

  it('decodes numbered stacks and thread names (version 4): every sample of a number shares one stack object', () => {
    const ref = (wallNs: bigint, pid: number, tid: number, stack: number, comm: number, trace?: Buffer) => {
      const p = Buffer.alloc(32);
      p.writeBigUInt64LE(wallNs, 0);
      p.writeUInt32LE(pid, 8);
      p.writeUInt32LE(tid, 12);
      p.writeUInt32LE(1, 16);
      p.writeUInt32LE(stack, 20);
      p.writeUInt32LE(comm, 24);
      p.writeUInt16LE(trace ? 1 : 0, 28);
      return record(10, Buffer.concat([p, trace ?? Buffer.alloc(0)]));
    };
    const stream4 = Buffer.concat([
      header(4),
      stackRec(0, 100, traced.user, traced.kernel, true),
      commRec(0, 'worker-1'),
      commRec(1, 'a-sixteen-chars!'),
      ref(1_700_000_000_123_456_789n, 100, 101, 0, 0, traced.trace),
      ref(1_700_000_000_124_000_000n, 100, 102, 0, 1),
      stackRec(1, 100, [0x401136n], []),
      ref(1_700_000_000_125_000_000n, 100, 101, 1, 0),
    ]);
    const { records } = decodeAll([stream4]);
    expect(records.map((r) => r.type)).toEqual(['header', 'sample', 'sample', 'sample']);
    const [a, b, c] = records.slice(1).map((r) => (r.type === 'sample' ? r.sample : undefined));
    expectTracedSpec(a);
    expect(b?.shared).toBe(a?.shared);
    expect(b?.comm).toBe('a-sixteen-chars!');
    expect(b?.traceId).toBeUndefined();
    expect(c?.shared).not.toBe(a?.shared);
    expect(c?.userStack).toEqual([0x401136n]);
    expect(c?.kernelStack).toEqual([]);
    // Any split of the stream gives the same samples.
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream4.length - 1 }), { maxLength: 8 }), (cuts) => {
      const got = decodeAll(chunksAt(stream4, cuts)).records;
      expect(got.map((r) => (r.type === 'sample' ? [r.sample.tid, r.sample.comm, r.sample.userStack] : r.type))).toEqual(
        records.map((r) => (r.type === 'sample' ? [r.sample.tid, r.sample.comm, r.sample.userStack] : r.type)),
      );
    }), { numRuns: 200 });
    // A restart of the numbering voids the earlier numbers; a sample may only name a defined one.
    expect(() => decodeAll([header(4), stackRec(0, 1, [1n], [], true), stackRec(1, 1, [2n], []), stackRec(0, 1, [3n], [], true), commRec(0, 'x'), ref(0n, 1, 1, 1, 0)])).toThrow(/stack 1, which was not defined/);
    expect(() => decodeAll([header(4), stackRec(0, 1, [1n], [], true), ref(0n, 1, 1, 0, 3)])).toThrow(/thread name 3, which was not defined/);
    const short = stackRec(0, 1, [1n, 2n], []);
    short.writeUInt32LE(short.length - 8, 0);
    expect(() => decodeAll([header(4), short.subarray(0, short.length - 8)])).toThrow(/stack record too short/);
  });

  it('decodes runs of samples in columns (version 6) as SAMPLE_REF records of the same samples decode', () => {
    const process = Buffer.alloc(48);
    process.writeUInt32LE(100, 0);
    process.writeUInt16LE(1, 4);
    process.write('worker', 32, 16, 'utf8');
    const rows: ColumnSpec[] = [
      { wallNs: 1_700_000_000_123_456_789n, pid: 100, tid: 101, cpu: 1, stack: 0, comm: 0, trace: traced.trace },
      { wallNs: 1_700_000_000_124_000_000n, pid: 100, tid: 102, cpu: 0, stack: 0, comm: 1 },
      { wallNs: 1_700_000_000_125_000_999n, pid: 100, tid: 101, cpu: 1, stack: 1, comm: 0 },
    ];
    const stream6 = Buffer.concat([
      header(6),
      stackRec(0, 100, traced.user, traced.kernel, true),
      stackRec(1, 100, [0x401136n], []),
      commRec(0, 'worker-1'),
      commRec(1, 'a-sixteen-chars!'),
      record(6, process),
      samplesRec(rows.slice(0, 2)),
      stats(2, 0, 1),
      samplesRec(rows.slice(2)),
      // A restart after the run: the run keeps the numbering it was read with.
      stackRec(0, 100, [0x999n], [], true),
      commRec(0, 'renamed'),
      samplesRec([{ ...rows[0]!, trace: undefined }]),
    ]);
    const { records } = decodeAll([stream6]);
    expect(records.map((r) => r.type)).toEqual(['header', 'process', 'samples', 'stats', 'samples', 'samples']);
    const blocks = records.flatMap((r) => (r.type === 'samples' ? [r.block] : []));
    const [a, b, c] = [...blockSamples(blocks[0]!), ...blockSamples(blocks[1]!)];
    expectTracedSpec(a);
    expect(b?.shared).toBe(a?.shared);
    expect([b?.comm, b?.tid, b?.timeMs, b?.traceId]).toEqual(['a-sixteen-chars!', 102, 1_700_000_000_124, undefined]);
    expect([c?.timeMs, c?.userStack, c?.kernelStack]).toEqual([1_700_000_000_125.000, [0x401136n], []]);
    expect(blocks[0]!.cpu[0]).toBe(1);
    const [d] = blockSamples(blocks[2]!);
    expect([d?.comm, d?.userStack, d?.traceId]).toEqual(['renamed', [0x999n], undefined]);
    expect(a?.comm).toBe('worker-1');
    // Any split of the stream gives the same columns.
    const columns = (rs: HelperRecord[]) => rs.map((r) => (r.type === 'samples' ? blockSamples(r.block).map((x) => [x.timeMs, x.tid, x.comm, x.userStack, x.traceId]) : r.type));
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream6.length - 1 }), { maxLength: 8 }), (cuts) => {
      expect(columns(decodeAll(chunksAt(stream6, cuts)).records)).toEqual(columns(records));
    }), { numRuns: 200 });
    // Every number a run names must be defined, and the run must hold what its counts say.
    const defined = [header(6), stackRec(0, 1, [1n], [], true), commRec(0, 'x')];
    const one = (over: Partial<ColumnSpec>) => samplesRec([{ wallNs: 0n, pid: 1, tid: 1, cpu: 0, stack: 0, comm: 0, ...over }]);
    expect(decodeAll([...defined, one({})]).records.map((r) => r.type)).toEqual(['header', 'samples']);
    expect(() => decodeAll([...defined, one({ stack: 1 })])).toThrow(/stack 1, which was not defined/);
    expect(() => decodeAll([...defined, one({ comm: 2 })])).toThrow(/thread name 2, which was not defined/);
    const short = one({ trace: traced.trace });
    short.writeUInt32LE(short.length - 4, 0);
    expect(() => decodeAll([...defined, short.subarray(0, short.length - 4)])).toThrow(/samples record of 1 samples too short/);
    const outOfRange = one({ trace: traced.trace });
    outOfRange.writeUInt32LE(1, 8 + 8 + 28);
    expect(() => decodeAll([...defined, outOfRange])).toThrow(/traced sample 1 out of order or range/);
  });

  it('decodes exits (version 7) with the start time their snapshots carry, and refuses a short one', () => {
    const exit = (pid: number, startTicks: bigint) => {
      const p = Buffer.alloc(16);
      p.writeUInt32LE(pid, 0);
      p.writeBigUInt64LE(startTicks, 8);
      return record(12, p);
    };
    const { records } = decodeAll([header(7), exit(4321, 987654n), exit(0xffff_fff0, 2n ** 63n + 5n)]);
    expect(records.slice(1)).toEqual([
      { type: 'exit', pid: 4321, startTime: '987654' },
      { type: 'exit', pid: 0xffff_fff0, startTime: String(2n ** 63n + 5n) },
    ]);
    expect(() => decodeAll([header(7), record(12, Buffer.alloc(12))])).toThrow(/exit record too short/);
  });

  it('refuses a stream that is not the helper, another version, or a broken length', () => {
    expect(() => new HelperStreamDecoder().push(header(1, 0xdeadbeef))).toThrow(ProtocolError);
    expect(() => new HelperStreamDecoder().push(header(8))).toThrow(/version 8/);
    const bad = Buffer.alloc(8);
    bad.writeUInt32LE(4, 0);
    expect(() => new HelperStreamDecoder().push(Buffer.concat([header(), bad]))).toThrow(/bad record length 4/);
  });

  it('refuses a sample whose stacks run past its record', () => {
    const s = sample(plain);
    s.writeUInt32LE(s.length - 8, 0); // shorten the record, keep the counts
    expect(() => decodeAll([header(), s.subarray(0, s.length - 8)])).toThrow(/sample record too short/);
  });
});
