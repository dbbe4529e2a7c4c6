// The SVG and HTML flame graphs in a real headless browser (Debian's
// chromium driven by playwright-core; no browser is downloaded): a click on
// a frame zooms so that the frame spans the full width, and a regex search
// highlights the matching frames and shows the matched share, which must
// equal the share the call tree computes. Files are written by the built
// bin/profctl. In CI it must run; elsewhere it skips, saying why, when
// chromium is missing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { readProfileFile } from '../../src/profile/read-file.js';
import { sampleTypeIndex } from '../../src/profile/model.js';
import { buildCallTree, searchCallTree } from '../../src/query/call-tree.js';
import { formatShare, matchColor } from '../../src/render/flame-style.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const chromiumPath = '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
if (!hasChromium && !process.env.CI) console.log(`skipping the browser tests of the SVG/HTML flame graphs: ${chromiumPath} is missing (apt-get install chromium)`);
const describeBrowser = hasChromium || process.env.CI ? describe : describe.skip;

const fixture = resolve(root, 'test/fixtures/pprof/go-cpu-labels.pb.gz');
const zoomTo = 'main.sortWork';
const pattern = 'sha256';
const matchRgb = `rgb(${matchColor.join(', ')})`;

describeBrowser('flame graph exports in headless chromium', () => {
  let dir: string;
  let context: BrowserContext;
  let expectedShare: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'profctl-browser-'));
    const profctl = resolve(root, 'bin/profctl');
    for (const format of ['html', 'svg']) execFileSync(profctl, ['flame', '--input', fixture, '--format', format, '-o', join(dir, `flame.${format}`)]);
    const profile = await readProfileFile(fixture);
    const tree = buildCallTree({ profile, typeIndex: sampleTypeIndex(profile) });
    expectedShare = formatShare(searchCallTree(tree, new RegExp(pattern)).share);
    context = await chromium.launchPersistentContext(join(dir, 'user-data'), {
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
  });

  afterAll(async () => {
    await context?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(file: string): Promise<Page> {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(join(dir, file)).href);
    expect(errors).toEqual([]);
    return page;
  }

  it('HTML: a clicked frame zooms to the full width', async () => {
    const page = await open('flame.html');
    const graphWidth = await page.locator('#graph').evaluate((el) => el.clientWidth);
    const frame = page.locator('#graph .f', { hasText: zoomTo }).first();
    const before = await frame.boundingBox();
    expect(before!.width).toBeLessThan(graphWidth * 0.5);
    await frame.click();
    await expect.poll(() => page.locator('#graph').getAttribute('data-zoom')).not.toBe('0');
    const after = page.locator('#graph .f', { hasText: zoomTo }).first();
    const [box, graphBox] = [await after.boundingBox(), await page.locator('#graph').boundingBox()];
    expect(box!.x).toBeCloseTo(graphBox!.x, 0);
    expect(box!.width).toBeCloseTo(graphWidth, 0);
    // Frames outside the zoomed subtree (the sibling) are gone; the reset button is enabled.
    expect(await page.locator('#graph .f', { hasText: 'main.hashWork' }).count()).toBe(0);
    expect(await page.locator('#reset').isDisabled()).toBe(false);
    await page.locator('#reset').click();
    expect(await page.locator('#graph').getAttribute('data-zoom')).toBe('0');
    await page.close();
  });

  it('HTML: a typed regex highlights the matching frames and shows the matched share', async () => {
    const page = await open('flame.html');
    await page.locator('#search').fill(pattern);
    await expect.poll(() => page.locator('#matched').textContent()).toMatch(/^Matched: /);
    expect(await page.locator('#matched').textContent()).toMatch(new RegExp(`^Matched: ${expectedShare.replace('.', '\\.')} \\(\\d+ frames\\)$`));
    const matched = page.locator('#graph .f.m');
    expect(await matched.count()).toBeGreaterThan(0);
    for (const text of await matched.allTextContents()) expect(text).toMatch(new RegExp(pattern, 'i'));
    expect(await matched.first().evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(matchRgb);
    const unmatched = page.locator('#graph .f:not(.m)', { hasText: 'main.sortWork' }).first();
    expect(await unmatched.evaluate((el) => getComputedStyle(el).backgroundColor)).not.toBe(matchRgb);
    await page.close();
  });

  it('SVG: a clicked frame zooms to the full width', async () => {
    const page = await open('flame.svg');
    const inner = Number(await page.locator('svg').getAttribute('data-width'));
    const pad = Number(await page.locator('svg').getAttribute('data-pad'));
    const frame = page.locator(`g.f[data-n="${zoomTo}"]`).first();
    expect(Number(await frame.locator('rect').getAttribute('width'))).toBeLessThan(inner * 0.5);
    await frame.locator('rect').click();
    await expect.poll(() => frame.locator('rect').getAttribute('x')).toBe(pad.toFixed(2));
    expect(Number(await frame.locator('rect').getAttribute('width'))).toBeCloseTo(inner - 0.5, 1);
    const box = await frame.locator('rect').boundingBox();
    const svgBox = await page.locator('svg').boundingBox();
    expect(box!.width).toBeGreaterThan(svgBox!.width - 2 * pad - 2);
    expect(await page.locator('g.f[data-n="main.hashWork"]').first().getAttribute('class')).toMatch(/\bhide\b/);
    expect(await page.locator('#reset').isVisible()).toBe(true);
    await page.close();
  });

  it('SVG: a regex typed into the search prompt highlights the matching frames and shows the matched share', async () => {
    const page = await open('flame.svg');
    page.once('dialog', (d) => void d.accept(pattern));
    await page.locator('#search').click();
    await expect.poll(() => page.locator('#matched').textContent()).toMatch(/^Matched: /);
    expect(await page.locator('#matched').textContent()).toMatch(new RegExp(`^Matched: ${expectedShare.replace('.', '\\.')} \\(\\d+ frames\\)$`));
    const fills = await page.locator('g.f').evaluateAll((gs) => gs.map((g) => [g.getAttribute('data-n'), g.querySelector('rect')!.getAttribute('fill')]));
    const hits = fills.filter(([, fill]) => fill === `rgb(${matchColor.join(',')})`);
    expect(hits.length).toBeGreaterThan(0);
    for (const [name] of hits) expect(name).toMatch(new RegExp(pattern));
    for (const [name, fill] of fills) if (name !== null && !new RegExp(pattern).test(name) && !name.startsWith('all')) expect(fill).not.toBe(`rgb(${matchColor.join(',')})`);
    await page.close();
  });
});
