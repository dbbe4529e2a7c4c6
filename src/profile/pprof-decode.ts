// Reads a pprof profile (profile.proto, already gunzipped) into the model.
// A lean decoder of our own rather than a generic protobuf library: it walks
// the message once to find its parts, decodes the string, function, mapping
// and location tables, then decodes samples straight into interned stacks,
// keying stacks by the raw bytes of their location-id lists so that a 50 MB
// profile costs one pass and no per-sample string building.
//
// Mapping of pprof onto the model:
// - A location with several lines is an inlined call chain: line[0] is the
//   innermost function, the last line the caller it was inlined into. Every
//   line becomes a frame, leaf first; all but the last are marked inline
//   (these are what `go tool pprof` shows as "(inline)").
// - An unsymbolized location becomes `[unknown] <module>+0x<offset>`.
// - Labels `pid`, `tid` (numeric), `comm`, `thread_comm` (strings) and
//   `timestamp_ns` (numeric, nanoseconds) become the sample fields pid, tid,
//   process, thread and timeMs (the names perf_data_converter uses, and the
//   ones profctl's writer emits); all other labels stay labels.
// It must never hang or read out of bounds on hostile input: every read is
// bounds-checked (WireError) and reported as a BadInputError naming the file.

import { BadInputError } from '../errors.js';
import { ProfileBuilder, type Frame, type FrameKind, type Labels, type Profile, type Sample, type ValueType } from './model.js';
import { WireError, WireReader, WireType } from './protobuf-wire.js';

/** Label keys that carry sample fields (see the header). */
export const PID_LABEL = 'pid';
export const TID_LABEL = 'tid';
export const PROCESS_LABEL = 'comm';
export const THREAD_LABEL = 'thread_comm';
export const TIMESTAMP_LABEL = 'timestamp_ns';

