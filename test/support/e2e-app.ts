// What every e2e test does with the app in Chromium: collect console problems, open the Runs section or one run,
// and stop the browser and `ptw serve` by PID at the end.
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { isAlive, type LaunchedChromium } from './chromium';
import type { ServeProcess } from './serve-process';

/** Pushes console errors (and warnings, unless told not to) and uncaught page errors into `problems`. */
export function collectConsoleProblems(page: Page, problems: string[], options: { warnings?: boolean } = {}): void {
  const warnings = options.warnings ?? true;
  page.on('console', (m) => {
    if (m.type() === 'error' || (warnings && m.type() === 'warning')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
}

/** Loads the app, waits until it talks to main over the WebSocket, and opens the Runs section. */
export async function openRunsSection(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect.poll(() => page.getByTestId('connection-footer').getAttribute('data-connection')).toBe('online');
  await page.getByTestId('nav-runs').click();
}

/** {@link openRunsSection}, then the run's own view. */
export async function openRun(page: Page, url: string, id: string): Promise<void> {
  await openRunsSection(page, url);
  await page.getByTestId(`run-row-${id}`).click();
}

/** Stops the browser and the serve process, and checks both are gone by PID. */
export async function stopApp(app: { chrome?: LaunchedChromium | undefined; serve?: ServeProcess | undefined }) {
  await app.chrome?.stop();
  await app.serve?.stop();
  if (app.chrome) expect(isAlive(app.chrome.pid)).toBe(false);
  if (app.serve) expect(isAlive(app.serve.pid)).toBe(false);
}
