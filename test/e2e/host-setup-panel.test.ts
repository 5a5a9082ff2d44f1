// The host page's Set up panel in Chromium over ptw serve, against a real sshd + dockerd: a checkout cloned over SSH
// from a local bare repository, the run image built from its definition (the panel shows the build's steps and log),
// and the ready check saying what is missing on this GPU-less host.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumAvailability, launchChromium, type LaunchedChromium } from '../support/chromium';
import { collectConsoleProblems, stopApp } from '../support/e2e-app';
import { goodDef, makePtbRepo } from '../support/ptb-repo';
import { PYTHON_IMAGE, startRunTestHost, type RunTestHost } from '../support/run-test-host';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { describeWithTestHost } from '../support/test-host-availability';

const available = chromiumAvailability();
const shots = path.resolve('test-results', 'screenshots');

describeWithTestHost('the host page’s Set up panel', () => {
  let t: RunTestHost;
  let serve: ServeProcess;
  let chrome: LaunchedChromium;
  let page: Page;
  let origin: string;
  const consoleProblems: string[] = [];

  beforeAll(async () => {
    if (!available.ok) throw new Error(`the set-up e2e test needs Chromium: ${available.reason}`);
    await mkdir(shots, { recursive: true });
    t = await startRunTestHost({ nvidiaSmi: 'none' });
    ({ origin } = await makePtbRepo(t.work, { standard: goodDef(PYTHON_IMAGE) }));
    serve = await startServeProcess({ env: { HOME: t.env.HOME!, SSH_AUTH_SOCK: '' }, home: t.env.PTW_HOME! });
    chrome = await launchChromium();
    page = await chrome.browser.newPage({ viewport: { width: 1280, height: 1000 } });
    collectConsoleProblems(page, consoleProblems);
  }, 300_000);

  afterAll(async () => {
    await stopApp({ chrome, serve });
    await t?.cleanup();
  });

  it('clones, builds and checks, showing each step with its bar, log and result', async () => {
    await page.goto(serve.url);
    await page.getByTestId('nav-hosts').click();
    await page.getByTestId(`host-row-${t.hostName}`).click();
    await expect.poll(() => page.getByTestId('setup-panel').isVisible()).toBe(true);
    await page.getByTestId('setup-checkout').fill(path.join(t.work, 'host-ptb'));
    await page.getByTestId('setup-repo').fill(origin);
    await page.getByTestId('setup-step-caches').uncheck();
    await page.getByTestId('setup-run').click();

    const status = (step: string) => page.getByTestId(`setup-result-${step}`).getAttribute('data-status');
    await expect.poll(() => status('checkout'), { timeout: 60_000 }).toBe('done');
    expect(await page.getByTestId('setup-summary-checkout').textContent()).toContain('1 task(s)');
    await expect.poll(() => status('image'), { timeout: 240_000 }).toBe('done');
    expect(await page.getByTestId('setup-summary-image').textContent()).toMatch(/built ptw-ptb\/standard:[0-9a-f]{12}/);
    await page.getByTestId('setup-result-image').locator('summary').click();
    expect(await page.getByTestId('setup-log-image').textContent()).toMatch(
      /Step 1\/\d+ : FROM ptw-test\/debian-python3:1/,
    );
    await expect.poll(() => status('ready'), { timeout: 120_000 }).toBe('failed');
    expect(await page.getByTestId('setup-summary-ready').textContent()).toContain('torch is not importable');
    expect(await page.getByTestId('setup-verdict').textContent()).toContain('is not ready yet');
    expect(await page.getByTestId('setup-result-caches').count()).toBe(0);
    await page.screenshot({ path: path.join(shots, 'host-setup-panel.png'), fullPage: true });

    // Again: the checkout and the image are already there and say so.
    await page.getByTestId('setup-step-ready').uncheck();
    await page.getByTestId('setup-run').click();
    await expect.poll(() => status('image'), { timeout: 60_000 }).toBe('skipped');
    expect(await status('checkout')).toBe('skipped');
    await expect.poll(() => page.getByTestId('setup-verdict').textContent()).toContain('is set up');
    expect(consoleProblems).toEqual([]);
  }, 600_000);
});
