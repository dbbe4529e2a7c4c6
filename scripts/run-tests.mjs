// The test command (`npm test`): builds, runs vitest, and ends with one
// plain summary line ("N passed, N failed, N skipped") so that any CI log
// reader can tell a run with no tests from a green one.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const report = join(tmpdir(), `profctl-vitest-${process.pid}.json`);
const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(build.status ?? 1);
}
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit' });
let summary = '';
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  summary = `${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : '');
  if (r.numTotalTests === 0) summary += '\nno tests ran';
  rmSync(report, { force: true });
} catch {
  summary = '0 passed, 1 failed\nthe test runner wrote no report';
}
console.log(summary);
process.exit(run.status ?? 1);
