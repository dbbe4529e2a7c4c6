// Sample filters shared by every reading command: --focus/--ignore over frame
// names, --tag over labels, --trace-id/--span-id over the trace-context labels
// (trace_id, span_id, Pyroscope's profile_id), and --pid/--comm/--service over
// the samples' process fields. Pure functions: a filter returns a new Profile
// that shares frames and stacks with its input and keeps a subset of samples.
// Nothing here prints; the caller says which filter emptied a profile.

import type { LabelValue, Profile, Sample } from '../profile/model.js';

export type SamplePredicate = (sample: Sample) => boolean;

/** Keeps the samples the predicate accepts. Frames and stacks are shared, not copied. */
export function filterSamples(profile: Profile, keep: SamplePredicate): Profile {
  return { ...profile, samples: profile.samples.filter(keep) };
}

/** Which stacks have a frame whose name matches the regex (computed once per frame and stack). */
function stacksMatching(profile: Profile, re: RegExp): Uint8Array {
  const frameHit = new Uint8Array(profile.frames.length);
  profile.frames.forEach((f, i) => {
    re.lastIndex = 0;
    frameHit[i] = re.test(f.name) ? 1 : 0;
  });
  const stackHit = new Uint8Array(profile.stacks.length);
  profile.stacks.forEach((stack, i) => {
    for (const fr of stack) {
      if (frameHit[fr]) {
        stackHit[i] = 1;
        break;
      }
    }
  });
  return stackHit;
}

/** --focus: keep samples with at least one frame matching the regex (like pprof -focus). */
export function focusFrames(profile: Profile, re: RegExp): Profile {
  const hit = stacksMatching(profile, re);
  return filterSamples(profile, (s) => hit[s.stack] === 1);
}

/** --ignore: drop samples with any frame matching the regex (like pprof -ignore). */
export function ignoreFrames(profile: Profile, re: RegExp): Profile {
  const hit = stacksMatching(profile, re);
  return filterSamples(profile, (s) => hit[s.stack] !== 1);
}

export interface TagFilter {
  key: string;
  value: string;
}

/** Parses `key=value` as given to --tag; undefined when there is no '='. */
export function parseTag(text: string): TagFilter | undefined {
  const eq = text.indexOf('=');
  if (eq <= 0) return undefined;
  return { key: text.slice(0, eq), value: text.slice(eq + 1) };
}

function labelEquals(actual: LabelValue | undefined, wanted: string): boolean {
  if (actual === undefined) return false;
  if (typeof actual === 'number') return wanted.trim() !== '' && Number(wanted) === actual;
  return actual === wanted;
}

/**
 * Sample fields under the label names pprof files carry them as (the reader
 * moves pid, tid, comm and thread_comm labels into fields), so --tag pid=42
 * works whichever way a sample got its pid.
 */
function sampleField(s: Sample, key: string): LabelValue | undefined {
  switch (key) {
    case 'pid':
      return s.pid;
    case 'tid':
      return s.tid;
    case 'comm':
    case 'process':
      return s.process;
    case 'thread_comm':
    case 'thread':
      return s.thread;
    default:
      return undefined;
  }
}

/**
 * --tag key=value (repeatable): a sample is kept when, for every key named,
 * its label equals one of the values given for that key (several values for
 * one key are alternatives, as in pprof's -tagfocus with commas).
 */
export function tagFilter(profile: Profile, tags: TagFilter[]): Profile {
  const byKey = new Map<string, string[]>();
  for (const t of tags) byKey.set(t.key, [...(byKey.get(t.key) ?? []), t.value]);
  return filterSamples(profile, (s) => {
    for (const [key, values] of byKey) {
      const v = s.labels?.[key] ?? sampleField(s, key);
      if (!values.some((w) => labelEquals(v, w))) return false;
    }
    return true;
  });
}

/**
 * Normalises a trace or span id given in hex (any case) or base64 (as OTLP
 * JSON and some tools print them) to lower-case hex; undefined when it is
 * neither.
 */
export function normalizeId(id: string): string | undefined {
  const t = id.trim();
  if (/^(0x)?[0-9a-fA-F]+$/.test(t) && t.length % 2 === 0) return t.replace(/^0x/, '').toLowerCase();
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) {
    const bytes = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    // Trace ids are 16 bytes, span ids 8: anything else is not an id.
    if (bytes.length === 16 || bytes.length === 8) return bytes.toString('hex');
  }
  if (/^[0-9a-fA-F]+$/.test(t)) return t.toLowerCase();
  return undefined;
}

/** A label value as lower-case hex, for comparing ids whatever case or encoding the producer used. */
function labelId(v: LabelValue | undefined): string | undefined {
  if (v === undefined || typeof v === 'number') return undefined;
  return normalizeId(v) ?? v.toLowerCase();
}

/** Label keys that carry a trace id. */
export const TRACE_ID_LABELS = ['trace_id', 'traceId', 'trace.id'];
/** Label keys that carry a span id; Pyroscope's span profiles call it profile_id. */
export const SPAN_ID_LABELS = ['span_id', 'spanId', 'span.id', 'profile_id'];

function idMatches(sample: Sample, keys: string[], wanted: string): boolean {
  const labels = sample.labels;
  if (!labels) return false;
  for (const k of keys) if (labelId(labels[k]) === wanted) return true;
  return false;
}

/** --trace-id over sample labels (the exact attribution: samples that carry the trace context). */
export function traceIdLabelFilter(profile: Profile, traceId: string): Profile {
  const wanted = normalizeId(traceId) ?? traceId.toLowerCase();
  return filterSamples(profile, (s) => idMatches(s, TRACE_ID_LABELS, wanted));
}

/** --span-id over sample labels (span_id, or profile_id as Pyroscope writes it). */
export function spanIdLabelFilter(profile: Profile, spanId: string): Profile {
  const wanted = normalizeId(spanId) ?? spanId.toLowerCase();
  return filterSamples(profile, (s) => idMatches(s, SPAN_ID_LABELS, wanted));
}

/** --pid: samples of these process ids (from the sample field, else a `pid` label). */
export function pidFilter(profile: Profile, pids: number[]): Profile {
  const set = new Set(pids);
  return filterSamples(profile, (s) => {
    const pid = s.pid ?? (typeof s.labels?.pid === 'number' ? s.labels.pid : Number(s.labels?.pid));
    return set.has(pid);
  });
}

/** --comm: samples whose process (else thread) command name is one of these. */
export function commFilter(profile: Profile, names: string[]): Profile {
  const set = new Set(names);
  return filterSamples(profile, (s) => {
    const comm = s.process ?? s.thread;
    return comm !== undefined && set.has(comm);
  });
}

/** Labels that name a service, in the order they are preferred. */
export const SERVICE_LABELS = ['service', 'service_name', 'service.name'];

/** --service: samples whose process name or service label is one of these. */
export function serviceFilter(profile: Profile, names: string[]): Profile {
  const set = new Set(names);
  return filterSamples(profile, (s) => {
    if (s.process !== undefined && set.has(s.process)) return true;
    for (const k of SERVICE_LABELS) {
      const v = s.labels?.[k];
      if (typeof v === 'string' && set.has(v)) return true;
    }
    return false;
  });
}
