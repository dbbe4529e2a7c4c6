// Writes the model as a gzipped pprof profile (profile.proto) that
// `go tool pprof` reads. Runs of inline frames are folded back into one
// location with several lines (the reader's inverse), modules become
// mappings marked as already symbolized (so pprof does not look for the
// binaries), and the sample fields travel as labels with the names the
// reader maps back: pid, tid (numeric), comm (process), thread_comm (thread)
// and timestamp_ns (numeric, unit nanoseconds). It never changes values.

import { gzipSync } from 'node:zlib';
import { Interner, type Frame, type Profile } from './model.js';
import { PID_LABEL, PROCESS_LABEL, THREAD_LABEL, TID_LABEL, TIMESTAMP_LABEL, frameKindOf } from './pprof-decode.js';
import { WireType, WireWriter } from './protobuf-wire.js';

export interface EncodePprofOptions {
  /** gzip the output (default true, as pprof files usually are). */
  gzip?: boolean;
  /** Extra comments to add to the profile. */
  comments?: string[];
}

/** pprof's string table: index 0 is the empty string. */
class StringTable extends Interner<string, string> {
  constructor() {
    super();
    this.id('');
  }
  override id(s: string): number {
    return super.id(s, s);
  }
}

/** The module a frame is written under: kernel frames without one get pprof's usual kernel mapping name. */
function moduleOf(f: Frame): string {
  if (f.kind === 'kernel' && frameKindOf(f.module, f.name) !== 'kernel') return f.module || '[kernel.kallsyms]';
  return f.module;
}

