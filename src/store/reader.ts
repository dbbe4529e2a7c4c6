// Reading the store: list segments by file name, open only those that overlap
// the asked time range, decode only the sections the query needs (a segment
// wholly inside the range contributes its precomputed aggregate; per-sample
// times are inflated only for the edges, or when the caller wants every
// sample), and assemble one Profile or a list of spans.
// A segment that cannot be read — truncated, corrupt, an unknown version, or
// naming table entries that are not there — is skipped with a warning that
// names it; a read never throws because of a segment's contents. Readers take
// no lock and write nothing.
// It must not filter by anything but time, process and thread identity: trace
// joins, focus and the rest are query passes over the returned Profile.

import fs from 'node:fs';
import path from 'node:path';
import type { Profile } from '../profile/model.js';
import type { Span } from '../spans/model.js';
import { ExitCode, UserError } from '../errors.js';
import { DecodeError } from './binary.js';
import { SEGMENTS_DIR, TABLES_DIR, listSegments, parseTableFileName, segmentsNewestFirst, type SegmentName } from './layout.js';
import { ProfileAssembler } from './profile-assembly.js';
import { SectionKind, decodeMeta, decodeRows, decodeSamples, decodeSegmentHeader, readSection, type SampleTuple, type SegmentMeta } from './segment-codec.js';
import { decodeSpans } from './span-codec.js';
import { TableCache } from './table-cache.js';

export interface StoreReaderOptions {
  /** Called once per skipped segment or odd file, with a message that names it. */
  onWarning?: (msg: string) => void;
  /** Two segments further apart than this leave a gap in coverage. Default 1 s. */
  gapToleranceMs?: number;
}

export interface SegmentInfo extends SegmentName {
  path: string;
}

export interface ProfileQuery {
  fromMs?: number;
  toMs?: number;
  pids?: number[];
  /** Process or thread names. */
  comms?: string[];
  /** Service names: the process name, or a `service` label when samples carry one. */
  services?: string[];
  /**
   * Sum samples per (pid, tid, thread, process, labels, stack) and drop
   * per-sample times: what top/flame/export need, and fast over a day. Default
   * false (every sample kept, with its time).
   */
  aggregate?: boolean;
}

export interface SpanQuery {
  fromMs?: number;
  toMs?: number;
  services?: string[];
  traceIds?: string[];
}

export interface StoreStats {
  path: string;
  sizeBytes: number;
  segments: number;
  tablesBytes: number;
  oldestMs?: number;
  newestMs?: number;
  gaps: { fromMs: number; toMs: number }[];
}

export interface StoreReader {
  readonly dir: string;
  segments(fromMs?: number, toMs?: number): SegmentInfo[];
  /** Every segment, latest end first, listed an hour at a time as the caller goes on. */
  segmentsNewestFirst(): Iterable<SegmentInfo>;
  readProfile(query?: ProfileQuery): Promise<Profile>;
  /**
   * Spans overlapping the query. `listed`: segments the caller already has
   * (from segments() or segmentsNewestFirst()); those overlapping the range
   * are read instead of listing the store (the trace lookup reads one at a
   * time as it goes back).
   */
  readSpans(query?: SpanQuery, listed?: SegmentInfo[]): Promise<Span[]>;
  stats(): StoreStats;
}

const STALE_TEMP_MS = 60_000;

function describeUnreadable(dir: string, err: NodeJS.ErrnoException): UserError {
  if (err.code === 'ENOENT') {
    return new UserError(`no profile store at ${dir}`, 'start the agent (sudo profctl agent), pass --store DIR or set PROFCTL_STORE, or read a file with --input', ExitCode.usage);
  }
  let why = 'permission denied';
  try {
    const st = fs.statSync(dir);
    why = `permission denied (owner uid ${st.uid}, mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`;
  } catch {
    // The parent is not searchable either; the plain reason will do.
  }
  return new UserError(`cannot read the profile store ${dir}: ${why}`, `run with sudo, or make it readable: sudo chmod -R a+rX ${dir}`, ExitCode.permission);
}

