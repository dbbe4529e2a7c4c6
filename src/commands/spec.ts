// The option specs of every subcommand, declared once as data. src/cli.ts
// builds the commander program from them; src/gen-docs.ts writes the shell
// completions and the man page from them; test/cli/spec.test.ts fails when the
// checked-in completions/ and man/ drift from this table. Command modules are
// loaded lazily so that `profctl --help` pulls in nothing heavy.

export interface OptionSpec {
  /** commander flags, e.g. '-o, --output <file>' or '--json'. */
  flags: string;
  description: string;
  /** Closed set of values, for validation and completion. */
  choices?: string[];
  default?: string | boolean;
  /** May be given several times; collected into an array. */
  repeatable?: boolean;
  /** What the value is, for shell completion. */
  complete?: 'file' | 'dir' | 'command';
}

export interface CommandModule {
  /** Runs the command; returns the exit status (0 when omitted). */
  run(args: string[], options: Record<string, unknown>): Promise<number | void>;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments in commander syntax, e.g. '[command...]'. */
  args?: string;
  options: OptionSpec[];
  examples?: string[];
  /** Paragraphs for the man page: behaviour, the --json shape. */
  details?: string[];
  load: () => Promise<CommandModule>;
}

// ---- option groups shared by the reading commands ----

export const inputOptions: OptionSpec[] = [
  { flags: '-i, --input <file>', description: 'read a profile file (pprof, folded, perf script); repeat to merge several; default: the store', repeatable: true, complete: 'file' },
  { flags: '--input-format <format>', description: 'force the input format instead of detecting it', choices: ['pprof', 'folded', 'perf-script', 'speedscope'] },
];

export const storeOptions: OptionSpec[] = [
  { flags: '--store <dir>', description: 'store directory (default: $PROFCTL_STORE, else /var/lib/profctl)', complete: 'dir' },
  { flags: '--since <time>', description: 'start of the time range: 15m, 2h (ago), 02:10 (local), or RFC 3339', default: '1h' },
  { flags: '--until <time>', description: 'end of the time range (default: now)' },
];

export const selectionOptions: OptionSpec[] = [
  { flags: '--service <name>', description: 'only samples of this service (process name unless configured)', repeatable: true },
  { flags: '--pid [pid]', description: 'only samples of this process id (repeatable); alone, for folded output of perf-script input: prefix stacks with process name-pid (stackcollapse-perf --pid)', repeatable: true },
  { flags: '--comm <name>', description: 'only samples of processes with this command name', repeatable: true },
  { flags: '--trace-id <id>', description: 'only samples of this trace (hex or base64)' },
  { flags: '--span-id <id>', description: 'only samples of this span and its descendants (hex or base64)' },
  { flags: '--spans <source>', description: 'span source: store (default), an OTLP JSON file, jaeger+http://host:16686, tempo+http://host:3200', complete: 'file' },
  { flags: '--include-ambiguous', description: 'with --trace-id, also count samples that several concurrent spans could own' },
  { flags: '--focus <regex>', description: 'keep only samples with a frame matching the regex', repeatable: true },
  { flags: '--ignore <regex>', description: 'drop samples with a frame matching the regex', repeatable: true },
  { flags: '--tag <key=value>', description: 'keep only samples whose label key has this value (like pprof -tagfocus)', repeatable: true },
  { flags: '--sample-type <name>', description: 'which value to read (default: the last sample type, as pprof does)' },
];

export const readingOptions: OptionSpec[] = [...inputOptions, ...storeOptions, ...selectionOptions];

const jsonOption: OptionSpec = { flags: '--json', description: 'print machine-readable JSON (shape documented in the man page)' };
const outputFileOption: OptionSpec = { flags: '-o, --output <file>', description: 'write to this file instead of stdout', complete: 'file' };

// ---- the commands ----

