// The live run view end to end: `ptw serve` in Chromium, a real rehearsal run on the test host (real sshd and
// dockerd) whose nvidia-smi is the fake that replays a real H100 capture under load (100 %, 19818 MiB of 81559,
// 631.95 W, 59 °C). The countdown goes down, the GPU strip, the GPU tab's charts and the run list's sparkline show
// the replayed samples (read from what the charts were given and drew, not just that a canvas exists), the host's
// processes are listed, and Stop (after its confirmation) ends the run, with a desktop notification.
import { mkdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumAvailability, launchChromium, type LaunchedChromium } from '../support/chromium';
import { writeFakeNvidiaSmi } from '../support/fake-nvidia-smi';
import { startRunTestHost, type RunTestHost } from '../support/run-test-host';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { describeWithTestHost } from '../support/test-host-availability';
import { collectConsoleProblems, openRun, stopApp } from '../support/e2e-app';

const available = chromiumAvailability();
const shots = path.resolve('test-results', 'screenshots');

/** `1:02:03 left` → seconds. */
function secondsLeft(text: string): number {
  const match = /(\d+):(\d\d):(\d\d) left/.exec(text);
  if (!match) throw new Error(`no countdown in "${text}"`);
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
}

describeWithTestHost('live run view: countdown, GPU charts, stop', () => {
  let t: RunTestHost;
  let serve: ServeProcess;
  let chrome: LaunchedChromium;
  let page: Page;
  let id: string;
  const consoleProblems: string[] = [];

  beforeAll(async () => {
    if (!available.ok) throw new Error(`the live monitor e2e test needs Chromium: ${available.reason}`);
    await mkdir(shots, { recursive: true });
    t = await startRunTestHost({ nvidiaSmi: 'load', hostName: 'h100' });
    // A 10-minute rehearsal whose agent works until it is stopped.
    id = await t.startRun({ budget: '10m', label: 'live monitor', env: { PTW_REHEARSAL_MODE: 'forever' } });
    serve = await startServeProcess({ env: { HOME: t.env.HOME!, SSH_AUTH_SOCK: '' }, home: t.env.PTW_HOME! });
    chrome = await launchChromium();
    page = await chrome.browser.newPage({ viewport: { width: 1280, height: 1400 } });
    await page.context().grantPermissions(['notifications'], { origin: serve.origin });
    // Records each desktop notification the page shows; the real Notification is still constructed.
    await page.addInitScript(() => {
      const Real = window.Notification;
      const shown: Array<{ title: string; body: string }> = [];
      (window as unknown as { __ptwNotifications: typeof shown }).__ptwNotifications = shown;
      class Recording extends Real {
        constructor(title: string, options?: NotificationOptions) {
          super(title, options);
          shown.push({ title, body: options?.body ?? '' });
        }
      }
      Object.defineProperty(window, 'Notification', { value: Recording, configurable: true, writable: true });
    });
    collectConsoleProblems(page, consoleProblems);
  });

  afterAll(async () => {
    await stopApp({ chrome, serve });
    await t?.cleanup();
  });

  it('shows the running rehearsal with a countdown that goes down', async () => {
    await openRun(page, serve.url, id);
    await expect
      .poll(() => page.getByTestId('run-detail-status').getAttribute('data-status'), { timeout: 60_000 })
      .toBe('running');
    await expect.poll(() => page.getByTestId('run-detail-clock').textContent(), { timeout: 30_000 }).toContain('left');
    const first = secondsLeft((await page.getByTestId('run-detail-clock').textContent()) ?? '');
    expect(first).toBeLessThanOrEqual(600);
    await expect
      .poll(async () => secondsLeft((await page.getByTestId('run-detail-clock').textContent()) ?? ''), {
        timeout: 15_000,
      })
      .toBeLessThan(first);
    // The row in the list counts down too.
    expect(await page.getByTestId(`run-clock-${id}`).textContent()).toContain('left');
  });

  it('shows the replayed H100 samples in the strip, the charts and the list’s sparkline', async () => {
    await expect.poll(() => page.getByTestId('gpu-tile-util-0').textContent(), { timeout: 60_000 }).toBe('100 %');
    expect(await page.getByTestId('gpu-tile-0').textContent()).toContain('19.4 / 79.6 GiB · 632 W · 59 °C');
    await expect
      .poll(() => page.getByTestId(`run-spark-${id}`).getAttribute('data-values'), { timeout: 30_000 })
      .toMatch(/100/);
    const spark = ((await page.getByTestId(`run-spark-${id}`).getAttribute('data-values')) ?? '').split(',');
    expect(spark.filter((v) => v !== '').every((v) => v === '100')).toBe(true);

    await page.getByTestId('run-tab-gpu').click();
    const util = page.getByTestId('gpu-chart-utilization').locator('.gpu-chart-plot');
    await expect.poll(() => util.getAttribute('data-latest'), { timeout: 30_000 }).toBe('100');
    // Samples keep arriving at 1 Hz, and the chart (uPlot's own data) follows them.
    const points = Number(await util.getAttribute('data-drawn'));
    expect(points).toBeGreaterThan(0);
    await expect
      .poll(async () => Number(await util.getAttribute('data-drawn')), { timeout: 20_000 })
      .toBeGreaterThan(points);
    expect(await util.locator('canvas').count()).toBeGreaterThan(0);
    const latest = async (metric: string) =>
      Number(await page.getByTestId(`gpu-chart-${metric}`).locator('.gpu-chart-plot').getAttribute('data-latest'));
    expect(await latest('memory')).toBeCloseTo(19818 / 1024, 5);
    expect(await latest('power')).toBe(631.95);
    expect(await latest('temperature')).toBe(59);
    expect(await page.getByTestId('gpu-chart-utilization-latest').textContent()).toContain('GPU 0 100 %');

    // The 1 Hz view holds the same samples.
    await page.getByTestId('gpu-window-tail').click();
    await expect.poll(() => util.getAttribute('data-latest')).toBe('100');

    // What holds the GPU's memory on the host now (the capture's three processes).
    await expect.poll(() => page.getByTestId('gpu-processes').textContent(), { timeout: 30_000 }).toContain('gpu_burn');
    expect(await page.getByTestId('gpu-processes').textContent()).toContain('15690 MiB');
    expect(await page.getByTestId('gpu-idle-alert').count()).toBe(0);
    await page.screenshot({ path: path.join(shots, 'live-monitor-gpu.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: path.join(shots, 'live-monitor-gpu-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('alerts when the GPU goes idle for longer than the preference while the budget runs', async () => {
    // The H100 goes quiet: the fake now replays the capture's idle half (0 %), swapped in by atomic renames.
    const idle = await writeFakeNvidiaSmi({ binDir: path.join(t.work, 'fakebin-idle'), state: 'idle' });
    const live = path.join(t.work, 'fakebin', 'nvidia-smi.d');
    for (const name of ['gpu.fields', 'apps.fields']) {
      expect(await readFile(path.join(idle.dataDir, name), 'utf8')).toBe(await readFile(path.join(live, name), 'utf8'));
    }
    for (const name of ['gpu.csv', 'apps.csv']) await rename(path.join(idle.dataDir, name), path.join(live, name));
    await page.getByTestId('gpu-window-whole').click();
    const util = page.getByTestId('gpu-chart-utilization').locator('.gpu-chart-plot');
    await expect.poll(() => util.getAttribute('data-latest'), { timeout: 30_000 }).toBe('0');
    // The whole run keeps the busy stretch before it.
    expect(await page.getByTestId('gpu-chart-utilization-latest').textContent()).toContain('GPU 0 0 %');

    // Alert after one quiet minute (the preference, set here; ten by default).
    expect(await page.getByTestId('gpu-idle-minutes').inputValue()).toBe('10');
    await page.getByTestId('gpu-idle-minutes').fill('1');
    await page.getByTestId('gpu-idle-save').click();
    expect(await page.getByTestId('gpu-idle-alert').count()).toBe(0);
    await expect.poll(() => page.getByTestId('gpu-idle-alert').count(), { timeout: 120_000 }).toBe(1);
    expect(await page.getByTestId('gpu-idle-alert').textContent()).toContain('GPU idle for 1m');
    expect(await page.getByTestId(`run-idle-${id}`).textContent()).toContain('GPU idle for 1 min');
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { __ptwNotifications: unknown[] }).__ptwNotifications))
      .toContainEqual(expect.objectContaining({ title: 'GPU idle: live monitor' }));
    await page.screenshot({ path: path.join(shots, 'live-monitor-idle.png') });
  });

  it('stops the run after a confirmation, and says so in the timeline and a notification', async () => {
    await page.getByTestId('run-stop').click();
    // Nothing happens until it is confirmed; Cancel takes it back.
    await page.getByTestId('run-confirm-cancel').click();
    expect(await page.getByTestId('run-detail-status').getAttribute('data-status')).toBe('running');
    await page.getByTestId('run-stop').click();
    expect(await page.getByTestId('run-controls').textContent()).toContain('Stop the agent now?');
    await page.getByTestId('run-stop-confirm').click();
    await expect
      .poll(() => page.getByTestId('run-detail-clock').textContent(), { timeout: 60_000 })
      .toContain('stopped by request');
    await expect
      .poll(() => page.getByTestId('run-detail-status').getAttribute('data-status'), { timeout: 30_000 })
      .not.toBe('running');
    await page.getByTestId('run-tab-overview').click();
    await expect
      .poll(() => page.getByTestId('run-timeline').textContent(), { timeout: 30_000 })
      .toContain('Stop requested');
    await expect
      .poll(() => page.getByTestId('run-timeline').textContent(), { timeout: 30_000 })
      .toContain('Agent stopped: stopped by request');
    await expect
      .poll(
        () =>
          page.evaluate(
            () => (window as unknown as { __ptwNotifications: Array<{ title: string }> }).__ptwNotifications,
          ),
        { timeout: 30_000 },
      )
      .toContainEqual(expect.objectContaining({ title: 'Run finished: live monitor' }));
    await page.screenshot({ path: path.join(shots, 'live-monitor-stopped.png') });
  });

  it('ran without CSP violations or console errors', () => {
    expect(consoleProblems).toEqual([]);
  });
});
