// The interactive flame view's ink components at fixed terminal sizes
// (80x24 and 120x40), driven through ink-testing-library with real key
// presses. The screens are golden files written by running the code
// (vitest -u refreshes them), over the Go CPU fixture.
import { describe, expect, it, afterEach } from 'vitest';
import { Chalk } from 'chalk';
import { cleanup, render } from 'ink-testing-library';
import { readProfileFile } from '../../src/profile/read-file.js';
import { sampleTypeIndex } from '../../src/profile/model.js';
import { buildCallTree, buildDiffTree, type CallTree } from '../../src/query/call-tree.js';
import { FlameApp, FlameScreen } from '../../src/render/tui/views.js';
import { tuiTheme } from '../../src/render/tui/theme.js';
import { initialViewState } from '../../src/render/tui/view-state.js';
import { profileOf } from './flame-test-profiles.js';

const plain = new Chalk({ level: 0 });
const fixture = 'test/fixtures/pprof/go-cpu-labels.pb.gz';

async function goTree(): Promise<CallTree> {
  const profile = await readProfileFile(fixture);
  return buildCallTree({ profile, typeIndex: sampleTypeIndex(profile) });
}

const tick = () => new Promise((r) => setTimeout(r, 30));

/** Mounts the app at a terminal size (the test stdout's columns follow it). */
async function mount(tree: CallTree, columns: number, rows: number, chalk = plain) {
  const app = render(<FlameApp tree={tree} chalk={chalk} columns={columns} rows={rows} />);
  const size = { columns, rows };
  Object.defineProperty(app.stdout, 'columns', { get: () => size.columns });
  app.rerender(<FlameApp tree={tree} chalk={chalk} columns={columns} rows={rows} />);
  await tick();
  return {
    ...app,
    /** What run-interactive does on a terminal's resize event. */
    async resize(c: number, r: number) {
      size.columns = c;
      size.rows = r;
      app.rerender(<FlameApp tree={tree} chalk={chalk} columns={c} rows={r} />);
      await tick();
    },
    async keys(...inputs: string[]) {
      for (const k of inputs) {
        app.stdin.write(k);
        await tick();
      }
    },
    screen: () => app.lastFrame() ?? '',
  };
}

afterEach(() => cleanup());

const snap = (name: string) => `./__snapshots__/tui-views/${name}.txt`;

