// The one path by which every reading command (top, flame, diff, export) gets
// its profile: read each --input (merging several), or the store when no
// --input is given; pick the sample type; apply the selection filters in a
// fixed order and say on stderr which filter, if any, left no samples. It
// turns option values into query calls and must not render anything.

import { UserError } from '../errors.js';
import { readProfileFile, type InputFormat } from '../profile/read-file.js';
import type { Profile } from '../profile/model.js';
import { mergeProfiles } from '../query/merge.js';
import {
  commFilter,
  focusFrames,
  ignoreFrames,
  parseTag,
  pidFilter,
  serviceFilter,
  spanIdLabelFilter,
  tagFilter,
  traceIdLabelFilter,
} from '../query/filter.js';

export interface SelectedProfile {
  profile: Profile;
  typeIndex: number;
}

export interface SelectOptions {
  /** The option holding the input files: 'input' (default) or e.g. 'baseline'. */
  inputKey?: string;
  /** Skip the filters (diff's baseline applies only --ignore, say). */
  noFilters?: boolean;
}

/** An option that may be given once or repeated, as a string list. */
export function optionList(v: unknown): string[] {
  if (v === undefined || v === null || v === false || v === true) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function optionString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function compileRegex(flag: string, source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (e) {
    throw new UserError(`${flag} ${JSON.stringify(source)}: not a valid regular expression (${(e as Error).message})`, 'JavaScript regex syntax; quote it for the shell');
  }
}

/** Reads the profiles named by the input option (merged), or the store. */
export async function readInputs(options: Record<string, unknown>, inputKey = 'input'): Promise<Profile> {
  const files = optionList(options[inputKey]);
  if (files.length === 0) return readStore(options, inputKey);
  const format = optionString(options.inputFormat) as InputFormat | undefined;
  const addrs = options.addrs === true;
  // stackcollapse-perf leaves Java names untidied under --pid/--tid (bare flags); folded export matches it.
  const tidyJava = !(options.pid === true || options.tid === true);
  const profiles: Profile[] = [];
  for (const f of files) profiles.push(await readProfileFile(f, { ...(format ? { format } : {}), perfScript: { addrs, tidyJava } }));
  return mergeProfiles(profiles);
}

/**
 * No --input: the store, for the --since/--until range. Only the segments that
 * overlap the range are opened; pid, comm and service selection happen while
 * reading. Samples are summed per stack unless a span join needs their times.
 */
async function readStore(options: Record<string, unknown>, inputKey: string): Promise<Profile> {
  if (inputKey !== 'input') {
    throw new UserError(`no --${inputKey} given`, `give the ${inputKey} profile with --${inputKey} FILE`);
  }
  // The reader alone: the store's index module brings the writer and the agent's status too.
  const { openStoreReader } = await import('../store/reader.js');
  const { resolveStoreDir } = await import('../store/layout.js');
  const { parseTimeRange } = await import('./units.js');
  const { fromMs, toMs } = parseTimeRange(options.since, options.until);
  const dir = resolveStoreDir(optionString(options.store));
  const reader = openStoreReader(dir, { onWarning: (m) => process.stderr.write(`profctl: warning: ${m}\n`) });
  const pids = optionList(options.pid).filter((p) => /^\d+$/.test(p)).map(Number);
  const comms = optionList(options.comm);
  const services = optionList(options.service);
  const profile = await reader.readProfile({
    fromMs,
    toMs,
    ...(pids.length ? { pids } : {}),
    ...(comms.length ? { comms } : {}),
    ...(services.length ? { services } : {}),
    aggregate: options.traceId === undefined && options.spanId === undefined,
  });
  if (profile.samples.length === 0) {
    const st = reader.stats();
    const span = st.oldestMs !== undefined ? `it holds ${new Date(st.oldestMs).toISOString()} to ${new Date(st.newestMs!).toISOString()}` : 'it is empty';
    process.stderr.write(`profctl: note: no samples in the store ${dir} between ${new Date(fromMs).toISOString()} and ${new Date(toMs).toISOString()} (${span})\n`);
  }
  return profile;
}

/** The sample type named by --sample-type (a name or a 0-based index), or the profile's default. */
export function pickSampleType(profile: Profile, name: string | undefined): number {
  const available = () => profile.sampleTypes.map((t) => t.type).join(', ');
  if (name === undefined) {
    if (profile.sampleTypes.length === 0) throw new UserError('the profile has no sample types');
    const i = profile.defaultSampleType !== undefined ? profile.sampleTypes.findIndex((t) => t.type === profile.defaultSampleType) : -1;
    return i >= 0 ? i : profile.sampleTypes.length - 1;
  }
  const byName = profile.sampleTypes.findIndex((t) => t.type === name);
  if (byName >= 0) return byName;
  if (/^\d+$/.test(name) && Number(name) < profile.sampleTypes.length) return Number(name);
  throw new UserError(`unknown sample type ${JSON.stringify(name)}`, `available: ${available()}`);
}

/** Applies one filter and reports on stderr when it is the one that emptied the profile. */
function step(profile: Profile, what: string, apply: (p: Profile) => Profile): Profile {
  if (profile.samples.length === 0) return profile;
  const out = apply(profile);
  if (out.samples.length === 0) {
    process.stderr.write(`profctl: note: ${what} matched no samples (of ${profile.samples.length}); the result is empty\n`);
  }
  return out;
}

/** Applies the selection options to a profile, in a fixed, documented order. */
export function applyFilters(profile: Profile, options: Record<string, unknown>, opts: { traceJoined?: boolean } = {}): Profile {
  let p = profile;
  const pids = optionList(options.pid);
  if (pids.length) {
    const nums = pids.map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n) || n < 0) throw new UserError(`--pid ${x}: not a process id`, 'give a number, e.g. --pid 1234');
      return n;
    });
    p = step(p, `--pid ${pids.join(',')}`, (q) => pidFilter(q, nums));
  }
  const comms = optionList(options.comm);
  if (comms.length) p = step(p, `--comm ${comms.join(',')}`, (q) => commFilter(q, comms));
  const services = optionList(options.service);
  if (services.length) p = step(p, `--service ${services.join(',')}`, (q) => serviceFilter(q, services));
  // --trace-id/--span-id go through the span join in selectProfile; only
  // callers that filter a profile they already have use the label filters.
  if (!opts.traceJoined) {
    const traceId = optionString(options.traceId);
    if (traceId !== undefined) p = step(p, `--trace-id ${traceId}`, (q) => traceIdLabelFilter(q, traceId));
    const spanId = optionString(options.spanId);
    if (spanId !== undefined) p = step(p, `--span-id ${spanId}`, (q) => spanIdLabelFilter(q, spanId));
  }
  const tags = optionList(options.tag).map((t) => {
    const tag = parseTag(t);
    if (!tag) throw new UserError(`--tag ${JSON.stringify(t)}: expected key=value`, 'e.g. --tag span_name="GET /checkout"');
    return tag;
  });
  if (tags.length) p = step(p, `--tag ${optionList(options.tag).join(' --tag ')}`, (q) => tagFilter(q, tags));
  for (const re of optionList(options.focus)) p = step(p, `--focus ${re}`, (q) => focusFrames(q, compileRegex('--focus', re)));
  for (const re of optionList(options.ignore)) p = step(p, `--ignore ${re}`, (q) => ignoreFrames(q, compileRegex('--ignore', re)));
  return p;
}

/** Reads, picks the sample type, and filters: what every reading command starts with. */
export async function selectProfile(options: Record<string, unknown>, opts: SelectOptions = {}): Promise<SelectedProfile> {
  const inputKey = opts.inputKey ?? 'input';
  // The span join's modules load only when a trace or span is asked for.
  const wantsTrace = inputKey === 'input' && !opts.noFilters && (options.traceId !== undefined || options.spanId !== undefined);
  const traceSelection = wantsTrace ? await import('./trace-selection.js') : undefined;
  const trace = traceSelection?.parseTraceFilter(options);
  const profile = trace ? await traceSelection!.selectTraceProfile(options, trace, () => readInputs(options, inputKey)) : await readInputs(options, inputKey);
  const typeIndex = pickSampleType(profile, optionString(options.sampleType));
  const filtered = opts.noFilters ? profile : applyFilters(profile, options, { traceJoined: trace !== undefined });
  return { profile: filtered, typeIndex };
}
