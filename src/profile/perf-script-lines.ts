// How one line of `perf script` output reads: the event header
// ("comm pid/tid [cpu] time: period event:" in its many variants) and the
// stack line ("addr sym+off (dso)"), and how a symbol becomes a frame name.
// The naming rules are those of FlameGraph's stackcollapse-perf, so that
// folded output matches it byte for byte: offsets stripped, [unknown] named
// after its dso, argument lists and quotes dropped, Java class names tidied,
// "a->b" inline chains split. Pure string functions; no state, no I/O, and no
// regular expression on the per-line hot path.
import type { FrameKind } from './model.js';

export interface EventHeader {
  comm: string;
  /** Undefined when perf printed only the thread id. */
  pid?: number;
  tid: number;
  /** Event name when the header ends in "event:" (what stackcollapse-perf filters on). */
  event?: string;
  /** The sample's period ("time: 10101010 cpu-clock:"), when printed. */
  period?: number;
  /** Where the header ends, for reading the time lazily. */
  line: string;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 12 || c === 11 || c === 10;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/**
 * Parses an event header. The command name may contain spaces ("V8
 * WorkerThread 25607 ..."): it is the shortest prefix (two characters at
 * least) followed by whitespace, a number or number/number, and whitespace.
 */
export function parseEventHeader(line: string): EventHeader | undefined {
  const n = line.length;
  if (n < 2 || isSpace(line.charCodeAt(0))) return undefined;
  for (let e = 2; e < n; e++) {
    if (!isSpace(line.charCodeAt(e))) continue;
    let p = e;
    while (p < n && isSpace(line.charCodeAt(p))) p++;
    const d1 = p;
    while (p < n && isDigit(line.charCodeAt(p))) p++;
    if (p === d1) continue;
    const first = line.slice(d1, p);
    let second: string | undefined;
    if (p < n && line.charCodeAt(p) === 47 /* / */) {
      let q = p;
      while (q < n && line.charCodeAt(q) === 47) q++;
      const d2 = q;
      while (q < n && isDigit(line.charCodeAt(q))) q++;
      if (q > d2) second = line.slice(d2, q);
      p = q;
    }
    if (p >= n || !isSpace(line.charCodeAt(p))) continue;
    const header: EventHeader = { comm: line.slice(0, e), tid: 0, line };
    if (second !== undefined) {
      header.pid = Number(first);
      header.tid = Number(second);
    } else {
      header.tid = Number(first);
    }
    readEventName(line, header);
    return header;
  }
  return undefined;
}

/** Fills event and period from a header ending in ": [period] event:". */
function readEventName(line: string, header: EventHeader): void {
  let end = line.length;
  while (end > 0 && isSpace(line.charCodeAt(end - 1))) end--;
  if (end < 2 || line.charCodeAt(end - 1) !== 58 /* : */) return;
  const evEnd = end - 1;
  let s = evEnd;
  while (s > 0 && !isSpace(line.charCodeAt(s - 1))) s--;
  if (s === evEnd || s === 0) return;
  let m = s;
  while (m > 0 && isSpace(line.charCodeAt(m - 1))) m--;
  let d = m;
  while (d > 0 && isDigit(line.charCodeAt(d - 1))) d--;
  let q = d;
  while (q > 0 && isSpace(line.charCodeAt(q - 1))) q--;
  if (q > 0 && line.charCodeAt(q - 1) === 58) {
    header.event = line.slice(s, evEnd);
    if (d < m) header.period = Number(line.slice(d, m));
  }
  // Otherwise the digits before the event are not a period after "time:"
  // ("func_ab 15294 cpu-clock:"): stackcollapse-perf then sees no event at all.
}

/** The sample time in seconds ("1410597.984841:"), or undefined. */
export function headerTimeSeconds(line: string): number | undefined {
  const m = /\s(\d+\.\d+):/.exec(line);
  return m ? Number(m[1]) : undefined;
}

export interface StackLine {
  pc: string;
  /** The symbol as perf printed it, "+0x.." offset included. */
  symbol: string;
  /** The dso path or pseudo-module ("[kernel.kallsyms]"). */
  dso: string;
}

/**
 * Parses "   addr sym+off (dso)". The dso is the last " (...)" group without
 * spaces, so symbols that contain " (" themselves keep them.
 */
export function parseStackLine(line: string): StackLine | undefined {
  const n = line.length;
  let p = 0;
  while (p < n && isSpace(line.charCodeAt(p))) p++;
  const pcStart = p;
  while (p < n && isWordChar(line.charCodeAt(p))) p++;
  if (p === pcStart) return undefined;
  const pc = line.slice(pcStart, p);
  const pcEnd = p;
  while (p < n && isSpace(line.charCodeAt(p))) p++;
  const symStart = p;
  let r = line.lastIndexOf(' (', n - 1);
  while (r > symStart) {
    const close = dsoEnd(line, r + 2);
    if (close >= 0) return { pc, symbol: line.slice(symStart, r), dso: line.slice(r + 2, close) };
    r = line.lastIndexOf(' (', r - 1);
  }
  // No symbol at all ("7f1e2215d058  (/lib/libc.so)"): the symbol is then the
  // blank before " (", as stackcollapse-perf reads it.
  if (symStart - pcEnd >= 2 && line.charCodeAt(symStart - 1) === 32 && line.charCodeAt(symStart) === 40) {
    const close = dsoEnd(line, symStart + 1);
    if (close >= 0) return { pc, symbol: line.slice(symStart - 2, symStart - 1), dso: line.slice(symStart + 1, close) };
  }
  return undefined;
}

/** The last ')' in the run of non-blank characters from `from`, or -1. */
function dsoEnd(line: string, from: number): number {
  let close = -1;
  for (let k = from; k < line.length; k++) {
    const c = line.charCodeAt(k);
    if (isSpace(c)) break;
    if (c === 41 /* ) */) close = k;
  }
  return close;
}

/** Drops a trailing "+0x1f" offset (lower-case hex, as perf prints it). */
export function stripOffset(symbol: string): string {
  const plus = symbol.lastIndexOf('+0x');
  if (plus < 0 || plus + 3 >= symbol.length) return symbol;
  for (let k = plus + 3; k < symbol.length; k++) {
    const c = symbol.charCodeAt(k);
    if (!isDigit(c) && !(c >= 97 && c <= 102)) return symbol;
  }
  return symbol.slice(0, plus);
}

/** The file name of a dso path ("/usr/lib/libc.so.6" → "libc.so.6"). */
export function dsoBaseName(dso: string): string {
  const slash = dso.lastIndexOf('/');
  return slash < 0 ? dso : dso.slice(slash + 1);
}

const jitMapPattern = /\/tmp\/perf-\d+\.map|\/jitted-\d+-\d+\.so$/;

/**
 * What kind of code a dso holds. perf's bracketed pseudo-modules
 * ([kernel.kallsyms], kernel modules like [nf_conntrack], [vdso]) and vmlinux
 * are kernel-provided; perf maps (/tmp/perf-PID.map) and `perf inject --jit`
 * images are JIT code.
 */
export function dsoKind(dso: string): FrameKind {
  if (dso === '[unknown]' || dso === '') return 'unknown';
  if ((dso.charCodeAt(0) === 91 /* [ */ || dso.endsWith('vmlinux')) && !dso.includes('unknown')) return 'kernel';
  if (dso.includes('perf-') || dso.includes('jitted-')) {
    if (jitMapPattern.test(dso)) return 'jit';
  }
  return 'native';
}

export interface NamingOptions {
  /** Name unknown frames "[dso <addr>]" instead of "[dso]". */
  addrs: boolean;
  /** Strip the JVM's leading "L" from class names (applies to comm "java"). */
  tidyJava: boolean;
}

const goMethodPattern = /\.\(.*\)\./;

/** Tidies one symbol (one element of an inline chain) into a frame name. */
export function frameName(piece: string, pc: string, dso: string, isJava: boolean, opts: NamingOptions): string {
  let name = piece;
  if (name === '[unknown]') {
    const what = dso !== '[unknown]' ? dsoBaseName(dso) : 'unknown';
    name = opts.addrs ? `[${what} <${pc}>]` : `[${what}]`;
  }
  if (name.includes(';')) name = name.replaceAll(';', ':');
  const paren = name.indexOf('(');
  if (paren >= 0 && !goMethodPattern.test(name)) name = stripArguments(name, paren);
  if (name.includes('"') || name.includes("'")) name = name.replace(/["']/g, '');
  if (isJava && opts.tidyJava && name.charCodeAt(0) === 76 /* L */ && name.includes('/')) name = name.slice(1);
  return name;
}

/** Cuts a C++ signature at its argument list, keeping "(anonymous namespace)". */
function stripArguments(name: string, from: number): string {
  let p = from;
  while (p >= 0) {
    if (!name.startsWith('(anonymous namespace)', p)) return name.slice(0, p);
    p = name.indexOf('(', p + 1);
  }
  return name;
}
