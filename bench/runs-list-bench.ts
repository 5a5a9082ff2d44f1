// `npm run bench:runs-list` (issue 17, "Many runs in the Runs list"): the Runs list over 10,000 runs, in Chromium,
// served by the real `ptw serve` over a PTW_HOME holding 10,000 generated run folders (test/support/generated-runs.ts:
// finished imported runs over 4 hosts, 4 agent configurations, 6 benchmarks, 4 base models, 6 statuses).
//
// Measured in the page (performance.now, from the action to the frame after the DOM shows its result):
//   - first render: opening the Runs section (the list already loaded) until the table's rows are painted;
//   - filter changes: a search, a status filter, grouping by agent, sorting by score, clearing;
//   - scrolling: the table body scrolled 200 px a frame for 3 s and then to the end and back, with a
//     PerformanceObserver on 'longtask' (any main-thread task over 50 ms) and the longest gap between frames;
//   - runs.list: the Refresh button's round trip (main's summaries of 10,000 folders, from its cache) and, in this
//     process, RunService.list() cold (every folder read) and warm.
// Targets: first render and each filter change < 200 ms; no long task while scrolling. Prints the numbers and writes
// bench/results/runs-list.json; exits 1 when a target is missed.
//
//   npm run bench:runs-list -- [--runs 10000] [--keep]
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { RunService } from '../src/main/runs/run-service';
import { launchChromium } from '../test/support/chromium';
import { writeGeneratedRuns } from '../test/support/generated-runs';
import { startServeProcess } from '../test/support/serve-process';
import { gotoRetrying } from './bench-page';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const RUNS = arg('runs', 10_000);
const keep = process.argv.includes('--keep');
const TARGET_MS = 200;
const LONG_TASK_MS = 50;

/**
 * Runs `act` in the page and returns the ms until `done` holds and the next frame has been painted. Passed as source
 * text (evaluated by DevTools, which the page's CSP allows; `new Function` in the page would not be).
 */
async function timed(page: Page, act: string, done: string): Promise<number> {
  return page.evaluate(`(async () => {
    const start = performance.now();
    ${act}
    while (!(${done})) await new Promise((resolve) => setTimeout(resolve, 0));
    // The frame that shows it: a rAF, then a task after it (the paint happens between the two).
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    return performance.now() - start;
  })()`);
}

