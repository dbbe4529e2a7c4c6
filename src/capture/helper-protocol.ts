// Decoder of profctl-helper's stdout (src/native/protocol.md): a 16-byte
// stream header (magic "PCTL", version, header length, helper pid), then
// length-prefixed records [u32 length incl. this 8-byte header][u16 type]
// [u16 flags]. Little-endian. Chunks may split records anywhere; the decoder
// keeps the remainder. Unknown record types are skipped (newer helpers may
// add some); an unknown version or a bad length is a protocol error. Version 2
// added PROCESS records (type 6), version 3 KSYM records (type 7), version 4
// numbered stacks and thread names (STACK 8, COMM 9) and samples that refer
// to them (SAMPLE_REF 10), version 5 the `batch` command answered by a
// flagged STATS record, version 6 runs of samples in columns (SAMPLES 11),
// version 7 EXIT records (type 12), and nothing else, so older streams still
// decode.
// STACK and COMM records are kept by the decoder, not returned: a SAMPLE_REF
// comes out as a sample whose `shared` stack is the one object every sample
// with that number shares, a SAMPLES record as a SampleBlock whose columns
// are typed arrays copied out of the stream in one step each.
// This module only decodes bytes: no process handling, no symbolization.

import type { CaptureBatch, ProcessSnapshot, RawSample, SampleBlock, SharedStack, TracedSample } from './capture-types.js';

export const PROTOCOL_MAGIC = 0x4c544350;
export const PROTOCOL_VERSION = 7;
/** Oldest stream version this decoder reads (same framing, fewer record types). */
export const PROTOCOL_MIN_VERSION = 1;

export const RecordType = { ready: 1, sample: 2, stats: 3, error: 4, tls: 5, process: 6, ksym: 7, stack: 8, comm: 9, sampleRef: 10, samples: 11, exit: 12 } as const;
/** STACK record flag: numbering restarted, every earlier stack number is void. */
export const STACK_FLAG_RESET = 1;
/** STATS record flag: the answer to a `batch` command, written after every sample the helper had read (version 5). */
export const STATS_FLAG_BATCH = 1;

/** The helper's stable failure codes (exit status and error record code). */
export const HelperErrorCode = {
  permission: 10,
  bpfDisabled: 11,
  kernelTooOld: 12,
  verifier: 13,
  perfEvent: 14,
  usage: 15,
  btf: 16,
  internal: 17,
} as const;

export interface ReadyRecord {
  type: 'ready';
  hz: number;
  cpus: number;
  /** CLOCK_REALTIME - CLOCK_MONOTONIC at start, ns. */
  wallOffsetNs: bigint;
  /** task_struct.thread.fsbase offset found in BTF, or -1. */
  fsbaseOffset: number;
  tlsEnabled: boolean;
  /** Kernel addresses come named in KSYM records: /proc/kallsyms is not needed. */
  kernelNames: boolean;
  userStackMax: number;
  kernelStackMax: number;
}
export interface SampleRecord { type: 'sample'; sample: RawSample }
export interface SamplesRecord { type: 'samples'; block: SampleBlock }
export interface StatsRecord {
  type: 'stats';
  samples: number;
  lost: number;
  errors: number;
  /** Processes added to the targets by the in-kernel fork follower. */
  followed: number;
  /** The helper's own user+system CPU time, ns. */
  helperCpuNs: number;
  wallMs: number;
  /** The answer to a `batch` command: every sample read before it came first. */
  batch: boolean;
}
export interface ErrorRecord { type: 'error'; code: number; errno: number; message: string }
export interface TlsRecord { type: 'tls'; pid: number; offset: number }
export interface ProcessRecord { type: 'process'; process: ProcessSnapshot }
/** A process the helper had sent a PROCESS record for is gone (version 7); startTime as in its snapshot. */
export interface ExitRecord { type: 'exit'; pid: number; startTime: string }
/**
 * The kernel's name for a kernel address, sent before the first sample that
 * holds it. addr is the lookup address: a leaf as sampled, a caller's return
 * address minus one. An empty name: the kernel could not name it.
 */
export interface KsymRecord { type: 'ksym'; addr: bigint; name: string; module: string }
export interface HeaderRecord { type: 'header'; version: number; helperPid: number }
export type HelperRecord = HeaderRecord | ReadyRecord | SampleRecord | SamplesRecord | StatsRecord | ErrorRecord | TlsRecord | ProcessRecord | KsymRecord | ExitRecord;

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

