// The Replay tab end to end: `ptw serve` in Chromium, a finished run's local mirror in PTW_HOME (no host needed)
// with a 3 MB terminal.cast (several segments and keyframes, a marker, a malformed line). Opening the tab indexes
// the cast; seeking to the end shows the last screen; a search lists hits whose click jumps the terminal to them.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailability, launchChromium, type LaunchedChromium } from '../support/chromium';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { collectConsoleProblems, stopApp } from '../support/e2e-app';

const available = chromiumAvailability();
if (!available.ok) console.warn(`replay e2e skipped: ${available.reason}`);
const shots = path.resolve('test-results', 'screenshots');
const RUN_ID = 'r-20261123-120000-beef';

interface Driver {
  screen(): string;
  timeMs(): number;
}

/** 3000 output events one second apart, ~1 KB each; a marker at 1500 s; the needle at 2400 s; one broken line. */
function castText(): string {
  const lines = [JSON.stringify({ version: 3, term: { cols: 100, rows: 20 }, timestamp: 1763900000 })];
  for (let i = 1; i <= 3000; i++) {
    if (i === 1500) lines.push('[0.0, "m", "halfway <b>marker</b>"]');
    if (i === 1700) lines.push('[1.0, "o", "this line is cut');
    const filler = `\x1b[3${i % 8}m${'x'.repeat(900)}\x1b[0m`;
    const text = i === 2400 ? 'found the needle-7781 here' : `step ${i} done`;
    lines.push(JSON.stringify([1.0, 'o', `${filler}\r\n${text}\r\n`]));
  }
  lines.push(JSON.stringify([1.0, 'o', 'all finished\r\n']));
  return lines.join('\n') + '\n';
}

describe.skipIf(!available.ok && process.env.CI !== 'true')('Replay tab in Chromium over ptw serve', () => {
  let work: string;
  let serve: ServeProcess;
  let chrome: LaunchedChromium;
  let page: Page;
  const consoleProblems: string[] = [];

  const screen = () =>
    page.evaluate(() => (window as unknown as { __ptwReplayDriver?: Driver }).__ptwReplayDriver?.screen() ?? '');
  const timeMs = () =>
    page.evaluate(() => (window as unknown as { __ptwReplayDriver?: Driver }).__ptwReplayDriver?.timeMs() ?? -1);

  beforeAll(async () => {
    if (!available.ok) throw new Error(`CI needs Chromium for the e2e tests: ${available.reason}`);
    await mkdir(shots, { recursive: true });
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-e2e-replay-'));
    const home = path.join(work, 'ptw-home');
    const runDir = path.join(home, 'runs', RUN_ID);
    await mkdir(runDir, { recursive: true });
    await writeFile(
      path.join(runDir, 'run.json'),
      JSON.stringify({
        schema: 1,
        id: RUN_ID,
        createdAt: '2026-11-23T12:00:00Z',
        spec: { host: 'h100-a', task: { kind: 'rehearsal' }, agent: { id: 'rehearsal' }, label: 'replay me' },
        supervisor: { budgetSeconds: 3600 },
      }),
    );
    await writeFile(path.join(runDir, 'state.json'), JSON.stringify({ status: 'failed', heartbeatAt: 1 }));
    await writeFile(path.join(runDir, 'terminal.cast'), castText());
    await mkdir(path.join(work, 'home'), { recursive: true });
    serve = await startServeProcess({ env: { HOME: path.join(work, 'home') }, home });
    chrome = await launchChromium();
    page = await chrome.browser.newPage({ viewport: { width: 1400, height: 1000 } });
    collectConsoleProblems(page, consoleProblems);
  });

  afterAll(async () => {
    await stopApp({ chrome, serve });
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('opens a finished run’s replay at the start, with its marker and the unreadable line reported', async () => {
    await page.goto(serve.pageUrl('testDriver=1'));
    await expect.poll(() => page.getByTestId('connection-footer').getAttribute('data-connection')).toBe('online');
    await page.getByTestId('nav-runs').click();
    await page.getByText('replay me').first().click();
    await page.getByTestId('run-tab-replay').click();
    await expect.poll(() => page.getByTestId('replay-screen').isVisible(), { timeout: 60_000 }).toBe(true);
    await expect.poll(() => page.getByTestId('replay-time').textContent()).toBe('0:00 / 50:01');
    expect(await page.getByTestId('replay-problems').textContent()).toContain('terminal.cast:1702');
    // The marker's label is untrusted text: shown as text.
    expect(await page.getByTestId('replay-markers').textContent()).toContain('halfway <b>marker</b>');
    expect(await page.locator('[data-testid="replay-markers"] b').count()).toBe(0);
  });

  it('seeks to the end from the scrubber and shows the last screen', async () => {
    await page.getByTestId('replay-scrubber').focus();
    await page.keyboard.press('End');
    await expect.poll(() => screen()).toContain('all finished');
    expect(await screen()).toContain('step 3000 done');
    expect(await page.getByTestId('replay-time').textContent()).toBe('50:01 / 50:01');
  });

  it('searches the whole output and jumps to a hit', async () => {
    await page.getByTestId('replay-search-input').fill('NEEDLE-7781');
    await page.getByTestId('replay-search-go').click();
    await expect.poll(() => page.getByTestId('replay-hit-count').textContent()).toBe('1 match');
    expect(await page.getByTestId('replay-hit').textContent()).toContain('found the needle-7781 here');
    await page.getByTestId('replay-hit').click();
    await expect.poll(() => timeMs()).toBe(2400_000);
    await expect.poll(() => screen()).toContain('found the needle-7781 here');
    const shown = await screen();
    expect(shown).toContain('step 2399 done');
    expect(shown).not.toContain('step 2400 done');
    await page.screenshot({ path: path.join(shots, 'replay-tab.png') });
  });

  it('plays from there', async () => {
    await page.getByTestId('replay-speed').selectOption('16');
    await page.getByTestId('replay-play').click();
    // Playing at 16× takes a few seconds of wall time on a busy machine.
    await expect.poll(() => screen(), { timeout: 30_000 }).toContain('step 2402 done');
    await page.getByTestId('replay-play').click();
    expect(await page.getByTestId('replay-play').textContent()).toBe('Play');
  });

  it('ran without CSP violations or console errors', () => {
    expect(consoleProblems).toEqual([]);
  });
});
