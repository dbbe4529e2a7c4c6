// speedscope JSON (https://www.speedscope.app/file-format-schema.json): the
// writer emits one "sampled" profile for one sample type (speedscope shows
// one unit at a time), stacks root first as the format wants, with runs of
// identical consecutive stacks merged; the reader takes sampled and evented
// profiles (each profile of a file is usually a thread, and becomes the
// samples' thread name). Neither touches the file system.

import { BadInputError } from '../errors.js';
import { version } from '../version.js';
import { ProfileBuilder, type Profile, type ValueType } from './model.js';

export const SPEEDSCOPE_SCHEMA = 'https://www.speedscope.app/file-format-schema.json';

type SpeedscopeUnit = 'none' | 'nanoseconds' | 'microseconds' | 'milliseconds' | 'seconds' | 'bytes';

interface SpeedscopeFrame {
  name: string;
  file?: string;
  line?: number;
  col?: number;
}

interface SampledProfile {
  type: 'sampled';
  name: string;
  unit: SpeedscopeUnit;
  startValue: number;
  endValue: number;
  samples: number[][];
  weights: number[];
}

interface EventedProfile {
  type: 'evented';
  name: string;
  unit: SpeedscopeUnit;
  startValue: number;
  endValue: number;
  events: Array<{ type: 'O' | 'C'; at: number; frame: number }>;
}

interface SpeedscopeFile {
  $schema: string;
  shared: { frames: SpeedscopeFrame[] };
  profiles: Array<SampledProfile | EventedProfile>;
  name?: string;
  activeProfileIndex?: number;
  exporter?: string;
}

const UNITS: SpeedscopeUnit[] = ['none', 'nanoseconds', 'microseconds', 'milliseconds', 'seconds', 'bytes'];

function speedscopeUnit(unit: string): SpeedscopeUnit {
  return (UNITS as string[]).includes(unit) ? (unit as SpeedscopeUnit) : 'none';
}

export interface SpeedscopeOptions {
  /** Index of the sample type to write (default: the last). */
  typeIndex?: number;
  /** Name of the profile group, shown as speedscope's title. */
  name?: string;
}

