// The Experiments section end to end: `ptw serve` in Chromium against the test host (real sshd + dockerd, one fake
// idle H100). A matrix typed on the New experiment screen is checked as typed (a problem named by its line), its
// run count and GPU-hours previewed, launched, and its grid follows the runs from queued to scored.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumAvailability, launchChromium, type LaunchedChromium } from '../support/chromium';
import { collectConsoleProblems, stopApp } from '../support/e2e-app';
import { startRunTestHost, type RunTestHost } from '../support/run-test-host';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { describeWithTestHost } from '../support/test-host-availability';

const shots = path.resolve('test-results', 'screenshots');
const available = chromiumAvailability();

describeWithTestHost('experiment page: New experiment, preview, launch, live grid', () => {
  let t: RunTestHost;
  let serve: ServeProcess | undefined;
  let chrome: LaunchedChromium | undefined;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    if (!available.ok) return;
    await mkdir(shots, { recursive: true });
    t = await startRunTestHost({ nvidiaSmi: 'idle', hostName: 'h100' });
    serve = await startServeProcess({
      env: { HOME: t.env.HOME!, SSH_AUTH_SOCK: '', PTW_DISPATCH_TICK_S: '1' },
      home: t.env.PTW_HOME!,
    });
    chrome = await launchChromium();
    page = await chrome.browser.newPage({ viewport: { width: 1300, height: 900 } });
    collectConsoleProblems(page, problems, { warnings: false });
  }, 300_000);

  afterAll(async () => {
    await stopApp({ chrome, serve });
    await t?.cleanup();
  });

  it.skipIf(!available.ok)(
    'previews, refuses by line, launches, and shows the cells scored',
    async () => {
      await page.goto(serve!.url);
      await expect.poll(() => page.getByTestId('connection-footer').getAttribute('data-connection')).toBe('online');
      await page.getByTestId('nav-experiments').click();
      await page.getByTestId('empty-experiments').waitFor();
      await page.getByTestId('experiment-new').click();

      const yaml = page.getByTestId('experiment-yaml');
      await yaml.fill(
        'name: grid test\ntasks: [rehearsal]\nagents:\n  - agent: rehearsal\nseeds: 2\nbudget: 1m\nhosts: [h100, nowhere]\nenv:\n  PTW_REHEARSAL_SECONDS: "2"\n',
      );
      await expect
        .poll(() => page.getByTestId('experiment-problems').textContent())
        .toMatch(/line 7: hosts\.1: unknown host "nowhere"/);
      await expect.poll(() => page.getByTestId('experiment-launch').isDisabled()).toBe(true);

      await yaml.fill(
        'name: grid test\ntasks: [rehearsal]\nagents:\n  - agent: rehearsal\nseeds: 2\nbudget: 30m\nhosts: [h100]\nenv:\n  PTW_REHEARSAL_SECONDS: "2"\n',
      );
      await expect.poll(() => page.getByTestId('experiment-preview-runs').textContent()).toBe('2 runs');
      // 2 runs × 1 GPU × 30 minutes.
      expect(await page.getByTestId('experiment-preview-gpu-hours').textContent()).toBe('1.0 GPU-hours');
      await page.screenshot({ path: path.join(shots, 'experiment-new.png') });
      await page.getByTestId('experiment-launch').click();

      await page.getByTestId('experiment-grid').waitFor({ timeout: 120_000 });
      const tile = (seed: number) => page.getByTestId(`experiment-cell-rehearsal-rehearsal-${seed}`);
      expect(await tile(1).getAttribute('data-status')).toMatch(/queued|starting|running|evaluating|scored/);
      await expect
        .poll(async () => [await tile(1).getAttribute('data-status'), await tile(2).getAttribute('data-status')], {
          timeout: 120_000,
          interval: 1_000,
        })
        .toEqual(['scored', 'scored']);
      expect(await tile(1).locator('.experiment-cell-text').textContent()).toMatch(/^\d+\.\d$/);
      expect(await page.getByTestId('experiment-counts').textContent()).toContain('2 scored');
      await page.screenshot({ path: path.join(shots, 'experiment-grid.png') });
      expect(problems).toEqual([]);
    },
    300_000,
  );
});