const MAX_RECORD = 1 << 20;

export class HelperStreamDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private sawHeader = false;
  /** Records skipped because their type is unknown to this version. */
  skipped = 0;
  /** The helper's numbered stacks and thread names (STACK and COMM records). */
  private stacks: (SharedStack | undefined)[] = [];
  private comms: string[] = [];

  /** Feed a chunk; returns every record it completes. Throws ProtocolError on a broken stream. */
  push(chunk: Buffer): HelperRecord[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: HelperRecord[] = [];
    let pos = 0;
    const buf = this.pending;
    if (!this.sawHeader) {
      if (buf.length < 16) return out;
      const magic = buf.readUInt32LE(0);
      if (magic !== PROTOCOL_MAGIC) throw new ProtocolError(`not a profctl-helper stream (magic 0x${magic.toString(16)})`);
      const version = buf.readUInt16LE(4);
      if (version < PROTOCOL_MIN_VERSION || version > PROTOCOL_VERSION) {
        throw new ProtocolError(`helper speaks protocol version ${version}, profctl reads ${PROTOCOL_MIN_VERSION} to ${PROTOCOL_VERSION}`);
      }
      const headerLen = buf.readUInt16LE(6);
      if (headerLen < 16) throw new ProtocolError(`bad header length ${headerLen}`);
      if (buf.length < headerLen) return out;
      out.push({ type: 'header', version, helperPid: buf.readUInt32LE(8) });
      pos = headerLen;
      this.sawHeader = true;
    }
    // DataView reads: Buffer's readUInt32LE validates its offset in JavaScript on
    // every call, which was the largest single cost of decoding a busy stream.
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    while (buf.length - pos >= 8) {
      const len = view.getUint32(pos, true);
      if (len < 8 || len > MAX_RECORD) throw new ProtocolError(`bad record length ${len} at byte ${pos}`);
      if (buf.length - pos < len) break;
      const type = view.getUint16(pos + 4, true);
      if (type === RecordType.samples) out.push({ type: 'samples', block: this.samples(buf, view, pos + 8, len - 8) });
      else if (type === RecordType.sampleRef) out.push({ type: 'sample', sample: this.sampleRef(buf, view, pos + 8, len - 8) });
      else if (type === RecordType.stack) this.defineStack(buf.subarray(pos + 8, pos + len));
      else if (type === RecordType.comm) {
        need(buf.subarray(pos + 8, pos + len), 20, 'comm');
        this.comms[buf.readUInt32LE(pos + 8)] = cString(buf, pos + 12, 16);
      } else {
        const record = decodeRecord(type, buf.subarray(pos + 8, pos + len), view.getUint16(pos + 6, true));
        if (record) out.push(record);
        else this.skipped++;
      }
      pos += len;
    }
    this.pending = pos === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(pos));
    return out;
  }

  private defineStack(p: Buffer): void {
    need(p, 16, 'stack');
    const id = p.readUInt32LE(0);
    const users = p.readUInt16LE(8);
    const kernels = p.readUInt16LE(10);
    need(p, 16 + 8 * (users + kernels), 'stack');
    // New arrays, not emptied ones: a SampleBlock keeps the numbering it was read with.
    if (p.readUInt32LE(12) & STACK_FLAG_RESET) {
      this.stacks = [];
      this.comms = [];
    }
    if (id > this.stacks.length + 1_000_000) throw new ProtocolError(`stack number ${id} out of range`);
    // A copy: the stream's chunk is not kept alive by the stacks it defined.
    this.stacks[id] = new NumberedStack(Buffer.from(p.subarray(16, 16 + 8 * (users + kernels))), users, kernels);
  }

  /** A SAMPLE_REF record at buf[at, at + len): its numbers must have been defined. */
  private sampleRef(buf: Buffer, view: DataView, at: number, len: number): RawSample {
    if (len < SAMPLE_REF_FIXED) throw new ProtocolError(`sample record too short (${len} < ${SAMPLE_REF_FIXED} bytes)`);
    const stackId = view.getUint32(at + 20, true);
    const commId = view.getUint32(at + 24, true);
    const shared = this.stacks[stackId];
    const comm = this.comms[commId];
    if (!shared || comm === undefined) throw new ProtocolError(`sample names ${shared ? `thread name ${commId}` : `stack ${stackId}`}, which was not defined`);
    const timeMs = wallMs(view.getUint32(at, true), view.getUint32(at + 4, true));
    const sample = new RefSample(timeMs, view.getUint32(at + 8, true), view.getUint32(at + 12, true), view.getUint32(at + 16, true), comm, shared);
    if (view.getUint16(at + 28, true) & 1) {
      if (len < SAMPLE_REF_FIXED + TRACE_BYTES) throw new ProtocolError(`sample record too short for its trace context (${len} bytes)`);
      sample.traceId = buf.toString('hex', at + SAMPLE_REF_FIXED, at + SAMPLE_REF_FIXED + 16);
      sample.spanId = buf.toString('hex', at + SAMPLE_REF_FIXED + 16, at + SAMPLE_REF_FIXED + 24);
    }
    return sample;
  }

  /** A SAMPLES record at buf[at, at + len): a run of samples in columns, every number defined. */
  private samples(buf: Buffer, view: DataView, at: number, len: number): SampleBlock {
    if (len < 8) throw new ProtocolError(`samples record too short (${len} < 8 bytes)`);
    const count = view.getUint32(at, true);
    const tracedCount = view.getUint32(at + 4, true);
    const need = 8 + SAMPLES_BYTES_EACH * count + TRACED_ENTRY * tracedCount;
    if (len < need || tracedCount > count) throw new ProtocolError(`samples record of ${count} samples too short (${len} < ${need} bytes)`);
    let col = at + 8;
    // Copies: typed arrays need aligned offsets, and the stream's chunk is not kept alive by them.
    const timeMs = new Float64Array(count);
    new Uint8Array(timeMs.buffer).set(buf.subarray(col, (col += 8 * count)));
    const u32 = (): Uint32Array => {
      const a = new Uint32Array(count);
      new Uint8Array(a.buffer).set(buf.subarray(col, (col += 4 * count)));
      return a;
    };
    const pid = u32();
    const tid = u32();
    const cpu = u32();
    const stack = u32();
    const comm = u32();
    const { stacks, comms } = this;
    for (let i = 0; i < count; i++) {
      if (stacks[stack[i]!] === undefined) throw new ProtocolError(`sample names stack ${stack[i]}, which was not defined`);
      if (comms[comm[i]!] === undefined) throw new ProtocolError(`sample names thread name ${comm[i]}, which was not defined`);
    }
    const traced: TracedSample[] = [];
    for (let k = 0; k < tracedCount; k++, col += TRACED_ENTRY) {
      const index = view.getUint32(col, true);
      if (index >= count || (k > 0 && index <= traced[k - 1]!.index)) throw new ProtocolError(`samples record: traced sample ${index} out of order or range`);
      traced.push({ index, traceId: buf.toString('hex', col + 4, col + 20), spanId: buf.toString('hex', col + 20, col + 28) });
    }
    return { count, timeMs, pid, tid, cpu, stack, stacks: stacks as SharedStack[], comm, comms, traced };
  }

  /** Bytes of an unfinished record at the end of the stream (0 after a clean end). */
  get trailingBytes(): number {
    return this.pending.length;
  }
}