export function openStoreReader(dir: string, options: StoreReaderOptions = {}): StoreReader {
  const warn = options.onWarning ?? (() => {});
  const gapToleranceMs = options.gapToleranceMs ?? 1000;
  const segmentsDir = path.join(dir, SEGMENTS_DIR);
  const tablesDir = path.join(dir, TABLES_DIR);
  try {
    // Opened, not listed: a week of segments is 60,000 names.
    fs.opendirSync(segmentsDir).closeSync();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if ((e.code === 'ENOENT' && fs.existsSync(dir)) || e.code === 'ENOTDIR') {
      throw new UserError(`${dir} is not a profile store (it has no segments/ folder)`, 'pass the directory the agent writes to with --store DIR');
    }
    throw describeUnreadable(e.code === 'ENOENT' ? dir : segmentsDir, e);
  }
  const tables = new TableCache(tablesDir);
  const warned = new Set<string>();
  const warnOnce = (key: string, msg: string) => {
    if (warned.has(key)) return;
    warned.add(key);
    warn(msg);
  };

  const oddFile = (p: string, kind: 'temp' | 'stray') => {
    if (kind === 'stray') return warnOnce(p, `${p}: not a segment file name; ignored`);
    // A fresh temp file is a write in progress; an old one was left by a crash.
    try {
      if (Date.now() - fs.statSync(p).mtimeMs > STALE_TEMP_MS) warnOnce(p, `${p}: leftover temporary file of an interrupted write; ignored`);
    } catch {
      // Renamed or removed meanwhile.
    }
  };
  const withPath = (s: SegmentName): SegmentInfo => Object.assign(s, { path: `${segmentsDir}/${s.file}` });

  function segments(fromMs = -Infinity, toMs = Infinity): SegmentInfo[] {
    return listSegments(segmentsDir, fromMs, toMs, oddFile).map(withPath);
  }

  function* newestFirst(): Generator<SegmentInfo> {
    for (const s of segmentsNewestFirst(segmentsDir, oddFile)) yield withPath(s);
  }

  /** Reads one segment file; undefined (with a warning unless it was evicted meanwhile) when unusable. */
  function openSegment(seg: SegmentInfo): Uint8Array | undefined {
    try {
      return fs.readFileSync(seg.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') warnOnce(seg.path, `${seg.path}: cannot read (${code ?? (err as Error).message}); skipped`);
      return undefined;
    }
  }

  function skip(seg: SegmentInfo, err: unknown): void {
    if (err instanceof DecodeError || err instanceof RangeError) warnOnce(seg.path, `${seg.path}: ${(err as Error).message}; skipped`);
    else warnOnce(seg.path, `${seg.path}: unreadable segment (${(err as Error).message}); skipped`);
  }

  function tuplePasses(t: SampleTuple, q: ProfileQuery): boolean {
    if (q.pids?.length && (t.pid === undefined || !q.pids.includes(t.pid))) return false;
    if (q.comms?.length && !q.comms.some((c) => c === t.process || c === t.thread)) return false;
    if (q.services?.length) {
      const labelled = t.labels?.service;
      if (!q.services.some((s) => s === t.process || s === labelled)) return false;
    }
    return true;
  }

  async function readProfile(query: ProfileQuery = {}): Promise<Profile> {
    const fromMs = query.fromMs ?? -Infinity;
    const toMs = query.toMs ?? Infinity;
    const aggregate = query.aggregate ?? false;
    const out = new ProfileAssembler(aggregate);
    let skipped = 0;
    const list = segments(fromMs, toMs);
    const metaCache = new Map<string, MetaUse>();
    for (const seg of list) {
      const buf = openSegment(seg);
      if (!buf) continue;
      try {
        addSegment(out, metaCache, seg, buf, query, fromMs, toMs, aggregate);
      } catch (err) {
        skipped++;
        skip(seg, err);
      }
    }
    const comments = [`profctl store ${dir}: ${list.length - skipped} segments`];
    if (aggregate) comments.push('aggregated: samples summed per thread and stack, per-sample times dropped');
    return out.build(comments);
  }

  interface MetaUse {
    meta: SegmentMeta;
    types: number[];
    tupleOut: Int32Array;
  }

  function addSegment(out: ProfileAssembler, metaCache: Map<string, MetaUse>, seg: SegmentInfo, buf: Uint8Array, q: ProfileQuery, fromMs: number, toMs: number, aggregate: boolean): void {
    const header = decodeSegmentHeader(buf);
    const metaBytes = readSection(buf, header, SectionKind.meta);
    if (!metaBytes) throw new DecodeError('no META section');
    // Segments with the same threads share META bytes: decode and map them once.
    const metaKey = Buffer.from(metaBytes.buffer, metaBytes.byteOffset, metaBytes.byteLength).toString('latin1');
    let use = metaCache.get(metaKey);
    const meta = use ? use.meta : decodeMeta(metaBytes);
    const rowsBytes = readSection(buf, header, SectionKind.rows);
    if (!rowsBytes) throw new DecodeError('no ROWS section');
    const rows = decodeRows(rowsBytes, meta, header.stackCount);
    const nRows = rows.tuple.length;
    if (nRows === 0) return;
    const inside = seg.fromMs >= fromMs && seg.toMs <= toMs;
    let samples;
    if (!aggregate || !inside) {
      const sb = readSection(buf, header, SectionKind.samples);
      if (!sb) throw new DecodeError('no SAMPLES section');
      samples = decodeSamples(sb, meta, nRows);
    }
    const gen = tables.get(header.generation, header.stackCount);
    // Everything above may throw; nothing is added to the output before this point.
    if (!use) {
      use = { meta, types: out.typeMap(meta), tupleOut: Int32Array.from(meta.tuples, (t) => (tuplePasses(t, q) ? out.tupleId(t) : -1)) };
      metaCache.set(metaKey, use);
    }
    const { types, tupleOut } = use;
    const nTypes = meta.sampleTypes.length;
    const unit = meta.valueMode.kind === 'unit' ? meta.valueMode.unit : undefined;
    const stackMap = out.generationMap(header.generation, gen);
    const rowStack = new Int32Array(nRows);
    for (let r = 0; r < nRows; r++) {
      const id = rows.stack[r]!;
      const known = stackMap[id]!;
      rowStack[r] = known >= 0 ? known : out.stackId(header.generation, gen, id);
    }
    const vals = new Array<number>(nTypes).fill(0);
    if (!samples) {
      for (let r = 0; r < nRows; r++) {
        const t = tupleOut[rows.tuple[r]!]!;
        if (t < 0) continue;
        if (unit) {
          out.addAggregateUnit(t, rowStack[r]!, rows.count[r]!, unit, types);
          continue;
        }
        for (let i = 0; i < nTypes; i++) vals[i] = rows.sums![i]![r]!;
        out.addAggregate(t, rowStack[r]!, vals, types);
      }
      out.noteTime(seg.fromMs, seg.toMs);
      return;
    }
    const times = samples.timeMs;
    for (let i = 0; i < times.length; i++) {
      const time = times[i]!;
      if (time < fromMs || time > toMs) continue;
      const r = samples.row[i]!;
      const t = tupleOut[rows.tuple[r]!]!;
      if (t < 0) continue;
      for (let k = 0; k < nTypes; k++) vals[k] = unit ? unit[k]! : samples.values![k]![i]!;
      if (aggregate) out.addAggregate(t, rowStack[r]!, vals, types);
      else out.addSample(t, rowStack[r]!, time, vals, types);
      out.noteTime(time, time);
    }
  }

  async function readSpans(query: SpanQuery = {}, listed?: SegmentInfo[]): Promise<Span[]> {
    const fromMs = query.fromMs ?? -Infinity;
    const toMs = query.toMs ?? Infinity;
    const byId = new Map<string, Span>();
    // A trace lookup may scan the whole store: skip, before decoding, any
    // section whose bytes hold none of the ids (ids are stored as raw bytes
    // when hex, else as UTF-8 strings; the check never skips a match).
    const needles = (query.traceIds ?? []).flatMap((id) => [Buffer.from(id, 'utf8'), ...(/^[0-9a-f]{32}$/.test(id) ? [Buffer.from(id, 'hex')] : [])]);
    const list = listed ? listed.filter((s) => s.toMs >= fromMs && s.fromMs <= toMs) : segments(fromMs, toMs);
    for (const seg of list) {
      const buf = openSegment(seg);
      if (!buf) continue;
      let spans: Span[];
      try {
        const bytes = readSection(buf, decodeSegmentHeader(buf), SectionKind.spans);
        if (!bytes) continue;
        if (needles.length) {
          const hay = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          if (!needles.some((n) => hay.includes(n))) continue;
        }
        spans = decodeSpans(bytes);
      } catch (err) {
        skip(seg, err);
        continue;
      }
      for (const s of spans) {
        if (s.endMs < fromMs || s.startMs > toMs) continue;
        if (query.services?.length && !query.services.includes(s.service)) continue;
        if (query.traceIds?.length && !query.traceIds.includes(s.traceId)) continue;
        byId.set(`${s.traceId}/${s.spanId}`, s);
      }
    }
    return [...byId.values()].sort((a, b) => a.startMs - b.startMs);
  }

  function stats(): StoreStats {
    const list = segments();
    let sizeBytes = 0;
    for (const s of list) sizeBytes += sizeOf(s.path);
    let tablesBytes = 0;
    try {
      for (const f of fs.readdirSync(tablesDir)) if (parseTableFileName(f)) tablesBytes += sizeOf(path.join(tablesDir, f));
    } catch {
      // No tables yet.
    }
    const gaps: { fromMs: number; toMs: number }[] = [];
    let reach = -Infinity;
    for (const s of list) {
      if (Number.isFinite(reach) && s.fromMs - reach > gapToleranceMs) gaps.push({ fromMs: reach, toMs: s.fromMs });
      if (s.toMs > reach) reach = s.toMs;
    }
    return {
      path: dir,
      sizeBytes: sizeBytes + tablesBytes,
      segments: list.length,
      tablesBytes,
      oldestMs: list.length ? list[0]!.fromMs : undefined,
      newestMs: list.length ? reach : undefined,
      gaps,
    };
  }

  return { dir, segments, segmentsNewestFirst: newestFirst, readProfile, readSpans, stats };
}

function sizeOf(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}