describe.each([
  [80, 24],
  [120, 40],
])('interactive flame view at %ix%i', (columns, rows) => {
  it('fills the terminal: header, graph, status with the selection', async () => {
    const app = await mount(await goTree(), columns, rows);
    const lines = app.screen().split('\n');
    expect(lines).toHaveLength(rows - 1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(columns);
    expect(lines[0]).toMatch(/^profctl flame · 1\.78s cpu/);
    expect(lines[1]).toMatch(/^>all: 1\.78s cpu=+\|$/);
    expect(lines.at(-1)).toMatch(/^self: 0ns \(0\.00%\) · total: 1\.78s \(100\.00%\)/);
    await expect(app.screen()).toMatchFileSnapshot(snap(`go-cpu.${columns}x${rows}.start`));
  });

  it('searches, zooms into the first match, and moves to its callee', async () => {
    const app = await mount(await goTree(), columns, rows);
    await app.keys('/', 's', 'h', 'a', '2', '5', '6');
    expect(app.screen().split('\n').at(-1)).toMatch(/^\/sha256_/);
    await app.keys('\r');
    const lines = app.screen().split('\n');
    expect(lines[0]).toMatch(/\/sha256\/ matched 68\.54% of cpu \(6 frames\) 1\/6/);
    expect(lines.at(-2)).toBe('crypto/sha256.Sum256');
    expect(lines.at(-1)).toMatch(/^module: g2 · self: 50\.0ms \(2\.81%\) · total: 1\.22s \(68\.54%\)/);
    // Matches pad with *, the selection with =.
    expect(app.screen()).toMatch(/>crypto\/sha256\.Sum256 69%=+\|/);
    expect(app.screen()).toMatch(/crypto\/sha256\.block 54%\*+\|/);
    await app.keys('\r', 'j');
    const zoomed = app.screen();
    expect(zoomed.split('\n')[0]).toMatch(/zoom: crypto\/sha256\.Sum256 \(68\.54%\)/);
    expect(zoomed.split('\n').at(-2)).toBe('crypto/sha256.(*digest).checkSum');
    // The zoomed frame spans the whole width.
    expect(zoomed).toMatch(new RegExp(`^crypto/sha256\\.Sum256 69%\\*{${columns - 'crypto/sha256.Sum256 69%'.length - 1}}\\|$`, 'm'));
    await expect(zoomed).toMatchFileSnapshot(snap(`go-cpu.${columns}x${rows}.search-sha256.zoom.down`));
  });

  it('shows the top functions table and Enter selects one in the graph', async () => {
    const app = await mount(await goTree(), columns, rows);
    await app.keys('\t');
    const table = app.screen();
    expect(table.split('\n')[1]).toMatch(/SELF\s+SELF%\s+TOTAL\s+TOTAL%\s+FUNCTION/);
    expect(table.split('\n')[2]).toMatch(/^> +970ms +54\.49% +970ms +54\.49% +crypto\/sha256\.block/);
    await expect(table).toMatchFileSnapshot(snap(`go-cpu.${columns}x${rows}.table`));
    await app.keys('j', '\r');
    expect(app.screen().split('\n').at(-2)).toBe('sort.partition');
  });

  it('shows the callers of the selected function with i, and the keys with ?', async () => {
    const app = await mount(await goTree(), columns, rows);
    await app.keys('/', 'b', 'l', 'o', 'c', 'k', '$', '\r', 'i');
    const callers = app.screen();
    expect(callers.split('\n')[0]).toMatch(/callers of crypto\/sha256\.block/);
    expect(callers.split('\n')[2]).toMatch(/^>crypto\/sha256\.block 100%=+\|$/);
    await expect(callers).toMatchFileSnapshot(snap(`go-cpu.${columns}x${rows}.callers-of-block`));
    await app.keys('?');
    expect(app.screen()).toMatch(/Enter +zoom in \(in the table: show that function in the graph\)/);
    await expect(app.screen()).toMatchFileSnapshot(snap(`go-cpu.${columns}x${rows}.help`));
    await app.keys('?', 'i');
    expect(app.screen().split('\n').at(-2)).toBe('crypto/sha256.block');
  });
});

describe('interactive flame view: resize, colour, diff, quit', () => {
  it('redraws at the new size when the terminal is resized', async () => {
    const tree = await goTree();
    const app = await mount(tree, 80, 24);
    await app.resize(60, 12);
    const lines = app.screen().split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[1]).toHaveLength(60);
    await expect(app.screen()).toMatchFileSnapshot(snap('go-cpu.80x24.resized-60x12'));
  });

  it('colours frames by kind and marks the selection in bold when colour is on', async () => {
    const tree = buildCallTree({ profile: profileOf({ 'main;k:sys_read': 60, 'main;j:handler': 40 }), typeIndex: 0 });
    const out = (state = initialViewState(tree, { columns: 40, rows: 8 })) => {
      const app = render(<FlameScreen state={state} theme={tuiTheme(new Chalk({ level: 3 }))} />);
      return app.lastFrame() ?? '';
    };
    const screen = out();
    expect(screen).toMatch(/\u001b\[1m/); // the selected root
    expect(screen).toMatch(/\u001b\[48;2;/); // frames filled with 24-bit colours
    expect(screen.replace(/\u001b\[[0-9;]*m/g, '')).toMatch(/k:sys_read 60%/);
  });

  it('labels change in share with a baseline, and d turns the diff colouring off', async () => {
    const diff = buildDiffTree({ profile: profileOf({ 'main;a': 60, 'main;b': 40 }), typeIndex: 0 }, { profile: profileOf({ 'main;a': 30, 'main;b': 70 }), typeIndex: 0 });
    const app = await mount(diff, 80, 10);
    expect(app.screen()).toMatch(/a 60% \+30\.0pp/);
    expect(app.screen().split('\n')[0]).toMatch(/diff colours \(d\)/);
    await app.keys('d');
    expect(app.screen()).not.toMatch(/\+30\.0pp/);
    expect(app.screen().split('\n')[0]).toMatch(/kind colours \(d\)/);
  });

  it('q unmounts the view', async () => {
    const app = await mount(await goTree(), 80, 24);
    await app.keys('q');
    expect(app.screen().trim()).toBe('');
  });
});