function need(p: Buffer, n: number, what: string): void {
  if (p.length < n) throw new ProtocolError(`${what} record too short (${p.length} < ${n} bytes)`);
}

function hex(p: Buffer, start: number, len: number): string {
  return p.toString('hex', start, start + len);
}

function cString(p: Buffer, start: number, len: number): string {
  const end = p.indexOf(0, start);
  return p.toString('utf8', start, end >= 0 && end < start + len ? end : start + len);
}

export function decodeRecord(type: number, p: Buffer, flags = 0): HelperRecord | undefined {
  switch (type) {
    case RecordType.ready:
      need(p, 32, 'ready');
      return {
        type: 'ready',
        hz: p.readUInt32LE(0),
        cpus: p.readUInt32LE(4),
        wallOffsetNs: p.readBigInt64LE(8),
        fsbaseOffset: p.readInt32LE(16),
        tlsEnabled: (p.readUInt32LE(20) & 1) === 1,
        kernelNames: (p.readUInt32LE(20) & 2) === 2,
        userStackMax: p.readUInt32LE(24),
        kernelStackMax: p.readUInt32LE(28),
      };
    case RecordType.sample:
      return { type: 'sample', sample: decodeSample(p) };
    case RecordType.stats:
      need(p, 48, 'stats');
      return {
        type: 'stats',
        samples: Number(p.readBigUInt64LE(0)),
        lost: Number(p.readBigUInt64LE(8)),
        errors: Number(p.readBigUInt64LE(16)),
        followed: Number(p.readBigUInt64LE(24)),
        helperCpuNs: Number(p.readBigUInt64LE(32)),
        wallMs: nsToMs(p, 40),
        batch: (flags & STATS_FLAG_BATCH) !== 0,
      };
    case RecordType.error:
      need(p, 8, 'error');
      return { type: 'error', code: p.readUInt32LE(0), errno: p.readInt32LE(4), message: p.toString('utf8', 8) };
    case RecordType.tls:
      need(p, 16, 'tls');
      return { type: 'tls', pid: p.readUInt32LE(0), offset: Number(p.readBigInt64LE(8)) };
    case RecordType.process:
      return { type: 'process', process: decodeProcess(p) };
    case RecordType.exit:
      need(p, 16, 'exit');
      return { type: 'exit', pid: p.readUInt32LE(0), startTime: p.readBigUInt64LE(8).toString() };
    case RecordType.ksym: {
      need(p, 24, 'ksym');
      const nameLen = p.readUInt16LE(16);
      const moduleLen = p.readUInt16LE(18);
      need(p, 24 + nameLen + moduleLen, 'ksym');
      return { type: 'ksym', addr: p.readBigUInt64LE(0), name: p.toString('utf8', 24, 24 + nameLen), module: p.toString('utf8', 24 + nameLen, 24 + nameLen + moduleLen) };
    }
    default:
      return undefined;
  }
}

