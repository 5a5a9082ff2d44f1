// An imported PostTrainBench run shown as what it is, in Chromium over `ptw serve`: a folder whose trace has no
// timestamps but whose time_taken.txt says 05:12:00, scored, with the newer judge's judgement_<model>.json and the
// older judge's text files. The run view says it ran 5:12:00 of its 10 h budget, every phase is completed, no
// live-host warning shows, and the Overview lists each verdict with its justification (as text).
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailability, launchChromium, type LaunchedChromium } from '../support/chromium';
import { runPtw } from '../support/run-cli';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { collectConsoleProblems, stopApp } from '../support/e2e-app';

const available = chromiumAvailability();
if (!available.ok) console.warn(`imported-run e2e skipped: ${available.reason}`);
const shots = path.resolve('test-results', 'screenshots');
const fixtureRun = path.resolve(
  'test/fixtures/posttrainbench/runs/codex_non_api_high_gpt-5.4_10h_run1/gsm8k_Qwen_Qwen3-1.7B-Base_16934887',
);

describe.skipIf(!available.ok && process.env.CI !== 'true')('An imported PostTrainBench run in Chromium', () => {
  let work: string;
  let serve: ServeProcess;
  let chrome: LaunchedChromium;
  let page: Page;
  const consoleProblems: string[] = [];

  beforeAll(async () => {
    if (!available.ok) throw new Error(`CI needs Chromium for the e2e tests: ${available.reason}`);
    await mkdir(shots, { recursive: true });
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-e2e-imported-'));
    const folder = path.join(
      work,
      'results',
      'codex_non_api_high_gpt-5.4_10h_run1',
      'gsm8k_Qwen_Qwen3-1.7B-Base_16934887',
    );
    await cp(fixtureRun, folder, { recursive: true });
    await writeFile(path.join(folder, 'time_taken.txt'), '05:12:00\n');
    await writeFile(
      path.join(folder, 'judgement_gpt5_4.json'),
      JSON.stringify({
        contamination: false,
        disallowed_model: false,
        justification_contamination: 'Trained on openai/gsm8k train only; <b>no</b> test rows.',
        justification_disallowed_model: 'Fine-tuned Qwen/Qwen3-1.7B-Base directly.',
      }),
    );
    await writeFile(path.join(folder, 'contamination_judgement.txt'), 'no contamination detected\n');
    const home = path.join(work, 'home');
    const ptwHome = path.join(work, 'ptw-home');
    await mkdir(home, { recursive: true });
    const imported = await runPtw(['import', 'ptb', path.join(work, 'results'), '--json'], {
      HOME: home,
      PTW_HOME: ptwHome,
    });
    expect(imported.stderr).toBe('');
    serve = await startServeProcess({ env: { HOME: home }, home: ptwHome });
    chrome = await launchChromium();
    page = await chrome.browser.newPage({ viewport: { width: 1400, height: 1400 } });
    collectConsoleProblems(page, consoleProblems);
  });

  afterAll(async () => {
    await stopApp({ chrome, serve });
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('shows the time it ran against its budget, its phases completed, and no live-host warning', async () => {
    await page.goto(serve.pageUrl('testDriver=1'));
    await expect.poll(() => page.getByTestId('connection-footer').getAttribute('data-connection')).toBe('online');
    await page.getByTestId('nav-runs').click();
    await page.getByText('PTB codex_non_api_high_gpt-5.4_10h_run1').first().click();
    await expect.poll(() => page.getByTestId('run-detail-clock').textContent()).toContain('ran 5:12:00');
    expect(await page.getByTestId('run-detail-clock').textContent()).toContain('of 10h');
    expect(await page.getByTestId('run-detail-clock').getAttribute('data-phase')).toBe('stopped');
    expect(await page.getByTestId('run-detail-supervisor-stale').count()).toBe(0);
    for (const id of ['launched', 'running', 'stopped']) {
      expect(await page.getByTestId(`run-phase-${id}`).getAttribute('data-state'), id).toBe('done');
    }
    expect(await page.getByTestId('run-phase-outcome').textContent()).toContain('Scored');
  });

  it('lists each judge verdict with its justification on the Overview, as text', async () => {
    const record = page.getByTestId('run-detail-ptb');
    await expect.poll(() => record.isVisible()).toBe(true);
    const text = (await record.textContent()) ?? '';
    expect(text).toContain('Trained on openai/gsm8k train only; <b>no</b> test rows.');
    expect(text).toContain('Fine-tuned Qwen/Qwen3-1.7B-Base directly.');
    expect(text).toContain('contamination_judgement.txt');
    expect(text).toContain('05:12:00');
    expect(await record.locator('b').count()).toBe(0);
    await page.screenshot({ path: path.join(shots, 'imported-run-view.png'), fullPage: true });
  });

  it('ran without CSP violations or console errors', () => {
    expect(consoleProblems).toEqual([]);
  });
});
