// The Runs list at scale (issue 17) end to end: `ptw serve` in Chromium over a PTW_HOME of 48 generated finished runs
// (4 hosts, 4 agent configurations, 6 benchmarks, 4 base models, some flagged). The cards show by default for so few
// runs; the table view is switched on and stays on across sections; search, a host filter, the flagged filter, sorting
// by score both ways, grouping by agent, and ticking two runs to compare them all work on the real list; only the
// table's rows scroll while the page header stays in place.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailability, launchChromium, type LaunchedChromium } from '../support/chromium';
import { collectConsoleProblems, openRunsSection, stopApp } from '../support/e2e-app';
import { writeGeneratedRuns, type GeneratedRun } from '../support/generated-runs';
import { startServeProcess, type ServeProcess } from '../support/serve-process';

const available = chromiumAvailability();
const shots = path.resolve('test-results', 'screenshots');
const COUNT = 48;

/** The ids of the run rows in the DOM, top to bottom. */
async function rowIds(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('[data-testid^="run-table-row-"]')]
      .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
      .map((row) => row.dataset.testid!.slice('run-table-row-'.length)),
  );
}

describe.skipIf(!available.ok)('the Runs list with many runs', () => {
  let work: string;
  let serve: ServeProcess | undefined;
  let chrome: LaunchedChromium | undefined;
  let page: Page;
  let runs: GeneratedRun[];
  const problems: string[] = [];

  beforeAll(async () => {
    await mkdir(shots, { recursive: true });
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-e2e-runs-list-'));
    const home = path.join(work, 'ptw-home');
    runs = await writeGeneratedRuns(path.join(home, 'runs'), COUNT);
    await mkdir(path.join(work, 'home'), { recursive: true });
    serve = await startServeProcess({ home, env: { HOME: path.join(work, 'home') } });
    chrome = await launchChromium();
    page = await chrome.browser.newPage({ viewport: { width: 1400, height: 900 } });
    collectConsoleProblems(page, problems, { warnings: false });
  });

  afterAll(async () => {
    await stopApp({ chrome, serve });
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('switches to the table, which keeps the header in place while its rows scroll, and remembers it', async () => {
    await openRunsSection(page, serve!.url);
    await expect.poll(() => page.getByTestId('run-count').textContent()).toBe(`${COUNT} runs`);
    expect(await page.getByTestId('runs-layout-cards').getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('[data-testid^="run-row-"]').count()).toBe(COUNT);

    await page.getByTestId('runs-layout-table').click();
    await page.getByTestId('run-table').waitFor();
    // Virtual: fewer rows in the DOM than runs, newest first.
    const shown = await rowIds(page);
    expect(shown.length).toBeGreaterThan(5);
    expect(shown.length).toBeLessThan(COUNT);
    expect(shown[0]).toBe(runs.at(-1)!.id);

    const body = page.getByTestId('run-table-body');
    await body.hover();
    await page.mouse.wheel(0, 1200);
    await expect.poll(() => body.evaluate((el) => el.scrollTop)).toBeGreaterThan(0);
    expect((await page.getByTestId('heading-runs').boundingBox())!.y).toBeGreaterThanOrEqual(0);
    expect((await page.getByTestId('run-sort-label').boundingBox())!.y).toBeGreaterThan(0);
    expect(await rowIds(page)).not.toContain(runs.at(-1)!.id);
    await page.screenshot({ path: path.join(shots, 'runs-table.png') });

    await page.getByTestId('nav-hosts').click();
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('run-table').waitFor();
    expect(await page.getByTestId('runs-layout-table').getAttribute('aria-pressed')).toBe('true');
  });

  it('searches, filters by host and by flag, and clears', async () => {
    await page.getByTestId('run-search').fill('HumanEval');
    const humaneval = runs.filter((r) => r.benchmark === 'humaneval');
    await expect.poll(() => page.getByTestId('run-count').textContent()).toBe(`${humaneval.length} of ${COUNT} runs`);
    expect(new Set(await rowIds(page))).toEqual(new Set(humaneval.map((r) => r.id)));

    await page.getByTestId('run-filter-host').selectOption('gpu-b');
    const both = humaneval.filter((r) => r.host === 'gpu-b');
    expect(both.length).toBeGreaterThan(0);
    await expect.poll(() => rowIds(page)).toEqual(expect.arrayContaining(both.map((r) => r.id)));
    expect(await page.getByTestId('run-count').textContent()).toBe(`${both.length} of ${COUNT} runs`);

    await page.getByTestId('run-filters-clear').click();
    await expect.poll(() => page.getByTestId('run-count').textContent()).toBe(`${COUNT} runs`);
    expect(await page.getByTestId('run-search').inputValue()).toBe('');

    await page.getByTestId('run-filter-flagged').selectOption('flagged');
    const flagged = runs.filter((r) => r.flagged);
    await expect
      .poll(() => rowIds(page))
      .toEqual([...flagged].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map((r) => r.id));
    await page.getByTestId('run-filters-clear').click();
    await expect.poll(() => page.getByTestId('run-count').textContent()).toBe(`${COUNT} runs`);
  });

  it('sorts by score both ways and groups by agent', async () => {
    const scored = runs.filter((r) => r.score !== null);
    const best = scored.reduce((a, b) => (b.score! > a.score! ? b : a));
    const worst = scored.reduce((a, b) => (b.score! < a.score! ? b : a));
    await page.getByTestId('run-sort-score').click();
    await expect.poll(async () => (await rowIds(page))[0]).toBe(best.id);
    expect(await page.getByTestId('run-sort-score').textContent()).toContain('▾');
    await page.getByTestId('run-sort-score').click();
    await expect.poll(async () => (await rowIds(page))[0]).toBe(worst.id);

    await page.getByTestId('run-group').selectOption('agent');
    const first = page.getByTestId('run-group-claude-code · claude-opus-4-6');
    await first.waitFor();
    const opus = runs.filter((r) => r.model === 'claude-opus-4-6');
    expect(await first.textContent()).toBe(`claude-code · claude-opus-4-6 (${opus.length})`);
    // Inside its group, still sorted by score, worst first.
    const opusWorst = opus.filter((r) => r.score !== null).reduce((a, b) => (b.score! < a.score! ? b : a));
    expect((await rowIds(page))[0]).toBe(opusWorst.id);
    await page.getByTestId('run-group').selectOption('none');
    await page.getByTestId('run-sort-created').click();
    await expect.poll(async () => (await rowIds(page))[0]).toBe(runs.at(-1)!.id);
  });

  it('ticks two runs and compares them; nothing live, so nothing to stop', async () => {
    const [a, b] = await rowIds(page);
    await page.getByTestId(`run-pick-${a}`).check();
    await page.getByTestId(`run-pick-${b}`).check();
    expect(await page.getByTestId('run-selection-count').textContent()).toBe('2 ticked');
    expect(await page.getByTestId('run-selection-stop').isDisabled()).toBe(true);
    await page.getByTestId('run-selection-compare').click();
    await page.getByTestId('run-compare-table').waitFor();
    const compared = await page.getByTestId('run-compare').textContent();
    expect(compared).toContain(runs.find((r) => r.id === a)!.label);
    expect(compared).toContain(runs.find((r) => r.id === b)!.label);
    await page.screenshot({ path: path.join(shots, 'runs-table-compare.png') });
    // The header's Compare… takes the two ticked runs too.
    await page.getByTestId('run-compare-close').click();
    await expect.poll(() => page.getByTestId('run-compare').count()).toBe(0);
    await page.getByTestId('compare-runs-button').click();
    await page.getByTestId('run-compare-table').waitFor();
    await page.getByTestId('compare-runs-button').click();
    await expect.poll(() => page.getByTestId('run-compare').count()).toBe(0);

    await page.getByTestId(`run-pick-${b}`).uncheck();
    await page.getByTestId(`run-pick-${a}`).uncheck();
    await expect.poll(() => page.getByTestId('run-selection').count()).toBe(0);
    expect(problems).toEqual([]);
  });
});
