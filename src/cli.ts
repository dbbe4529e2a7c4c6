// The profctl program: builds the commander program from the option specs,
// loads the chosen command lazily, and is the one place that turns errors
// into a message on stderr and an exit status. Nothing else calls
// process.exit.
import { Command, Option, CommanderError } from 'commander';
import { commands, globalOptions, longName, type OptionSpec } from './commands/spec.js';
import { ExitCode, UserError, CheckFailed } from './errors.js';
import { configureColor } from './render/color.js';
import { version } from './version.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return previous ? [...previous, value] : [value];
}

function toOption(spec: OptionSpec): Option {
  const opt = new Option(spec.flags, spec.description);
  if (spec.choices) opt.choices(spec.choices);
  if (spec.repeatable) opt.argParser(collect);
  if (spec.default !== undefined && !spec.repeatable) opt.default(spec.default);
  return opt;
}

export function buildProgram(onRun: (name: string, args: string[], options: Record<string, unknown>) => Promise<void>): Command {
  const program = new Command('profctl')
    .description('Always-on eBPF CPU profiler: from a burning SLO to a slow trace to the function that ate the CPU.')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const g of globalOptions) program.addOption(toOption(g));
  for (const spec of commands) {
    const cmd = program.command(spec.name).description(spec.summary).exitOverride();
    if (spec.args) cmd.arguments(spec.args);
    for (const o of spec.options) cmd.addOption(toOption(o));
    if (spec.examples?.length) cmd.addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  $ ${e}`).join('\n')}\n`);
    cmd.action(async (...actionArgs: unknown[]) => {
      const command = actionArgs[actionArgs.length - 1] as Command;
      const options = command.opts();
      const positional = command.args;
      await onRun(spec.name, positional, options);
    });
  }
  return program;
}

let exitStatus: number = ExitCode.ok;

async function runCommand(name: string, args: string[], options: Record<string, unknown>): Promise<void> {
  const spec = commands.find((c) => c.name === name)!;
  const mod = await spec.load();
  const status = await mod.run(args, options);
  exitStatus = typeof status === 'number' ? status : ExitCode.ok;
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.ok;
    return ExitCode.usage;
  }
  if (err instanceof CheckFailed) {
    if (err.message) process.stderr.write(`profctl: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof UserError) {
    process.stderr.write(`profctl: ${err.message}\n`);
    if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  if ((e as NodeJS.ErrnoException)?.code === 'EPIPE') return ExitCode.ok;
  process.stderr.write(`profctl: internal error: ${e?.message ?? String(err)}\n`);
  if (process.env.PROFCTL_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
  else process.stderr.write('  this is a bug in profctl; rerun with PROFCTL_DEBUG=1 for details and report it with that output\n');
  return ExitCode.internal;
}

async function main(argv: string[]): Promise<number> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(ExitCode.ok);
  });
  // Messages are best-effort: a reader of stderr that went away (a closed pipe,
  // a log collector restarted) must not end the command, least of all the agent.
  process.stderr.on('error', () => {});
  const program = buildProgram(runCommand);
  program.hook('preAction', (thisCommand) => {
    configureColor(thisCommand.opts().color === false);
  });
  try {
    await program.parseAsync(argv);
    return exitStatus;
  } catch (err) {
    return report(err);
  }
}

// Only run when executed, not when imported by tests or gen-docs.
if (process.env.PROFCTL_NO_MAIN === undefined) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.exitCode = report(err);
    },
  );
}

export { longName };