export function writeSpeedscope(profile: Profile, opts: SpeedscopeOptions = {}): string {
  const typeIndex = opts.typeIndex ?? profile.sampleTypes.length - 1;
  const type = profile.sampleTypes[typeIndex] ?? { type: 'samples', unit: 'count' };
  const frames: SpeedscopeFrame[] = profile.frames.map((f) => {
    const out: SpeedscopeFrame = { name: f.name };
    const file = f.file ?? (f.module || undefined);
    if (file !== undefined) out.file = file;
    if (f.line !== undefined && f.line > 0) out.line = f.line;
    return out;
  });
  // Time order when samples carry times (speedscope's "Time Order" view), else input order.
  let order = profile.samples;
  if (order.some((s) => s.timeMs !== undefined)) order = [...order].sort((a, b) => (a.timeMs ?? 0) - (b.timeMs ?? 0));
  const rootFirst = new Map<number, number[]>();
  const samples: number[][] = [];
  const weights: number[] = [];
  let last = -1;
  for (const s of order) {
    const w = s.values[typeIndex] ?? 0;
    if (w === 0) continue;
    if (s.stack === last) {
      weights[weights.length - 1]! += w;
      continue;
    }
    let stack = rootFirst.get(s.stack);
    if (!stack) {
      stack = [...profile.stacks[s.stack]!].reverse();
      rootFirst.set(s.stack, stack);
    }
    samples.push(stack);
    weights.push(w);
    last = s.stack;
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const file: SpeedscopeFile = {
    $schema: SPEEDSCOPE_SCHEMA,
    shared: { frames },
    profiles: [
      {
        type: 'sampled',
        name: type.type,
        unit: speedscopeUnit(type.unit),
        startValue: 0,
        endValue: total,
        samples,
        weights,
      },
    ],
    name: opts.name ?? `${type.type} (${type.unit})`,
    activeProfileIndex: 0,
    exporter: `profctl@${version}`,
  };
  return JSON.stringify(file);
}

function sampleTypeFor(unit: SpeedscopeUnit, name: string | undefined): ValueType {
  if (unit === 'none') return { type: name ?? 'samples', unit: 'count' };
  if (unit === 'bytes') return { type: name ?? 'space', unit: 'bytes' };
  return { type: name ?? 'time', unit };
}

function isIndex(v: unknown, n: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < n;
}

export function readSpeedscope(text: string, source: string): Profile {
  let doc: SpeedscopeFile;
  try {
    doc = JSON.parse(text) as SpeedscopeFile;
  } catch (e) {
    throw new BadInputError(source, `not valid JSON (${(e as Error).message})`, 'the file may be truncated');
  }
  const bad = (problem: string): never => {
    throw new BadInputError(source, `not a speedscope profile: ${problem}`, `speedscope files follow ${SPEEDSCOPE_SCHEMA}`);
  };
  if (typeof doc !== 'object' || doc === null) bad('the top level is not an object');
  if (!Array.isArray(doc.shared?.frames)) bad('no shared.frames list');
  if (!Array.isArray(doc.profiles) || doc.profiles.length === 0) bad('no profiles');
  const fromProfctl = typeof doc.exporter === 'string' && doc.exporter.startsWith('profctl');
  const first = doc.profiles[0]!;
  if (typeof first !== 'object' || first === null) bad('profile 0 is not an object');
  const unit = speedscopeUnit(String(first?.unit));
  const type = sampleTypeFor(unit, fromProfctl && typeof first.name === 'string' ? first.name : undefined);
  const b = new ProfileBuilder([type]);
  const nFrames = doc.shared.frames.length;
  const frameIds = doc.shared.frames.map((f, i) => {
    if (typeof f?.name !== 'string') bad(`frame ${i} has no name`);
    if (typeof f !== 'object' || f === null) bad(`frame ${i} is not an object`);
    const frame: Parameters<ProfileBuilder['frameId']>[0] = { name: f.name, module: '', kind: 'native' };
    if (typeof f.file === 'string') frame.file = f.file;
    if (typeof f.line === 'number') frame.line = f.line;
    return b.frameId(frame);
  });
  // One profile per thread is the common shape; name the thread only when there are several.
  const several = doc.profiles.length > 1;
  for (const [pi, p] of doc.profiles.entries()) {
    if (typeof p !== 'object' || p === null) bad(`profile ${pi} is not an object`);
    if (speedscopeUnit(String(p?.unit)) !== unit) bad(`profile ${pi} is in ${p?.unit}, profile 0 in ${unit}; one file, one unit`);
    const thread = several && typeof p.name === 'string' ? p.name : undefined;
    const add = (stackRootFirst: number[], w: number) => {
      if (w === 0) return;
      const leafFirst: number[] = [];
      for (let i = stackRootFirst.length - 1; i >= 0; i--) leafFirst.push(frameIds[stackRootFirst[i]!]!);
      const sample: Parameters<ProfileBuilder['addSample']>[0] = { stack: b.stackId(leafFirst), values: [w] };
      if (thread !== undefined) sample.thread = thread;
      b.addSample(sample);
    };
    if (p.type === 'sampled') {
      if (!Array.isArray(p.samples) || !Array.isArray(p.weights) || p.samples.length !== p.weights.length) bad(`profile ${pi}: samples and weights must be lists of the same length`);
      p.samples.forEach((stack, i) => {
        if (!Array.isArray(stack) || !stack.every((x) => isIndex(x, nFrames))) bad(`profile ${pi}, sample ${i}: not a list of frame indices`);
        const w = p.weights[i];
        if (typeof w !== 'number' || !Number.isFinite(w)) bad(`profile ${pi}, weight ${i} is not a number`);
        add(stack, w);
      });
    } else if (p.type === 'evented') {
      if (!Array.isArray(p.events)) bad(`profile ${pi}: no events list`);
      const open: number[] = [];
      let at = typeof p.startValue === 'number' ? p.startValue : 0;
      for (const [i, ev] of p.events.entries()) {
        if (typeof ev?.at !== 'number' || !isIndex(ev.frame, nFrames)) bad(`profile ${pi}, event ${i} is malformed`);
        // The time since the previous event belongs to the stack that was open.
        if (open.length && ev.at > at) add(open, ev.at - at);
        at = Math.max(at, ev.at);
        if (ev.type === 'O') open.push(ev.frame);
        else if (ev.type === 'C') {
          if (open[open.length - 1] !== ev.frame) bad(`profile ${pi}, event ${i} closes a frame that is not the innermost open one`);
          open.pop();
        } else bad(`profile ${pi}, event ${i} has type ${JSON.stringify(ev.type)}`);
      }
    } else bad(`profile ${pi} has type ${JSON.stringify((p as { type?: unknown }).type)}`);
  }
  return b.build();
}