export const commands: CommandSpec[] = [
  {
    name: 'top',
    summary: 'table of the hottest functions: self and total (cumulative) values',
    options: [
      ...readingOptions,
      { flags: '--sort <key>', description: 'sort by self or total', choices: ['self', 'total'], default: 'self' },
      { flags: '--limit <n>', description: 'number of rows (default: what fits the terminal, every row when piped; 0 = all)' },
      { flags: '--by <key>', description: 'group by function, module or thread', choices: ['function', 'module', 'thread'], default: 'function' },
      jsonOption,
    ],
    examples: ['profctl top --input cpu.pb.gz', 'profctl top --since 15m --service checkout --limit 20'],
    details: [
      'Rows are functions (or modules, or threads with --by) with self (value of samples whose leaf is the function) and total (value of samples with the function anywhere in the stack, counted once per sample), as go tool pprof -top computes them.',
      '--json prints {"total": n, "unit": "nanoseconds", "sampleType": "cpu", "rows": [{"function", "module", "self", "selfPct", "total", "totalPct"}]}, values in the sample type\'s unit, rows sorted and limited as in the table.',
      'Profiles written by profctl carry each sample\'s fields as pprof labels: pid and tid (numeric), comm (process name), thread_comm (thread name), timestamp_ns (numeric, nanoseconds), and trace_id/span_id when the sample had a trace context.',
    ],
    load: () => import('./top.js'),
  },
  {
    name: 'flame',
    summary: 'flame graph: interactive on a terminal, text, SVG, HTML or an export format',
    options: [
      ...readingOptions,
      { flags: '-f, --format <format>', description: 'output format (default: interactive on a TTY, else text)', choices: ['text', 'svg', 'html', 'folded', 'pprof', 'speedscope', 'json'] },
      outputFileOption,
      { flags: '--width <n>', description: 'width: columns for text (default: the terminal width), pixels for SVG (default 1200)' },
      { flags: '--baseline <file>', description: 'draw a differential flame graph against this profile (growth red, shrink blue)', repeatable: true, complete: 'file' },
      { flags: '--inverted', description: 'callers view: leaf functions at the top' },
      { flags: '--no-interactive', description: 'static rendering even on a terminal' },
      { flags: '--title <text>', description: 'title of the SVG/HTML graph' },
    ],
    examples: ['profctl flame --input cpu.pb.gz', 'profctl flame --trace-id 4bf92f3577b34da6a3ce929d0e0e4736', 'profctl flame --input cur.pb.gz --format html -o flame.html'],
    details: [
      'On a terminal, flame opens an interactive view (arrows or hjkl move, Enter zooms, Esc zooms out, r resets, / searches, n/N step through matches, Tab shows the top functions, i inverts, d toggles the differential colours with --baseline, q quits, ? shows the keys). Otherwise it prints a text icicle: the root on top, width proportional to the value; frames narrower than a cell fold into their caller.',
      '--format json prints {"sampleType", "unit", "total", "inverted", "baseline": {"total"} (differential only), "root": Node} where Node is {"name", "module", "kind": "native"|"kernel"|"jit"|"unknown"|"root", "self", "total", "baselineSelf", "baselineTotal", "deltaSelfPct", "deltaTotalPct" (differential only), "children": [Node]} with children heaviest first.',
    ],
    load: () => import('./flame.js'),
  },
  {
    name: 'diff',
    summary: 'compare two profiles per function; fail CI on a significant regression',
    options: [
      { flags: '--baseline <file>', description: 'the baseline profile (repeat to merge several runs)', repeatable: true, complete: 'file' },
      ...readingOptions,
      { flags: '--fail-on-regression <pct>', description: "exit 1 when a function's self share grows by more than PCT points and the growth is significant" },
      { flags: '-f, --format <format>', description: 'output format', choices: ['table', 'markdown'], default: 'table' },
      { flags: '--limit <n>', description: 'number of rows (default: 20; 0 = all)' },
      jsonOption,
    ],
    examples: ['profctl diff --baseline main.pb.gz --input pr.pb.gz --fail-on-regression 2', 'profctl diff --baseline a.pb.gz --input b.pb.gz --format markdown'],
    details: [
      'Each function\'s self and total share of its profile\'s total are compared in percentage points. A regression is a self-share growth above --fail-on-regression that is significant: Fisher\'s exact test on the sample counts, Holm-adjusted over all functions, at alpha 0.05. Exit status 1 when there is one.',
      '--json prints {"baseline": {"total", "unit", "sampleType", "samples", "countSource"}, "current": {...}, "alpha", "failOnRegression", "totalRows", "rows": [{"function", "module", "status": "new"|"gone"|"both", "baselineSelf", "currentSelf", "baselineTotal", "currentTotal", "baselineSelfPct", "currentSelfPct", "deltaSelfPct", "baselineTotalPct", "currentTotalPct", "deltaTotalPct", "baselineSelfSamples", "currentSelfSamples", "pValue", "rawPValue", "significant", "regression"}], "regressions": [rows]}.',
    ],
    load: () => import('./diff.js'),
  },
  {
    name: 'export',
    summary: 'convert or merge profiles to pprof, folded stacks or speedscope JSON',
    options: [
      ...readingOptions,
      { flags: '-f, --format <format>', description: 'output format', choices: ['pprof', 'folded', 'speedscope'], default: 'pprof' },
      outputFileOption,
      { flags: '--tid', description: 'folded, perf-script input: prefix stacks with process name-pid/tid (stackcollapse-perf --tid)' },
      { flags: '--kernel', description: 'folded, perf-script input: annotate kernel functions with _[k]' },
      { flags: '--jit', description: 'folded, perf-script input: annotate JIT functions with _[j]' },
      { flags: '--all', description: 'folded, perf-script input: all annotations (--kernel --jit)' },
      { flags: '--addrs', description: 'folded, perf-script input: name unknown frames by address' },
    ],
    examples: ['profctl export --input perf.txt --format folded', 'profctl export --input a.pb.gz --input b.pb.gz -o merged.pb.gz'],
    load: () => import('./export.js'),
  },
  {
    name: 'record',
    summary: 'profile the machine, some processes, or a command it launches',
    args: '[command...]',
    options: [
      { flags: '-d, --duration <duration>', description: 'how long to record (default: until the command exits, else 10s)' },
      { flags: '--hz <n>', description: 'samples per second per CPU', default: '99' },
      { flags: '-p, --pid <pid>', description: 'profile only this process (repeatable)', repeatable: true },
      { flags: '-o, --output <file>', description: 'write a gzipped pprof instead of adding the samples to the store', complete: 'file' },
      { flags: '--engine <engine>', description: 'sampling engine', choices: ['auto', 'bpf', 'perf'], default: 'auto' },
      { flags: '--store <dir>', description: 'store directory when no -o is given', complete: 'dir' },
    ],
    examples: ['sudo profctl record -o bench.pb.gz -- ./bench --iterations 1000', 'sudo profctl record --duration 30s --pid 1234 -o app.pb.gz'],
    details: [
      "With a command, record exits with the command's exit status; a command killed by a signal gives 128 + the signal's number, as a shell reports it. SIGINT or SIGTERM ends a recording and the profile is still written: a command still running then is stopped with SIGTERM and record exits with 130 or 143; without a command, the recording ends with status 0.",
    ],
    load: () => import('./record.js'),
  },
  {
    name: 'agent',
    summary: 'run the always-on profiler, writing segments to the ring-buffer store',
    options: [
      { flags: '--store <dir>', description: 'store directory (default: $PROFCTL_STORE, else /var/lib/profctl)', complete: 'dir' },
      { flags: '--hz <n>', description: 'samples per second per CPU', default: '99' },
      { flags: '--flush <duration>', description: 'segment length, 1s to 10m', default: '10s' },
      { flags: '--max-size <size>', description: 'size cap of the store (4KiB or more); oldest segments go first', default: '1GiB' },
      { flags: '--retention <duration>', description: 'keep data this long', default: '7d' },
      { flags: '--engine <engine>', description: 'sampling engine', choices: ['auto', 'bpf', 'perf'], default: 'auto' },
      { flags: '--otlp [addr]', description: 'receive OTLP/HTTP spans on this address (default 127.0.0.1:4318)' },
      { flags: '-q, --quiet', description: 'no per-flush log line' },
    ],
    examples: ['sudo profctl agent', 'sudo profctl agent --otlp --max-size 2GiB --retention 3d'],
    load: () => import('./agent.js'),
  },
  {
    name: 'status',
    summary: "the agent's health and the store's coverage",
    options: [
      { flags: '--store <dir>', description: 'store directory', complete: 'dir' },
      jsonOption,
    ],
    details: [
      'Exit status 0 when an agent is running and writing its store, 1 when none is running or its status is stale, so that a health check can run status alone.',
      '--json prints {"agent": {"running", "stale", "pid", "engine", "hz", "startedAt", "updatedAt", "samplesPerSecond", "lostPerSecond", "cpuPercent", "rssBytes", "otlpAddress", "unwritten"}, "store": {"path", "sizeBytes", "maxSizeBytes", "retentionMs", "segments", "oldest", "newest", "gaps": [{"from", "to", "ms"}]}}; agent is {"running": false} when no agent has written a status; stale: running, but its status has not been rewritten for three flushes (a store it cannot write); unwritten: samples and spans waiting for the store.',
    ],
    load: () => import('./status.js'),
  },
  {
    name: 'trace',
    summary: 'list the slowest traces in a window, or show one trace as a waterfall',
    args: '[trace-id]',
    options: [
      ...storeOptions,
      ...inputOptions,
      { flags: '--service <name>', description: 'only traces whose root span is of this service', repeatable: true },
      { flags: '--spans <source>', description: 'span source: store (default), an OTLP JSON file, jaeger+http://host:16686, tempo+http://host:3200', complete: 'file' },
      { flags: '--min-duration <duration>', description: 'only traces at least this long' },
      { flags: '--slowest', description: 'slowest first (the default order)' },
      { flags: '--limit <n>', description: 'number of traces', default: '20' },
      { flags: '--include-ambiguous', description: 'also count samples that several concurrent spans could own' },
      jsonOption,
    ],
    examples: ['profctl trace --service checkout --since 02:09 --slowest', 'profctl trace 4bf92f3577b34da6a3ce929d0e0e4736'],
    details: [
      'Samples are joined to spans four ways, and every trace view prints how many each gave: exact (the sample carries the trace id: pprof labels trace_id, span_id, profile_id, or the OpenTelemetry thread context read by the sampler), thread-time (spans with thread.id and process.pid), process-time (spans with only process.pid, when one chain of nested spans covers the sample), ambiguous (left out unless --include-ambiguous).',
      '--json without an id prints {"traces": [{"traceId", "root", "service", "startTime", "durationMs", "spans", "samples", "attribution": {"exact", "thread", "process", "ambiguous"}, "hottest"}]}; with an id {"traceId", "attribution", "spans": [{"spanId", "parentSpanId", "name", "service", "depth", "offsetMs", "durationMs", "status", "samples", "hottest"}]}.',
    ],
    load: () => import('./trace.js'),
  },
  {
    name: 'slo',
    summary: 'burn rates of every SLO, which page, since when, and the next command',
    options: [
      { flags: '-c, --config <file>', description: 'SLO definitions (default: ./profctl.yaml, then $XDG_CONFIG_HOME/profctl/config.yaml)', complete: 'file' },
      { flags: '--store <dir>', description: 'store directory, for SLOs on local spans', complete: 'dir' },
      { flags: '--spans <source>', description: 'span source for local SLIs', complete: 'file' },
      { flags: '--watch [interval]', description: 'redraw in place every interval (default 30s) until interrupted' },
      jsonOption,
    ],
    examples: ['profctl slo', 'profctl slo --config slos.yaml --json'],
    details: [
      'Burn rates follow the multiwindow, multi-burn-rate method: page when 1h and 5m both burn over 14.4x or 6h and 30m over 6x; ticket for 1d and 2h over 3x or 3d and 6h over 1x, thresholds scaled to the SLO window. Exit status 1 when any SLO pages.',
      '--json prints {"slos": [{"name", "service", "objective", "burnRates": {"5m", "30m", "1h", "2h", "6h", "1d", "3d"}, "budgetRemaining", "status": "page"|"ticket"|"ok", "burningSince", "next", "error"}]}.',
    ],
    load: () => import('./slo.js'),
  },
  {
    name: 'demo',
    summary: 'run a demo service with a planted regression, then walk from the paging SLO to the function that burns the CPU',
    options: [
      { flags: '-d, --duration <duration>', description: 'how long the demo service runs under load; the regression is planted 40% in', default: '60s' },
      { flags: '--keep', description: "keep the demo's store and SLO file, and print the commands to explore them" },
      { flags: '--store <dir>', description: "store directory for the demo's data (default: a temporary one)", complete: 'dir' },
      jsonOption,
    ],
    examples: ['sudo profctl demo', 'sudo profctl demo --duration 30s --keep', 'sudo profctl demo --json'],
    details: [
      'Needs root, as the agent does. Starts `profctl agent` with its OTLP receiver on a free port, a small Node HTTP service (demo/service.js, instrumented with the OpenTelemetry JS SDK and run with --perf-basic-prof) and a load generator that sends one request at a time (the service\'s spans carry no thread id, so samples are joined to requests by process and time). After 40% of --duration, computeLoyaltyDiscount starts burning CPU on every /checkout, and the SLO "99.9% of checkout requests under 100ms" pages. The demo then stops the processes and runs the walk: `profctl slo`, the `profctl trace` command it suggests, `profctl flame` and `profctl top` of the slowest trace, printing each command and its output. Every process it started is stopped on exit, Ctrl-C and SIGTERM included.',
      'With --json, stdout is one object: {store, kept, slo: {name, status, burnRates, next}, slowestTrace: {traceId, root, durationMs, samples, hottest}, hottestFunction, plantedFunction, found, requests, processes: {agent, service, load}, steps: [{command, exitCode, stdout, stderr}]}. Exit status 0 when the SLO pages and the planted function is the hottest of the slowest trace, 1 otherwise, 130 when interrupted.',
    ],
    load: () => import('./demo.js'),
  },
  {
    name: 'completion',
    summary: 'print the shell completion script',
    args: '<shell>',
    options: [],
    examples: ['profctl completion bash > /etc/bash_completion.d/profctl'],
    load: () => import('./completion.js'),
  },
];

export const globalOptions: OptionSpec[] = [
  { flags: '--no-color', description: 'no colour (also off when stdout is not a terminal, NO_COLOR is set or TERM=dumb; FORCE_COLOR forces it)' },
];

/** The long option name of a flags string: '-o, --output <file>' → 'output'. */
export function longName(flags: string): string {
  const m = /--(?:no-)?([a-z0-9-]+)/.exec(flags);
  if (!m) throw new Error(`option without a long name: ${flags}`);
  return m[1]!;
}

/** The long flag as typed: '--no-color', '--output'. */
export function longFlag(flags: string): string {
  const m = /--[a-z0-9-]+/.exec(flags);
  if (!m) throw new Error(`option without a long name: ${flags}`);
  return m[0];
}

/** Does the option take a value? */
export function takesValue(flags: string): boolean {
  return /[<[]/.test(flags);
}