/** Sets a controlled input's or select's value the way a user would (React listens to `input`/`change`). */
const setValue = (testId: string, value: string, event: 'input' | 'change') => `{
  const el = document.querySelector('[data-testid="${testId}"]');
  const proto = el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, ${JSON.stringify(value)});
  el.dispatchEvent(new Event('${event}', { bubbles: true }));
}`;
const click = (testId: string) => `document.querySelector('[data-testid="${testId}"]').click();`;
const countIs = (text: string) =>
  `document.querySelector('[data-testid="run-count"]')?.textContent === ${JSON.stringify(text)}`;

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'ptw-bench-runs-'));
  const home = path.join(work, 'home');
  const t0 = performance.now();
  const runs = await writeGeneratedRuns(path.join(home, 'runs'), RUNS);
  console.log(`${RUNS} run folders written in ${Math.round(performance.now() - t0)} ms (${work})`);

  // Only the local records are read: no host is ever asked for.
  const service = new RunService({
    home,
    session: () => Promise.reject(new Error('the bench contacts no host')),
    profile: () => Promise.reject(new Error('no profile')),
    profiles: async () => [],
    secrets: { get: async () => undefined },
    appVersion: 'bench',
    by: 'bench',
  });
  let t = performance.now();
  const listed = await service.list();
  const listColdMs = performance.now() - t;
  t = performance.now();
  await service.list();
  const listWarmMs = performance.now() - t;
  if (listed.length !== RUNS) throw new Error(`runs.list gave ${listed.length} runs, not ${RUNS}`);

  const serve = await startServeProcess({ home });
  const chrome = await launchChromium();
  try {
    const page = await chrome.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    // Retried: with 10,000 folders being read at start-up on a busy machine, the first connection can be reset.
    await gotoRetrying(page, serve.url);
    await page.getByTestId('nav-hosts').waitFor({ timeout: 120_000 });
    await page.waitForFunction(
      () => document.querySelector('[data-testid="connection-footer"]')?.getAttribute('data-connection') === 'online',
      undefined,
      { timeout: 120_000 },
    );
    // The list loads at start-up; open Runs once so it has arrived, then leave and measure coming back.
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('run-table').waitFor({ timeout: 120_000 });
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="run-count"]')?.textContent === `${n} runs`,
      RUNS,
      {
        timeout: 120_000,
      },
    );
    // Start-up work settles first (the background syncer's first `runs.changed` with the whole list): measured is the
    // list's own work, not a one-off that would land in whichever measurement it overlaps.
    await page.evaluate(`new Promise((resolve) => {
      let last = performance.now();
      new PerformanceObserver((list) => { for (const e of list.getEntries()) last = Math.max(last, e.startTime + e.duration); })
        .observe({ type: 'longtask' });
      const check = () => (performance.now() - last > 3000 ? resolve(null) : setTimeout(check, 250));
      check();
    })`);
    await page.getByTestId('nav-hosts').click();
    await page.getByTestId('heading-hosts').waitFor();

    const firstRenderMs = await timed(
      page,
      click('nav-runs'),
      `document.querySelectorAll('[data-testid^="run-table-row-"]').length > 0`,
    );

    // Done once the button has been busy (the request went out) and is not any more (the list arrived and rendered).
    const refreshMs = await timed(
      page,
      `window.__busySeen = false; ${click('refresh-runs')}`,
      `(window.__busySeen ||= document.querySelector('[data-testid="refresh-runs"]').disabled) &&
        !document.querySelector('[data-testid="refresh-runs"]').disabled`,
    );

    const humaneval = runs.filter((r) => r.benchmark === 'humaneval').length;
    const failed = runs.filter((r) => r.benchmark === 'humaneval' && r.status === 'failed').length;
    const filters: Record<string, number> = {};
    filters.search = await timed(
      page,
      setValue('run-search', 'humaneval', 'input'),
      countIs(`${humaneval} of ${RUNS} runs`),
    );
    filters.status = await timed(
      page,
      setValue('run-filter-status', 'failed', 'change'),
      countIs(`${failed} of ${RUNS} runs`),
    );
    filters.clear = await timed(page, click('run-filters-clear'), countIs(`${RUNS} runs`));
    filters.groupByAgent = await timed(
      page,
      setValue('run-group', 'agent', 'change'),
      `document.querySelector('[data-testid^="run-group-"]') !== null`,
    );
    filters.ungroup = await timed(
      page,
      setValue('run-group', 'none', 'change'),
      `document.querySelector('[data-testid^="run-group-"]') === null`,
    );
    filters.sortByScore = await timed(
      page,
      click('run-sort-score'),
      `document.querySelector('[data-testid="run-sort-score"]').textContent.includes('▾')`,
    );

    const scroll = await page.evaluate(async () => {
      const body = document.querySelector('[data-testid="run-table-body"]') as HTMLElement;
      const longTasks: number[] = [];
      const observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) longTasks.push(entry.duration);
      });
      observer.observe({ type: 'longtask' });
      let worstFrame = 0;
      let frames = 0;
      let last = performance.now();
      const frame = () =>
        new Promise<void>((resolve) =>
          requestAnimationFrame((now) => {
            worstFrame = Math.max(worstFrame, now - last);
            last = now;
            frames++;
            resolve();
          }),
        );
      await frame();
      last = performance.now();
      const end = performance.now() + 3_000;
      while (performance.now() < end) {
        body.scrollTop += 200;
        await frame();
      }
      body.scrollTop = body.scrollHeight;
      await frame();
      await frame();
      body.scrollTop = 0;
      await frame();
      await frame();
      // Long tasks are reported after they end: give the observer a moment.
      await new Promise((resolve) => setTimeout(resolve, 200));
      observer.disconnect();
      const rows = document.querySelectorAll('[data-testid^="run-table-row-"]').length;
      return { longTasks, worstFrameMs: worstFrame, frames, rowsInDom: rows };
    });

    const result = {
      runs: RUNS,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', load1: os.loadavg()[0] },
      runsListColdMs: Math.round(listColdMs),
      runsListWarmMs: Math.round(listWarmMs),
      refreshRoundTripMs: Math.round(refreshMs),
      firstRenderMs: Math.round(firstRenderMs),
      filterChangeMs: Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, Math.round(v)])),
      scroll: {
        frames: scroll.frames,
        worstFrameMs: Math.round(scroll.worstFrameMs),
        longTasks: scroll.longTasks.length,
        longestTaskMs: Math.round(Math.max(0, ...scroll.longTasks)),
        rowsInDom: scroll.rowsInDom,
      },
      targets: {
        firstRenderMs: TARGET_MS,
        filterChangeMs: TARGET_MS,
        longTaskWhileScrollingMs: LONG_TASK_MS,
      },
      pageErrors: problems,
    };
    const worstFilter = Math.max(...Object.values(result.filterChangeMs));
    const ok =
      result.firstRenderMs < TARGET_MS &&
      worstFilter < TARGET_MS &&
      result.scroll.longTasks === 0 &&
      problems.length === 0;
    console.table({
      'runs.list cold (in-process)': `${result.runsListColdMs} ms`,
      'runs.list warm (in-process)': `${result.runsListWarmMs} ms`,
      'Refresh round trip (serve)': `${result.refreshRoundTripMs} ms`,
      'first render': `${result.firstRenderMs} ms (< ${TARGET_MS})`,
      ...Object.fromEntries(
        Object.entries(result.filterChangeMs).map(([k, v]) => [`filter: ${k}`, `${v} ms (< ${TARGET_MS})`]),
      ),
      'scroll: long tasks': `${result.scroll.longTasks} (longest ${result.scroll.longestTaskMs} ms; none > ${LONG_TASK_MS})`,
      'scroll: worst frame': `${result.scroll.worstFrameMs} ms over ${result.scroll.frames} frames`,
      'rows in the DOM': `${result.scroll.rowsInDom} of ${RUNS}`,
    });
    const out = path.resolve('bench', 'results', 'runs-list.json');
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, JSON.stringify({ ...result, ok }, null, 2) + '\n');
    console.log(`${ok ? 'All targets met' : 'A target was missed'}; written ${out}`);
    process.exitCode = ok ? 0 : 1;
  } finally {
    await chrome.stop();
    await serve.stop();
    if (!keep) await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