/** The kind of a frame from its module (and name), for colours and grouping. */
export function frameKindOf(module: string, name: string): FrameKind {
  if (/^\[?(kernel|vmlinux)|^\[k\]/i.test(module) || name.endsWith('_[k]')) return 'kernel';
  if (/^\[?(jit|anon)|perf-\d+\.map$|\/\/anon|^memfd:/i.test(module) || name.endsWith('_[j]')) return 'jit';
  if (module === '' && name.startsWith('[unknown]')) return 'unknown';
  return 'native';
}

function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 && i < path.length - 1 ? path.slice(i + 1) : path;
}

interface Range {
  start: number;
  end: number;
}

interface FunctionInfo {
  name: number;
  systemName: number;
  filename: number;
  startLine: number;
}

interface MappingInfo {
  start: number;
  offset: number;
  module: string;
}

class Decoder {
  private readonly r: WireReader;
  private readonly text: Buffer;
  strings: string[] = [];

  constructor(
    private readonly bytes: Uint8Array,
    private readonly source: string,
  ) {
    this.r = new WireReader(bytes);
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fail(problem: string): never {
    throw new BadInputError(this.source, problem, 'is it a pprof profile? `go tool pprof -raw FILE` shows what pprof makes of it');
  }

  str(i: number): string {
    const s = this.strings[i];
    if (s === undefined) this.fail(`refers to string ${i}, beyond the string table (${this.strings.length} strings)`);
    return s;
  }

  /** The bytes of a length-delimited field just read, as a sub-reader range. */
  private range(): Range {
    const n = this.r.length();
    const start = this.r.pos;
    this.r.pos += n;
    return { start, end: start + n };
  }

  private valueType(rg: Range): { type: number; unit: number } {
    const r = new WireReader(this.bytes, rg.start, rg.end);
    let type = 0;
    let unit = 0;
    while (r.pos < r.end) {
      const tag = r.tag();
      if (tag === 8) type = r.varint();
      else if (tag === 16) unit = r.varint();
      else r.skip(tag & 7);
    }
    return { type, unit };
  }

  decode(): Profile {
    const r = this.r;
    const sampleTypes: Range[] = [];
    const samples: Range[] = [];
    const mappings: Range[] = [];
    const locations: Range[] = [];
    const functions: Range[] = [];
    const comments: number[] = [];
    let periodType: Range | undefined;
    let period = 0;
    let timeNanos = 0;
    let durationNanos = 0;
    let defaultSampleType = 0;
    let sawProfileField = false;
    while (r.pos < r.end) {
      const tag = r.tag();
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 0) throw new WireError('field number 0');
      if (wt === WireType.Len && field >= 1 && field <= 6) {
        const rg = this.range();
        if (field === 1) sampleTypes.push(rg);
        else if (field === 2) samples.push(rg);
        else if (field === 3) mappings.push(rg);
        else if (field === 4) locations.push(rg);
        else if (field === 5) functions.push(rg);
        else this.strings.push(this.text.toString('utf8', rg.start, rg.end));
        sawProfileField = true;
      } else if (field === 11 && wt === WireType.Len) periodType = this.range();
      else if (field === 13) r.repeatedVarint(wt, comments);
      else if (wt === WireType.Varint && field >= 7 && field <= 14) {
        const v = r.varint();
        if (field === 9) timeNanos = v;
        else if (field === 10) durationNanos = v;
        else if (field === 12) period = v;
        else if (field === 14) defaultSampleType = v;
      } else r.skip(wt);
    }
    if (!sawProfileField || this.strings.length === 0) this.fail('not a pprof profile (no string table)');
    if (this.strings[0] !== '') this.fail('not a pprof profile (string table does not start with "")');
    if (sampleTypes.length === 0) this.fail('not a pprof profile (no sample types)');

    const types: ValueType[] = sampleTypes.map((rg) => {
      const vt = this.valueType(rg);
      return { type: this.str(vt.type), unit: this.str(vt.unit) };
    });
    const extra: Partial<Profile> = {};
    if (defaultSampleType !== 0) extra.defaultSampleType = this.str(defaultSampleType);
    if (periodType) {
      const vt = this.valueType(periodType);
      extra.periodType = { type: this.str(vt.type), unit: this.str(vt.unit) };
    }
    if (period !== 0) extra.period = period;
    if (timeNanos !== 0) extra.timeMs = timeNanos / 1e6;
    if (durationNanos !== 0) extra.durationMs = durationNanos / 1e6;
    if (comments.length) extra.comments = comments.map((c) => this.str(c));
    const b = new ProfileBuilder(types, extra);

    const fns = this.decodeFunctions(functions);
    const maps = this.decodeMappings(mappings);
    const locFrames = this.decodeLocations(locations, fns, maps, b);
    this.decodeSamples(samples, locFrames, types.length, b);
    const profile = b.build();
    if (this.labelUnits.size) profile.labelUnits = Object.fromEntries(this.labelUnits);
    return profile;
  }

  private decodeFunctions(ranges: Range[]): Map<number, FunctionInfo> {
    const out = new Map<number, FunctionInfo>();
    for (const rg of ranges) {
      const r = new WireReader(this.bytes, rg.start, rg.end);
      let id = 0;
      const f: FunctionInfo = { name: 0, systemName: 0, filename: 0, startLine: 0 };
      while (r.pos < r.end) {
        const tag = r.tag();
        if (tag === 8) id = r.varint();
        else if (tag === 16) f.name = r.varint();
        else if (tag === 24) f.systemName = r.varint();
        else if (tag === 32) f.filename = r.varint();
        else if (tag === 40) f.startLine = r.varint();
        else r.skip(tag & 7);
      }
      if (id === 0) this.fail('a function has id 0');
      out.set(id, f);
    }
    return out;
  }

  private decodeMappings(ranges: Range[]): Map<number, MappingInfo> {
    const out = new Map<number, MappingInfo>();
    for (const rg of ranges) {
      const r = new WireReader(this.bytes, rg.start, rg.end);
      let id = 0;
      let start = 0;
      let offset = 0;
      let filename = 0;
      while (r.pos < r.end) {
        const tag = r.tag();
        if (tag === 8) id = r.varint();
        else if (tag === 16) start = r.varint();
        else if (tag === 32) offset = r.varint();
        else if (tag === 40) filename = r.varint();
        else r.skip(tag & 7);
      }
      if (id === 0) this.fail('a mapping has id 0');
      out.set(id, { start, offset, module: basename(this.str(filename)) });
    }
    return out;
  }

  /** Each location's frames, leaf (innermost inlined function) first. */
  private decodeLocations(ranges: Range[], fns: Map<number, FunctionInfo>, maps: Map<number, MappingInfo>, b: ProfileBuilder): Map<number, number[]> {
    const out = new Map<number, number[]>();
    const lineFns: number[] = [];
    for (const rg of ranges) {
      const r = new WireReader(this.bytes, rg.start, rg.end);
      let id = 0;
      let mappingId = 0;
      let address = 0;
      lineFns.length = 0;
      while (r.pos < r.end) {
        const tag = r.tag();
        if (tag === 8) id = r.varint();
        else if (tag === 16) mappingId = r.varint();
        else if (tag === 24) address = r.varint();
        else if (tag === 34) {
          const n = r.length();
          const lr = new WireReader(this.bytes, r.pos, r.pos + n);
          r.pos += n;
          let fn = 0;
          while (lr.pos < lr.end) {
            const t = lr.tag();
            if (t === 8) fn = lr.varint();
            else lr.skip(t & 7);
          }
          lineFns.push(fn);
        } else r.skip(tag & 7);
      }
      if (id === 0) this.fail('a location has id 0');
      let mapping: MappingInfo | undefined;
      if (mappingId !== 0) {
        mapping = maps.get(mappingId);
        if (!mapping) this.fail(`location ${id} refers to mapping ${mappingId}, which the profile does not define`);
      }
      const module = mapping?.module ?? '';
      const frames: number[] = [];
      const named = lineFns.filter((f) => f !== 0);
      if (named.length === 0) {
        const where = mapping ? `${module}+0x${(address - mapping.start + mapping.offset).toString(16)}` : `0x${address.toString(16)}`;
        const name = `[unknown] ${where}`;
        frames.push(b.frameId({ name, module, kind: frameKindOf(module, name) }));
      } else {
        named.forEach((fnId, i) => {
          const fn = fns.get(fnId);
          if (!fn) this.fail(`location ${id} refers to function ${fnId}, which the profile does not define`);
          const name = this.str(fn.name) || this.str(fn.systemName) || `[unknown] ${module || '0x' + address.toString(16)}`;
          const frame: Frame = { name, module, kind: frameKindOf(module, name) };
          if (i < named.length - 1) frame.inline = true;
          const file = this.str(fn.filename);
          if (file) frame.file = file;
          if (fn.startLine > 0) frame.line = fn.startLine;
          const raw = this.str(fn.systemName);
          if (raw && raw !== name) frame.rawName = raw;
          frames.push(b.frameId(frame));
        });
      }
      out.set(id, frames);
    }
    return out;
  }

  private readonly labelUnits = new Map<string, string>();

  private decodeSamples(ranges: Range[], locFrames: Map<number, number[]>, nTypes: number, b: ProfileBuilder): void {
    const stackByBytes = new Map<string, number>();
    const locIds: number[] = [];
    const text = this.text;
    for (const rg of ranges) {
      const r = new WireReader(this.bytes, rg.start, rg.end);
      let locKey: string | undefined;
      locIds.length = 0;
      const values: number[] = [];
      let labels: Labels | undefined;
      let pid: number | undefined;
      let tid: number | undefined;
      let thread: string | undefined;
      let process: string | undefined;
      let timeMs: number | undefined;
      while (r.pos < r.end) {
        const tag = r.tag();
        const field = tag >>> 3;
        const wt = tag & 7;
        if (field === 1) {
          if (wt === WireType.Len && locKey === undefined && locIds.length === 0) {
            // Packed ids: their bytes are the stack's key, so a repeated stack costs no string building.
            const n = r.length();
            const s = r.pos;
            locKey = text.toString('latin1', s, s + n);
            r.end = s + n;
            while (r.pos < s + n) locIds.push(r.varint());
            r.end = rg.end;
          } else {
            locKey = undefined;
            r.repeatedVarint(wt, locIds);
          }
        } else if (field === 2) r.repeatedVarint(wt, values);
        else if (field === 3 && wt === WireType.Len) {
          // Parse the label in place (narrowing the reader's end) rather than allocating a sub-reader per label.
          const n = r.length();
          const lr = r;
          const outerEnd = r.end;
          lr.end = r.pos + n;
          let key = 0;
          let str = 0;
          let num = 0;
          let numUnit = 0;
          let hasNum = false;
          while (lr.pos < lr.end) {
            const t = lr.tag();
            if (t === 8) key = lr.varint();
            else if (t === 16) str = lr.varint();
            else if (t === 24) {
              num = lr.varint();
              hasNum = true;
            } else if (t === 32) numUnit = lr.varint();
            else lr.skip(t & 7);
          }
          r.end = outerEnd;
          const k = this.str(key);
          if (str !== 0 || !hasNum) {
            const v = this.str(str);
            if (k === PROCESS_LABEL) process = v;
            else if (k === THREAD_LABEL) thread = v;
            else if (!(labels ??= {})[k]) labels[k] = v;
          } else {
            if (k === PID_LABEL) pid = num;
            else if (k === TID_LABEL) tid = num;
            else if (k === TIMESTAMP_LABEL) timeMs = num / 1e6;
            else if ((labels ??= {})[k] === undefined) labels[k] = num;
            if (numUnit !== 0) this.labelUnits.set(k, this.str(numUnit));
          }
        } else r.skip(wt);
      }
      if (values.length !== nTypes) this.fail(`a sample has ${values.length} values but the profile declares ${nTypes} sample types`);
      // \u0100 cannot occur in a latin1 key, so the two kinds of key never collide.
      const key = locKey ?? '\u0100' + locIds.join(',');
      let stack = stackByBytes.get(key);
      if (stack === undefined) {
        const frames: number[] = [];
        for (const id of locIds) {
          const fr = locFrames.get(id);
          if (!fr) this.fail(`a sample refers to location ${id}, which the profile does not define`);
          for (const f of fr) frames.push(f);
        }
        stack = b.stackId(frames);
        stackByBytes.set(key, stack);
      }
      const sample: Sample = { stack, values };
      if (labels) sample.labels = labels;
      if (pid !== undefined) sample.pid = pid;
      if (tid !== undefined) sample.tid = tid;
      if (thread !== undefined) sample.thread = thread;
      if (process !== undefined) sample.process = process;
      if (timeMs !== undefined) sample.timeMs = timeMs;
      b.addSample(sample);
    }
  }
}

/** Decodes gunzipped pprof bytes; source names the file in errors. */
export function decodePprof(bytes: Uint8Array, source: string): Profile {
  try {
    return new Decoder(bytes, source).decode();
  } catch (e) {
    if (e instanceof WireError) {
      throw new BadInputError(source, `not a valid pprof profile: ${e.message}`, 'the file may be truncated or not a profile; `go tool pprof -raw FILE` shows what pprof makes of it');
    }
    throw e;
  }
}
