// Errors profctl shows to people. Three kinds, as the CLI reports them:
// a UserError the person can fix (with a "try this" hint and an exit code),
// a BadInputError for a file or stream that is not what it claims to be,
// and everything else, which is a bug in profctl. Only src/cli.ts turns
// these into output and an exit status; no other module calls process.exit.

/** Exit statuses, documented in the man page (generated from this table). */
export const ExitCode = {
  ok: 0,
  /** The thing checked is bad: a regression was found, an SLO pages, no agent runs. */
  checkFailed: 1,
  /** Usage error or unreadable input. */
  usage: 2,
  /** Missing privilege (root, CAP_BPF, CAP_PERFMON). */
  permission: 3,
  /** The environment lacks something: no helper binary, no perf, old kernel. */
  environment: 4,
  /** A remote source (Prometheus, Jaeger, Tempo) failed or timed out. */
  remote: 5,
  /** Interrupted by a signal. */
  interrupted: 130,
  /** A bug in profctl. */
  internal: 70,
} as const;

export const exitCodeDocs: Array<[number, string]> = [
  [ExitCode.ok, 'success'],
  [ExitCode.checkFailed, 'the thing checked is bad: diff found a regression, slo has an SLO paging, status finds no agent running or one that cannot write its store'],
  [ExitCode.usage, 'usage error, or an input file that cannot be read or parsed'],
  [ExitCode.permission, 'missing privilege: needs root or CAP_BPF+CAP_PERFMON'],
  [ExitCode.environment, 'the machine lacks something profctl needs (sampling helper, perf, kernel support)'],
  [ExitCode.remote, 'a remote source (Prometheus, Jaeger, Tempo) failed or timed out'],
  [ExitCode.internal, 'a bug in profctl; please report it'],
  [ExitCode.interrupted, 'interrupted (Ctrl-C)'],
];

/** An error the user can act on: what went wrong, and what to try. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode: number = ExitCode.usage,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Input that is not what it claims to be (truncated, corrupt, wrong format). */
export class BadInputError extends UserError {
  constructor(
    readonly source: string,
    problem: string,
    hint?: string,
  ) {
    super(`${source}: ${problem}`, hint, ExitCode.usage);
    this.name = 'BadInputError';
  }
}

/** The thing checked is bad (regression, paging SLO): output already printed. */
export class CheckFailed extends Error {
  readonly exitCode = ExitCode.checkFailed;
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}
