// The man page, profctl(1), generated from the option specs and the exit-code
// table. man/profctl.1 is this module's output; a test fails when it drifts.
import { commands, globalOptions, type OptionSpec } from '../commands/spec.js';
import { exitCodeDocs } from '../errors.js';

function roff(s: string): string {
  return s.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/gm, '\\&$1');
}

function optionEntry(o: OptionSpec): string[] {
  const out = ['.TP', `.B ${roff(o.flags)}`];
  let desc = o.description;
  if (o.choices) desc += ` (one of: ${o.choices.join(', ')})`;
  if (o.default !== undefined && typeof o.default === 'string') desc += ` [default: ${o.default}]`;
  if (o.repeatable) desc += ' [repeatable]';
  out.push(roff(desc));
  return out;
}

export function manPage(version: string): string {
  const out: string[] = [];
  out.push(`.TH PROFCTL 1 "" "profctl ${version}" "User Commands"`);
  out.push('.SH NAME');
  out.push(roff('profctl - always-on eBPF CPU profiler: from a burning SLO to a slow trace to the function that ate the CPU'));
  out.push('.SH SYNOPSIS');
  out.push('.B profctl');
  out.push(roff('[--no-color] <command> [options]'));
  out.push('.SH DESCRIPTION');
  out.push(
    roff(
      'profctl keeps an always-on, low-overhead CPU profile of the machine (sampled with eBPF at about 99 Hz) in a bounded local store, ' +
        'and walks an on-call engineer from a burning SLO (profctl slo) to the slowest traces (profctl trace) to a flame graph of one request (profctl flame --trace-id) ' +
        'and its hottest functions (profctl top). In CI it records a benchmark and fails the build on a regression (profctl diff). ' +
        'Reading commands take profile files with --input (pprof, folded stacks, perf script, speedscope; the format is detected) or read the store. ' +
        'Standard output carries data; notes, warnings and hints go to standard error.',
    ),
  );
  out.push('.SH GLOBAL OPTIONS');
  for (const o of globalOptions) out.push(...optionEntry(o));
  out.push('.SH COMMANDS');
  for (const c of commands) {
    out.push(`.SS "profctl ${c.name}${c.args ? ' ' + roff(c.args) : ''}"`);
    out.push(roff(c.summary[0]!.toUpperCase() + c.summary.slice(1) + '.'));
    for (const p of c.details ?? []) out.push('.PP', roff(p));
    for (const o of c.options) out.push(...optionEntry(o));
    if (c.examples?.length) {
      out.push('.PP', 'Examples:', '.RS', '.nf');
      for (const e of c.examples) out.push(roff(`$ ${e}`));
      out.push('.fi', '.RE');
    }
  }
  out.push('.SH TIME RANGES');
  out.push(roff('--since and --until take a duration ago (15m, 2h, 7d), a local clock time (02:10, 14:30:05), or an RFC 3339 timestamp (2026-11-25T02:10:00Z).'));
  out.push('.SH ENVIRONMENT');
  out.push('.TP', '.B PROFCTL_STORE', roff('store directory when --store is not given (default /var/lib/profctl).'));
  out.push('.TP', '.B NO_COLOR', roff('when set and not empty, output is not coloured.'));
  out.push('.TP', '.B FORCE_COLOR', roff('forces coloured output (1, 2 or 3 for the colour depth).'));
  out.push('.TP', '.B PROFCTL_DEBUG', roff('print stack traces of internal errors.'));
  out.push('.SH EXIT STATUS');
  for (const [code, text] of exitCodeDocs) out.push('.TP', `.B ${code}`, roff(text));
  out.push('.SH SEE ALSO');
  out.push(roff('perf(1), pprof (go tool pprof), the README shipped with profctl.'));
  return out.join('\n') + '\n';
}