export function encodePprof(profile: Profile, opts: EncodePprofOptions = {}): Uint8Array {
  const st = new StringTable();
  const out = new WireWriter(1 << 20);
  const scratch = new WireWriter(1 << 12);
  const packed = new WireWriter(1 << 12);

  const valueType = (field: number, t: { type: string; unit: string }) =>
    out.message(field, (w) => {
      w.uintField(1, st.id(t.type));
      w.uintField(2, st.id(t.unit));
    });
  for (const t of profile.sampleTypes) valueType(1, t);

  // Functions and mappings, one per distinct name/module.
  const functionIds = new Map<string, number>();
  const functions: Array<{ name: string; raw: string; file: string; line: number }> = [];
  const mappingIds = new Map<string, number>();
  const frameFunction = new Int32Array(profile.frames.length);
  const frameMapping = new Int32Array(profile.frames.length);
  profile.frames.forEach((f, i) => {
    const key = `${f.name}\u0000${f.rawName ?? ''}\u0000${f.file ?? ''}`;
    let id = functionIds.get(key);
    if (id === undefined) {
      functions.push({ name: f.name, raw: f.rawName ?? f.name, file: f.file ?? '', line: f.line ?? 0 });
      id = functions.length;
      functionIds.set(key, id);
    }
    frameFunction[i] = id;
    const module = moduleOf(f);
    let m = 0;
    if (module !== '') {
      m = mappingIds.get(module) ?? 0;
      if (m === 0) {
        m = mappingIds.size + 1;
        mappingIds.set(module, m);
      }
    }
    frameMapping[i] = m;
  });

  // pprof takes the first mapping for the main binary (go tool pprof prints it
  // as "File:"): the module where most samples were taken, kernel frames aside,
  // goes first, the others in the order they were seen.
  if (mappingIds.size > 1) {
    const taken = new Float64Array(mappingIds.size + 1);
    for (const s of profile.samples) {
      const stack = profile.stacks[s.stack] ?? [];
      const leaf = stack.find((fr) => profile.frames[fr]!.kind !== 'kernel');
      if (leaf !== undefined) taken[frameMapping[leaf]!]++;
    }
    let main = 1;
    for (let m = 2; m <= mappingIds.size; m++) if (taken[m]! > taken[main]!) main = m;
    if (main !== 1) {
      const renumber = (m: number) => (m === main ? 1 : m > 0 && m < main ? m + 1 : m);
      for (let i = 0; i < frameMapping.length; i++) frameMapping[i] = renumber(frameMapping[i]!);
      for (const [module, m] of mappingIds) mappingIds.set(module, renumber(m));
    }
  }

  // Locations: a run of inline frames ends at the frame they were inlined into.
  const locationIds = new Map<string, number>();
  const locations: number[][] = [];
  const stackLocations = profile.stacks.map((stack) => {
    const locs: number[] = [];
    let group: number[] = [];
    const close = () => {
      const key = group.join(',');
      let id = locationIds.get(key);
      if (id === undefined) {
        locations.push(group);
        id = locations.length;
        locationIds.set(key, id);
      }
      locs.push(id);
      group = [];
    };
    for (const fr of stack) {
      group.push(fr);
      // A location's lines share one mapping; an inline frame of another module starts a new location.
      const next = group.length;
      if (!profile.frames[fr]!.inline) close();
      else if (next > 1 && frameMapping[group[next - 2]!] !== frameMapping[fr]) {
        group.pop();
        close();
        group.push(fr);
      }
    }
    if (group.length) close();
    return locs;
  });

  const labelUnits = profile.labelUnits ?? {};
  const keyIds = {
    pid: st.id(PID_LABEL),
    tid: st.id(TID_LABEL),
    comm: st.id(PROCESS_LABEL),
    thread: st.id(THREAD_LABEL),
    ts: st.id(TIMESTAMP_LABEL),
    ns: st.id('nanoseconds'),
  };
  const numLabel = (key: number, num: number, unit = 0) => {
    packed.reset();
    packed.uintField(1, key);
    packed.tag(3, WireType.Varint);
    packed.varint(num);
    packed.uintField(4, unit);
    scratch.bytesField(3, packed.finish());
  };
  const strLabel = (key: number, value: string) => {
    packed.reset();
    packed.uintField(1, key);
    packed.uintField(2, st.id(value));
    scratch.bytesField(3, packed.finish());
  };
  for (const s of profile.samples) {
    scratch.reset();
    const locs = stackLocations[s.stack]!;
    packed.reset();
    for (const l of locs) packed.varint(l);
    if (locs.length) scratch.bytesField(1, packed.finish());
    packed.reset();
    for (const v of s.values) packed.varint(v);
    scratch.bytesField(2, packed.finish());
    if (s.labels) {
      for (const [k, v] of Object.entries(s.labels)) {
        if (typeof v === 'number') numLabel(st.id(k), v, labelUnits[k] ? st.id(labelUnits[k]) : 0);
        else strLabel(st.id(k), v);
      }
    }
    if (s.pid !== undefined) numLabel(keyIds.pid, s.pid);
    if (s.tid !== undefined) numLabel(keyIds.tid, s.tid);
    if (s.process !== undefined) strLabel(keyIds.comm, s.process);
    if (s.thread !== undefined) strLabel(keyIds.thread, s.thread);
    if (s.timeMs !== undefined) numLabel(keyIds.ts, Math.round(s.timeMs * 1e6), keyIds.ns);
    out.bytesField(2, scratch.finish());
  }

  for (const [module, id] of [...mappingIds].sort((a, b) => a[1] - b[1])) {
    out.message(3, (w) => {
      w.uintField(1, id);
      w.uintField(5, st.id(module));
      // Symbolized already: pprof must not go looking for the binary.
      w.uintField(7, 1);
      w.uintField(8, 1);
    });
  }
  locations.forEach((frames, i) => {
    out.message(4, (w) => {
      w.uintField(1, i + 1);
      w.uintField(2, frameMapping[frames[0]!]!);
      for (const fr of frames) {
        w.message(4, (lw) => {
          lw.uintField(1, frameFunction[fr]!);
          lw.uintField(2, profile.frames[fr]!.line ?? 0);
        });
      }
    });
  });
  functions.forEach((f, i) => {
    out.message(5, (w) => {
      w.uintField(1, i + 1);
      w.uintField(2, st.id(f.name));
      w.uintField(3, st.id(f.raw));
      w.uintField(4, st.id(f.file));
      w.uintField(5, f.line);
    });
  });

  if (profile.periodType) {
    valueType(11, profile.periodType);
  }
  const comments = [...(profile.comments ?? []), ...(opts.comments ?? [])].map((c) => st.id(c));
  const defaultType = profile.defaultSampleType !== undefined ? st.id(profile.defaultSampleType) : 0;
  // The string table goes last, after every id above was handed out.
  for (const s of st.values) out.stringField(6, s);
  if (profile.timeMs !== undefined) out.uintField(9, Math.round(profile.timeMs * 1e6));
  if (profile.durationMs !== undefined) out.uintField(10, Math.round(profile.durationMs * 1e6));
  if (profile.period !== undefined) out.uintField(12, profile.period);
  if (comments.length) out.packedField(13, comments);
  out.uintField(14, defaultType);
  const bytes = out.finish();
  return opts.gzip === false ? bytes.slice() : gzipSync(bytes);
}
