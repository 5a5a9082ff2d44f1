// The Datasets tab in Chromium over `ptw serve`, with a `local` host whose run folder holds a dataset the agent
// wrote with HTML/script payloads in its rows. The rows are read on the "host" (this machine, through the same
// helper and SFTP-style reads), shown in the virtualized table, the row detail (as a chat) and the overlap view,
// and stay inert: no script runs (`window.__pwned` stays unset), no <img> or <script> from the data exists.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunMirror } from '../../src/main/runs/run-mirror';
import { chromiumAvailability, launchChromium, type LaunchedChromium } from '../support/chromium';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { openRun, stopApp } from '../support/e2e-app';

const available = chromiumAvailability();
if (!available.ok) console.warn(`datasets e2e skipped: ${available.reason}`);
const shots = path.resolve('test-results', 'screenshots');
const RUN_ID = 'r-20261123-150000-xss1';

const payloads = [
  '<script>window.__pwned = "script"</script>',
  '<img src=x onerror="window.__pwned = \'img\'">',
  '<svg onload="window.__pwned = \'svg\'"></svg>',
  '"><iframe src="javascript:window.__pwned=1"></iframe>',
];

describe.skipIf(!available.ok && process.env.CI !== 'true')('Datasets tab in Chromium over ptw serve', () => {
  let work: string;
  let serve: ServeProcess;
  let chrome: LaunchedChromium;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!available.ok) throw new Error(`CI needs Chromium for the e2e tests: ${available.reason}`);
    await mkdir(shots, { recursive: true });
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-e2e-datasets-'));
    const ptwHome = path.join(work, 'ptw-home');
    const runRoot = path.join(work, 'host-runs');
    const runDir = path.join(runRoot, RUN_ID);
    await mkdir(path.join(runDir, 'workspace', 'data'), { recursive: true });
    await mkdir(path.join(work, 'home'), { recursive: true });
    await mkdir(ptwHome, { recursive: true });
    await writeFile(
      path.join(ptwHome, 'hosts.json'),
      JSON.stringify({ hosts: [{ name: 'local', kind: 'local', runRoot }] }),
    );
    // A finished run folder on the host, as the launcher and supervisor leave it (docs/run-folder.md).
    const runJson = JSON.stringify({
      schema: 1,
      id: RUN_ID,
      createdAt: '2026-11-23T15:00:00.000Z',
      spec: { host: 'local', task: { kind: 'rehearsal' }, agent: { id: 'rehearsal' }, budgetSeconds: 300 },
      supervisor: { budgetSeconds: 300, agentContainerId: null },
    });
    await writeFile(path.join(runDir, 'run.json'), runJson);
    await writeFile(
      path.join(runDir, 'state.json'),
      JSON.stringify({
        status: 'no-model',
        heartbeatAt: 1795446061000,
        startedAt: 1795446000000,
        stoppedAt: 1795446060000,
        stopReason: 'agent-exited',
      }),
    );
    await mkdir(path.join(runDir, 'task'), { recursive: true });
    // The rehearsal's test set: one item of it is planted in the dataset below.
    await writeFile(
      path.join(runDir, 'task', 'test.jsonl'),
      JSON.stringify({
        id: 1,
        question:
          'A farmer has seventeen cows and buys twenty five more at the market on a sunny Tuesday morning, how many cows now?',
        answer: '42',
      }) + '\n',
    );
    const rows: string[] = [];
    for (let i = 0; i < 300; i++) {
      const payload = payloads[i % payloads.length]!;
      rows.push(
        JSON.stringify({
          messages: [
            { role: 'user', content: `Row ${i} says ${payload}` },
            { role: 'assistant', content: `${payload} reply ${i}` },
          ],
          [payload]: payload,
        }),
      );
    }
    rows[7] = JSON.stringify({
      messages: [
        {
          role: 'user',
          content:
            '<b>Answer</b>: A farmer has seventeen cows and buys twenty five more at the market on a sunny Tuesday morning, how many cows now? <img src=x onerror="window.__pwned=\'hit\'">',
        },
        { role: 'assistant', content: '42' },
      ],
    });
    rows.splice(3, 0, '<script>window.__pwned = "broken line"</script>');
    await writeFile(path.join(runDir, 'workspace', 'data', 'evil.jsonl'), rows.join('\n') + '\n');
    // Larger than what is counted before a first answer (16 MiB): its first page comes back while the host counts.
    const filler = 'x'.repeat(100);
    await writeFile(
      path.join(runDir, 'workspace', 'data', 'counted.jsonl'),
      Array.from({ length: 200_000 }, (_, i) => JSON.stringify({ id: i, text: `counted row ${i} ${filler}` })).join(
        '\n',
      ) + '\n',
    );
    await writeFile(path.join(runDir, 'workspace', 'data', '<img src=x onerror=alert(1)>.jsonl'), rows[0] + '\n');
    // The local mirror, created the way the launcher creates it.
    await RunMirror.create(path.join(ptwHome, 'runs'), {
      id: RUN_ID,
      host: 'local',
      hostRunDir: runDir,
      runJsonText: runJson,
    });

    serve = await startServeProcess({ env: { HOME: path.join(work, 'home') }, home: ptwHome });
    chrome = await launchChromium();
    page = await chrome.browser.newPage({ viewport: { width: 1400, height: 1300 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('dialog', (d) => {
      pageErrors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
  });

  afterAll(async () => {
    await stopApp({ chrome, serve });
    if (work) await rm(work, { recursive: true, force: true });
  });

  const pwned = (): Promise<unknown> => page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned);

  it('lists the run’s datasets and shows rows with payloads as text, in the table and as a chat', async () => {
    await openRun(page, serve.url, RUN_ID);
    await page.getByTestId('run-tab-datasets').click();
    await expect
      .poll(() => page.getByTestId('datasets-file-data/evil.jsonl').isVisible(), { timeout: 30_000 })
      .toBe(true);
    // A file name from the host is text too.
    expect(await page.getByTestId('datasets-file-data/<img src=x onerror=alert(1)>.jsonl').textContent()).toContain(
      '<img src=x onerror=alert(1)>.jsonl',
    );
    await page.getByTestId('datasets-file-data/evil.jsonl').click();
    await expect
      .poll(() => page.getByTestId('datasets-total').textContent(), { timeout: 30_000 })
      .toContain('301 rows');
    await expect.poll(() => page.getByTestId('datasets-row-0').textContent()).toContain('<script>window.__pwned');
    // The broken line is reported by line number and shown as text.
    expect(await page.getByTestId('datasets-problems').textContent()).toContain('1 broken row');
    expect(await page.getByTestId('datasets-row-3').textContent()).toContain(
      '<script>window.__pwned = "broken line"</script>',
    );

    await page.getByTestId('datasets-row-1').click();
    await expect.poll(() => page.getByTestId('datasets-chat').textContent()).toContain('<img src=x onerror=');
    expect(await page.getByTestId('datasets-chat').locator('li').count()).toBe(2);

    // Scrolling far fetches later pages.
    await page.getByTestId('datasets-table').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect
      .poll(() => page.getByTestId('datasets-row-300').textContent(), { timeout: 30_000 })
      .toContain('Row 299');

    // Search streams its hits from the host (datasets.searchProgress to this page), then the count.
    await page.getByTestId('datasets-search-input').fill('row 299 SAYS');
    await page.getByTestId('datasets-search-input').press('Enter');
    await expect
      .poll(() => page.getByTestId('datasets-search-count').textContent(), { timeout: 30_000 })
      .toContain('1 row match');
    expect(await page.getByTestId('datasets-search-hits').textContent()).toContain('row 300');
    expect(await page.getByTestId('datasets-search-hits').locator('mark').textContent()).toBe('Row 299 says');

    expect(await pwned()).toBeUndefined();
    expect(
      await page.getByTestId('datasets-tab').locator('img, script, iframe, svg:not(.datasets-histogram)').count(),
    ).toBe(0);
    await page.screenshot({ path: path.join(shots, 'datasets-rows.png') });
  });

  it('highlights the planted test item in the overlap view, as text', async () => {
    await page.getByTestId('datasets-panel-overlap').click();
    expect(await page.getByTestId('datasets-benchmark').inputValue()).toBe('rehearsal');
    await page.getByTestId('datasets-overlap-run').click();
    await expect
      .poll(() => page.getByTestId('datasets-overlap-summary').textContent(), { timeout: 30_000 })
      .toContain('1 of 300 rows');
    const hit = page.getByTestId('datasets-hit-8');
    expect(await hit.locator('mark').first().textContent()).toContain('A farmer has seventeen cows');
    expect(await hit.textContent()).toContain('<img src=x onerror=');
    expect(await pwned()).toBeUndefined();
    expect(await page.getByTestId('datasets-tab').locator('img, script, iframe').count()).toBe(0);
    await page.screenshot({ path: path.join(shots, 'datasets-overlap.png') });
  });

  it('shows stats and the length histogram', async () => {
    await page.getByTestId('datasets-panel-stats').click();
    await expect.poll(() => page.getByTestId('datasets-stats').isVisible(), { timeout: 30_000 }).toBe(true);
    expect(await page.getByTestId('datasets-histogram').locator('rect').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('datasets-stats').textContent()).toContain('<script>window.__pwned');
    expect(await pwned()).toBeUndefined();
    expect(pageErrors).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'datasets-stats.png') });
  });

  it('shows the first rows of a large file at once and the exact count once the host has counted it', async () => {
    await page.getByTestId('datasets-file-data/counted.jsonl').click();
    await expect
      .poll(() => page.getByTestId('datasets-row-1').textContent(), { timeout: 30_000 })
      .toContain('counted row 1 ');
    // The count grows from the rows first read to every row, from the index's progress (datasets.indexStatus).
    await expect
      .poll(() => page.getByTestId('datasets-total').textContent(), { timeout: 60_000 })
      .toMatch(/^200,000 rows · counted on the host at \d+ MB\/s$/);
    expect(await page.getByTestId('datasets-tab').locator('[data-testid="datasets-seek"]').count()).toBe(0);
    await page.getByTestId('datasets-table').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect
      .poll(() => page.getByTestId('datasets-row-199999').textContent(), { timeout: 30_000 })
      .toContain('counted row 199999 ');
    expect(pageErrors).toEqual([]);
  });
});
