// Table-driven: argv → the options object each command receives, without
// running any command. Catches flags that commander parses differently from
// what the specs promise (repeatable options, defaults, optional values).
import { describe, it, expect } from 'vitest';
import { buildProgramForTest } from './program-harness.js';

const cases: Array<{ argv: string[]; command: string; args?: string[]; expect: Record<string, unknown> }> = [
  { argv: ['top', '-i', 'a.pb.gz', '--input', 'b.pb.gz'], command: 'top', expect: { input: ['a.pb.gz', 'b.pb.gz'], sort: 'self', by: 'function', since: '1h' } },
  { argv: ['top', '--sort', 'total', '--limit', '5', '--json'], command: 'top', expect: { sort: 'total', limit: '5', json: true } },
  { argv: ['top', '--focus', 'sha', '--focus', 'sort', '--tag', 'trace_id=ab'], command: 'top', expect: { focus: ['sha', 'sort'], tag: ['trace_id=ab'] } },
  { argv: ['export', '-i', 'p.txt', '-f', 'folded', '--pid', '--kernel'], command: 'export', expect: { format: 'folded', pid: true, kernel: true } },
  { argv: ['export', '-i', 'p.txt', '--pid', '42'], command: 'export', expect: { format: 'pprof', pid: ['42'] } },
  { argv: ['diff', '--baseline', 'a', '--input', 'b', '--fail-on-regression', '2'], command: 'diff', expect: { baseline: ['a'], input: ['b'], failOnRegression: '2', format: 'table' } },
  { argv: ['flame', '--trace-id', 'ABC', '--width', '80', '--no-interactive'], command: 'flame', expect: { traceId: 'ABC', width: '80', interactive: false } },
  { argv: ['record', '-o', 'x.pb.gz', '--', 'node', 'app.js', '--port', '3'], command: 'record', args: ['node', 'app.js', '--port', '3'], expect: { output: 'x.pb.gz', hz: '99', engine: 'auto' } },
  { argv: ['agent', '--otlp'], command: 'agent', expect: { otlp: true, flush: '10s', maxSize: '1GiB', retention: '7d' } },
  { argv: ['agent', '--otlp', '127.0.0.1:5000'], command: 'agent', expect: { otlp: '127.0.0.1:5000' } },
  { argv: ['slo', '--watch'], command: 'slo', expect: { watch: true } },
  { argv: ['trace', '4bf92f3577b34da6a3ce929d0e0e4736', '--json'], command: 'trace', args: ['4bf92f3577b34da6a3ce929d0e0e4736'], expect: { json: true } },
];

describe('argv → options', () => {
  for (const c of cases) {
    it(c.argv.join(' '), async () => {
      const got = await buildProgramForTest(c.argv);
      expect(got.command).toBe(c.command);
      if (c.args) expect(got.args).toEqual(c.args);
      expect(got.options).toMatchObject(c.expect);
    });
  }

  it('rejects a value outside the choices', async () => {
    await expect(buildProgramForTest(['top', '--by', 'colour'])).rejects.toThrow(/Allowed choices/);
  });
});
