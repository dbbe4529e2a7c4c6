// The whole interactive `profctl flame` in a real pseudo-terminal: a
// detached tmux session of fixed size runs bin/profctl (built dist/), keys
// are sent as a person types them, and the pane's text is read back. In CI
// it must run; elsewhere it skips, saying why, when tmux is missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux && !process.env.CI) console.log('skipping the tmux test of the interactive flame view: tmux is not installed (apt-get install tmux)');
const describeTmux = hasTmux || process.env.CI ? describe : describe.skip;

const session = `profctl-tui-${process.pid}`;
// A private server socket, so the test neither sees nor disturbs anyone's tmux.
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', session, ...args], { encoding: 'utf8' });
const pane = (): string => tmux('capture-pane', '-p', '-t', session);

async function waitFor(what: string, test: (screen: string) => boolean, ms = 15_000): Promise<string> {
  const until = Date.now() + ms;
  let screen = '';
  while (Date.now() < until) {
    screen = pane();
    if (test(screen)) return screen;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; the pane shows:\n${screen}`);
}

describeTmux('profctl flame in tmux', () => {
  afterAll(() => {
    spawnSync('tmux', ['-L', session, 'kill-server']);
  });

  it('opens the interactive view, searches, zooms, shows the table and quits', async () => {
    expect(existsSync(resolve(root, 'dist/cli.js')), 'build first: npx tsc -p .').toBe(true);
    const command = `${resolve(root, 'bin/profctl')} flame --input ${resolve(root, 'test/fixtures/pprof/go-cpu-labels.pb.gz')}; echo profctl-exit=$?; sleep 60`;
    tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', '-c', root, command);

    // The status line comes from ink, the graph rows are painted right after it.
    const first = await waitFor('the first frame', (s) => s.includes('? keys · q quit') && /\nall: /.test(s));
    const lines = first.split('\n');
    expect(lines[0]).toMatch(/^profctl flame · 1\.78s cpu/);
    expect(lines[1]).toMatch(/^all: 1\.78s cpu/);
    expect(first).toMatch(/main\.hashWork 70%/);

    tmux('send-keys', '-t', session, '/', 's', 'h', 'a', '2', '5', '6', 'Enter');
    const found = await waitFor('the search result', (s) => s.includes('/sha256/ matched'));
    expect(found.split('\n')[0]).toMatch(/\/sha256\/ matched 68\.54% of cpu \(6 frames\) 1\/6/);
    // The status line names the first match, which the search selected.
    expect(found).toMatch(/^crypto\/sha256\.Sum256\s*\nmodule: g2 · self: 50\.0ms \(2\.81%\) · total: 1\.22s \(68\.54%\)/m);

    tmux('send-keys', '-t', session, 'Enter');
    // Zoomed, hashWork is drawn above as a full-width ancestor: nothing beside it on its row.
    const zoomed = await waitFor('the zoom', (s) => s.includes('zoom: crypto/sha256.Sum256') && /^main\.hashWork 70%$/m.test(s));
    expect(zoomed).not.toMatch(/sort\./); // the sibling subtree is gone
    expect(zoomed).toMatch(/^crypto\/sha256\.\(\*digest\)\.checkSum 62%/m);

    tmux('send-keys', '-t', session, 'Tab');
    const table = await waitFor('the table', (s) => /SELF\s+SELF%\s+TOTAL\s+TOTAL%\s+FUNCTION/.test(s));
    expect(table).toMatch(/^> +970ms +54\.49% +970ms +54\.49% +crypto\/sha256\.block/m);

    tmux('send-keys', '-t', session, 'q');
    const after = await waitFor('the exit', (s) => s.includes('profctl-exit='));
    expect(after).toMatch(/profctl-exit=0/);
    // The alternate screen is left: none of the view stays on the shell's screen.
    expect(after).not.toMatch(/\? keys · q quit/);
  });
});
