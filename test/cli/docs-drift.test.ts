// The completions and the man page are generated from the option specs; this
// fails when someone changes the specs without `npm run gen:docs`.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { bashCompletion, zshCompletion, fishCompletion } from '../../src/docs/completions.js';
import { manPage } from '../../src/docs/man-page.js';
import { commands, longFlag } from '../../src/commands/spec.js';
import { version } from '../../src/version.js';

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
const hint = 'run `npm run build && npm run gen:docs` and commit the result';

describe('generated docs match the option specs', () => {
  it('completions/ are up to date', () => {
    expect(read('completions/profctl.bash'), hint).toBe(bashCompletion());
    expect(read('completions/_profctl'), hint).toBe(zshCompletion());
    expect(read('completions/profctl.fish'), hint).toBe(fishCompletion());
  });

  it('man/profctl.1 is up to date', () => {
    expect(read('man/profctl.1'), hint).toBe(manPage(version));
  });

  it('every option of every command appears in each completion and the man page', () => {
    const bash = bashCompletion();
    const fish = fishCompletion();
    const man = manPage(version);
    for (const c of commands) {
      for (const o of c.options) {
        const flag = longFlag(o.flags);
        expect(bash, `${c.name} ${flag} in bash`).toContain(flag);
        expect(fish, `${c.name} ${flag} in fish`).toContain(`-l ${flag.slice(2)}`);
        expect(man, `${c.name} ${flag} in man`).toContain(flag.replace(/-/g, '\\-'));
      }
    }
  });

  it('the bash script is valid shell', () => {
    const r = spawnSync('bash', ['-n', '-c', bashCompletion()]);
    expect(r.status, r.stderr.toString()).toBe(0);
  });

  it('`profctl completion SHELL` prints the checked-in script', () => {
    const bin = new URL('../../bin/profctl', import.meta.url).pathname;
    expect(execFileSync(bin, ['completion', 'bash'], { encoding: 'utf8' })).toBe(read('completions/profctl.bash'));
    expect(execFileSync(bin, ['completion', 'fish'], { encoding: 'utf8' })).toBe(read('completions/profctl.fish'));
    const r = spawnSync(bin, ['completion', 'tcsh'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown shell 'tcsh'/);
  });
});