const PROCESS_FIXED = 48;
const PROCESS_REASONS = { 1: 'new', 2: 'exec', 3: 'maps' } as const;

function decodeProcess(p: Buffer): ProcessSnapshot {
  need(p, PROCESS_FIXED, 'process');
  const mapsLen = p.readUInt32LE(28);
  need(p, PROCESS_FIXED + mapsLen, 'process');
  const reason = PROCESS_REASONS[p.readUInt16LE(4) as 1 | 2 | 3] ?? 'new';
  const perfMapPath = p.toString('utf8', PROCESS_FIXED + mapsLen);
  return {
    pid: p.readUInt32LE(0),
    reason,
    sameRoot: (p.readUInt16LE(6) & 1) === 1,
    startTime: p.readBigUInt64LE(8).toString(),
    timeMs: nsToMs(p, 16),
    nsPid: p.readUInt32LE(24),
    comm: cString(p, 32, 16),
    maps: p.toString('utf8', PROCESS_FIXED, PROCESS_FIXED + mapsLen),
    ...(perfMapPath ? { perfMapPath } : {}),
  };
}

/**
 * The u64 wall-clock ns at `at` → ms with the microseconds as the fraction,
 * exact in a double. Done on the two 32-bit halves without a BigInt (two
 * allocations per sample): 2^32 = 1000 * 4294967 + 296, so
 * floor(ns / 1000) = hi * 4294967 + floor((hi * 296 + lo) / 1000), and every
 * term stays an integer below 2^53 for wall-clock times until 2255 (2^53 µs).
 */
function nsToMs(p: Buffer, at: number): number {
  return wallMs(p.readUInt32LE(at), p.readUInt32LE(at + 4));
}

/** nsToMs of a u64 given as its low and high 32 bits. */
function wallMs(lo: number, hi: number): number {
  const us = hi * 4294967 + Math.floor((hi * 296 + lo) / 1000);
  return us / 1000;
}

const SAMPLE_FIXED = 44;
const TRACE_BYTES = 24;

function decodeSample(p: Buffer): RawSample {
  need(p, SAMPLE_FIXED, 'sample');
  const userCount = p.readUInt16LE(20);
  const kernelCount = p.readUInt16LE(22);
  const traced = (p.readUInt16LE(24) & 1) === 1;
  const stacksAt = SAMPLE_FIXED + (traced ? TRACE_BYTES : 0);
  need(p, stacksAt + 8 * (userCount + kernelCount), 'sample');
  const sample = new HelperSample(p, stacksAt, userCount, kernelCount);
  if (traced) {
    sample.traceId = hex(p, SAMPLE_FIXED, 16);
    sample.spanId = hex(p, SAMPLE_FIXED + 16, 8);
  }
  return sample;
}

