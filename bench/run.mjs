// `npm run bench`: runs every benchmark in bench/ one after another (they
// compete for the machine's two cores otherwise) and prints their markdown
// sections, ready to paste into bench/RESULTS.md. `npm run bench -- top`
// runs only the benchmarks whose file name contains "top".
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
// Modules other benchmarks load, not benchmarks themselves.
const skip = new Set(['run.mjs', 'otlp-load.mjs', 'agent-memory-probe.mjs']);
const filters = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && !skip.has(f) && !f.startsWith('gen-') && !f.startsWith('lib-'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
let failed = 0;
for (const b of benches) {
  process.stderr.write(`bench: ${b}\n`);
  const r = spawnSync(process.execPath, [join(here, b)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`bench: ${b} exited with ${r.status}\n`);
  }
}
process.exit(failed ? 1 : 0);
