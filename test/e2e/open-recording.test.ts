// A recording without a run, end to end: `ptw replay FILE` (the built CLI) serves the app and prints a URL that opens
// the file's replay in Chromium, its bad line listed by number; "Open recording…" in the Runs screen opens another
// (a real asciinema v2 fixture) by path. Untrusted text in the cast stays text.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailability, launchChromium, type LaunchedChromium } from '../support/chromium';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { collectConsoleProblems, stopApp } from '../support/e2e-app';

const available = chromiumAvailability();
if (!available.ok) console.warn(`open-recording e2e skipped: ${available.reason}`);
const shots = path.resolve('test-results', 'screenshots');

describe.skipIf(!available.ok && process.env.CI !== 'true')('Recordings without a run in Chromium', () => {
  let work: string;
  let serve: ServeProcess;
  let chrome: LaunchedChromium;
  let page: Page;
  let other: string;
  const consoleProblems: string[] = [];

  beforeAll(async () => {
    if (!available.ok) throw new Error(`CI needs Chromium for the e2e tests: ${available.reason}`);
    await mkdir(shots, { recursive: true });
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-e2e-recording-'));
    const cast = path.join(work, 'session.cast');
    await writeFile(
      cast,
      [
        JSON.stringify({ version: 3, term: { cols: 80, rows: 10 }, timestamp: 1763900000, title: 'a <b>title</b>' }),
        JSON.stringify([0.5, 'o', 'hello from the recording\r\n']),
        'this line is not JSON',
        JSON.stringify([0.5, 'o', 'the end <img src=x>\r\n']),
        '',
      ].join('\n'),
    );
    other = path.join(work, 'asciinema-v2.cast');
    await copyFile(path.resolve('test/fixtures/asciinema/asciinema-server__v2-full.cast'), other);
    await mkdir(path.join(work, 'home'), { recursive: true });
    serve = await startServeProcess({ env: { HOME: path.join(work, 'home') }, args: ['replay', cast] });
    chrome = await launchChromium();
    page = await chrome.browser.newPage({ viewport: { width: 1400, height: 1000 } });
    collectConsoleProblems(page, consoleProblems);
  });

  afterAll(async () => {
    await stopApp({ chrome, serve });
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('ptw replay FILE prints a URL that opens the recording, with its bad line by number', async () => {
    const printed = /http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]+&replay=file-[0-9a-f]{16}/.exec(serve.output());
    expect(printed, serve.output()).not.toBeNull();
    await page.goto(printed![0]);
    await expect.poll(() => page.getByTestId('recording').isVisible(), { timeout: 60_000 }).toBe(true);
    await expect.poll(() => page.getByTestId('replay-screen').isVisible(), { timeout: 60_000 }).toBe(true);
    // The bad line by its number, under the file's own name.
    expect(await page.getByTestId('replay-problems').textContent()).toContain('session.cast:3 not JSON');
    expect(await page.getByTestId('recording').textContent()).toContain('asciicast v3 · 80×10');
    await page.screenshot({ path: path.join(shots, 'open-recording-url.png') });
  });

  it('"Open recording…" opens another cast by path', async () => {
    await page.getByTestId('open-recording-open').click();
    await page.getByTestId('open-recording-path').fill(other);
    await page.getByTestId('open-recording-submit').click();
    // One recording at a time: the one opened by path replaces the one from the URL.
    await expect
      .poll(() => page.getByTestId('recording').textContent(), { timeout: 60_000 })
      .toContain('asciinema-v2.cast');
    expect(await page.getByTestId('recording').textContent()).toContain('asciicast v2');
    await expect.poll(() => page.getByTestId('replay-screen').isVisible(), { timeout: 60_000 }).toBe(true);
  });

  it('opens a cast chosen with the file picker, and one dropped on the page', async () => {
    // The form closed once the path opened; open it again.
    await page.getByTestId('open-recording-open').click();
    await page
      .getByTestId('open-recording-file')
      .setInputFiles(path.resolve('test/fixtures/asciinema/asciinema-cli__full-v3.cast'));
    await expect
      .poll(() => page.getByTestId('recording').textContent(), { timeout: 60_000 })
      .toContain('asciinema-cli__full-v3.cast');
    expect(await page.getByTestId('recording').textContent()).toContain('asciicast v3');
    // A drop: the page reads the file and sends its text; the recording is kept by content under PTW_HOME.
    const dropped = (await readFile(path.resolve('test/fixtures/asciinema/asciinema-player__markers.cast'))).toString();
    await page.evaluate((text) => {
      const data = new DataTransfer();
      data.items.add(new File([text], 'dropped-markers.cast'));
      const zone = document.querySelector('[data-testid="open-recording-drop"]')!;
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, dropped);
    await expect
      .poll(() => page.getByTestId('recording').textContent(), { timeout: 60_000 })
      .toContain('dropped-markers.cast');
    await expect.poll(() => page.getByTestId('replay-screen').isVisible(), { timeout: 60_000 }).toBe(true);
  });

  it('ran without CSP violations or console errors', () => {
    expect(consoleProblems).toEqual([]);
  });
});