/** A SAMPLE (type 2) record's sample: its stacks stay bytes until someone asks for them. */
class HelperSample implements RawSample {
  timeMs: number;
  pid: number;
  tid: number;
  cpu: number;
  comm: string;
  traceId?: string;
  spanId?: string;
  process?: ProcessSnapshot;
  readonly #bytes: Buffer;
  readonly #at: number;
  readonly #users: number;
  readonly #kernels: number;
  #user: bigint[] | undefined;
  #kernel: bigint[] | undefined;

  constructor(p: Buffer, at: number, users: number, kernels: number) {
    this.timeMs = nsToMs(p, 0);
    this.pid = p.readUInt32LE(8);
    this.tid = p.readUInt32LE(12);
    this.cpu = p.readUInt32LE(16);
    this.comm = cString(p, 28, 16);
    this.#bytes = p;
    this.#at = at;
    this.#users = users;
    this.#kernels = kernels;
  }

  get userStack(): bigint[] {
    return (this.#user ??= addresses(this.#bytes, this.#at, this.#users));
  }

  get kernelStack(): bigint[] {
    return (this.#kernel ??= addresses(this.#bytes, this.#at + 8 * this.#users, this.#kernels));
  }
}

const SAMPLE_REF_FIXED = 32;
/** A SAMPLES record's bytes per sample: f64 time, u32 pid, tid, cpu, stack, comm. */
const SAMPLES_BYTES_EACH = 28;
/** A SAMPLES record's traced-sample entry: u32 index, trace id, span id. */
const TRACED_ENTRY = 28;

/** A STACK record's stack: addresses decoded on first use, then kept. */
class NumberedStack implements SharedStack {
  memo: unknown = undefined;
  #user: bigint[] | undefined;
  #kernel: bigint[] | undefined;
  constructor(
    private readonly bytes: Buffer,
    private readonly users: number,
    private readonly kernels: number,
  ) {}

  get userStack(): bigint[] {
    return (this.#user ??= addresses(this.bytes, 0, this.users));
  }

  get kernelStack(): bigint[] {
    return (this.#kernel ??= addresses(this.bytes, 8 * this.users, this.kernels));
  }
}

/** A SAMPLE_REF record's sample (or one of a SAMPLES record's): no strings or stack bytes of its own. */
class RefSample implements RawSample {
  traceId?: string;
  spanId?: string;
  process?: ProcessSnapshot;
  constructor(
    readonly timeMs: number,
    readonly pid: number,
    readonly tid: number,
    readonly cpu: number,
    readonly comm: string,
    readonly shared: SharedStack,
  ) {}

  get userStack(): bigint[] {
    return this.shared.userStack;
  }

  get kernelStack(): bigint[] {
    return this.shared.kernelStack;
  }
}

function addresses(p: Buffer, at: number, count: number): bigint[] {
  const out = new Array<bigint>(count);
  for (let i = 0; i < count; i++) out[i] = p.readBigUInt64LE(at + 8 * i);
  return out;
}

/**
 * A block's samples as objects, each snapshot on the first sample of its
 * process, as SAMPLE_REF records came: for consumers that want objects (a
 * handful of samples, tests), not for the agent's steady stream.
 */
export function blockSamples(block: SampleBlock): RawSample[] {
  const out = new Array<RawSample>(block.count);
  const snapshots = new Map((block.processes ?? []).map((p) => [p.pid, p]));
  let next = 0;
  for (let i = 0; i < block.count; i++) {
    const s = new RefSample(block.timeMs[i]!, block.pid[i]!, block.tid[i]!, block.cpu[i]!, block.comms[block.comm[i]!]!, block.stacks[block.stack[i]!]!);
    const t = block.traced[next];
    if (t?.index === i) {
      s.traceId = t.traceId;
      s.spanId = t.spanId;
      next++;
    }
    const snap = snapshots.get(s.pid);
    if (snap) {
      s.process = snap;
      snapshots.delete(s.pid);
    }
    out[i] = s;
  }
  return out;
}

/** A capture batch's samples as objects (see blockSamples). */
export function batchSamples(batch: CaptureBatch): RawSample[] {
  return Array.isArray(batch) ? batch : blockSamples(batch);
}
