// Parses argv with the real program definition and captures what the command
// would receive, without loading or running it.
process.env.PROFCTL_NO_MAIN = '1';
const { buildProgram } = await import('../../src/cli.js');

export async function buildProgramForTest(argv: string[]): Promise<{ command: string; args: string[]; options: Record<string, unknown> }> {
  let got: { command: string; args: string[]; options: Record<string, unknown> } | undefined;
  const program = buildProgram(async (command, args, options) => {
    got = { command, args, options };
  });
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  for (const c of program.commands) c.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  await program.parseAsync(['node', 'profctl', ...argv]);
  if (!got) throw new Error('no command ran');
  return got;
}
