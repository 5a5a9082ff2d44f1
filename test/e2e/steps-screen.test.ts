// The Steps tab end to end: `ptw serve` in Chromium, a PostTrainBench results tree imported from the Runs screen
// ("Import PostTrainBench results…"), then an imported run's Steps tab: the steps are listed, a step opens to show
// its command and output (as text), and picking a step moves the one timeline's cursor to it (and the shared run
// position the terminal replay follows). Two result folders: the real Codex trace fixture as it is (no timestamps:
// the timeline lays steps out in order), and the same trace with PostTrainBench's `[ISO-Z] ` prefixes put on its
// JSON lines by this test, as the harness writes solve_out.txt (the timeline is then in time).
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailability, launchChromium, type LaunchedChromium } from '../support/chromium';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { collectConsoleProblems, stopApp } from '../support/e2e-app';

const available = chromiumAvailability();
if (!available.ok) console.warn(`steps e2e skipped: ${available.reason}`);
const shots = path.resolve('test-results', 'screenshots');
const fixtureRun = path.resolve(
  'test/fixtures/posttrainbench/runs/codex_non_api_high_gpt-5.4_10h_run1/gsm8k_Qwen_Qwen3-1.7B-Base_16934887',
);
const T0 = Date.parse('2026-03-06T16:50:00Z');

describe.skipIf(!available.ok && process.env.CI !== 'true')('Steps tab in Chromium over ptw serve', () => {
  let work: string;
  let results: string;
  let serve: ServeProcess;
  let chrome: LaunchedChromium;
  let page: Page;
  const consoleProblems: string[] = [];
  type Driver = { screen(): string; timeMs(): number };
  const screen = () =>
    page.evaluate(() => (window as unknown as { __ptwReplayDriver?: Driver }).__ptwReplayDriver?.screen() ?? '');
  const replayMs = () =>
    page.evaluate(() => (window as unknown as { __ptwReplayDriver?: Driver }).__ptwReplayDriver?.timeMs() ?? -1);

  beforeAll(async () => {
    if (!available.ok) throw new Error(`CI needs Chromium for the e2e tests: ${available.reason}`);
    await mkdir(shots, { recursive: true });
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-e2e-steps-'));
    results = path.join(work, 'results');
    const plain = path.join(results, 'codex_non_api_high_gpt-5.4_10h_run1', 'gsm8k_Qwen_Qwen3-1.7B-Base_16934887');
    await cp(fixtureRun, plain, { recursive: true });
    // The timed variant: each JSON line 30 s after the one before, as `[YYYY-MM-DDTHH:MM:SSZ] ` prefixes.
    const timed = path.join(results, 'codex_non_api_high_gpt-5.4_1h_run2', 'gsm8k_Qwen_Qwen3-1.7B-Base_1');
    await mkdir(timed, { recursive: true });
    const trace = await readFile(path.join(fixtureRun, 'solve_out.txt'), 'utf8');
    let n = 0;
    const stamped = trace
      .split('\n')
      .map((line) =>
        line.startsWith('{') ? `[${new Date(T0 + n++ * 30_000).toISOString().replace('.000', '')}] ${line}` : line,
      )
      .join('\n');
    await writeFile(path.join(timed, 'solve_out.txt'), stamped);
    await writeFile(path.join(timed, 'time_taken.txt'), '0:14:30\n');
    await writeFile(path.join(timed, 'error.log'), 'Terminated\n');

    const ptwHome = path.join(work, 'ptw-home');
    await mkdir(ptwHome, { recursive: true });
    await mkdir(path.join(work, 'home'), { recursive: true });
    serve = await startServeProcess({ env: { HOME: path.join(work, 'home') }, home: ptwHome });
    chrome = await launchChromium();
    page = await chrome.browser.newPage({ viewport: { width: 1400, height: 1700 } });
    collectConsoleProblems(page, consoleProblems);
  });

  afterAll(async () => {
    await stopApp({ chrome, serve });
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('imports a results tree from the Runs screen and opens the first run', async () => {
    await page.goto(serve.pageUrl('testDriver=1'));
    await expect.poll(() => page.getByTestId('connection-footer').getAttribute('data-connection')).toBe('online');
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('ptb-import-open').click();
    await page.getByTestId('ptb-import-path').fill(path.join(work, 'nowhere'));
    await page.getByTestId('ptb-import-submit').click();
    await expect.poll(() => page.getByTestId('ptb-import-error').textContent()).toContain('does not exist');

    await page.getByTestId('ptb-import-path').fill(results);
    await page.getByTestId('ptb-import-submit').click();
    await expect.poll(() => page.getByTestId('ptb-import-result').textContent()).toContain('Imported 2 runs');
    await expect.poll(() => page.getByTestId('run-detail').isVisible()).toBe(true);
    await page.getByTestId('ptb-import-open').click();
    await expect.poll(() => page.locator('[data-testid^="run-row-"]').count()).toBe(2);
  });

  it('lists the steps of the timed run and moves the timeline to a picked step', async () => {
    await page.getByText('PTB codex_non_api_high_gpt-5.4_1h_run2/gsm8k_Qwen_Qwen3-1.7B-Base_1').first().click();
    await expect.poll(() => page.getByTestId('run-detail-status').getAttribute('data-status')).toBe('no-model');
    await page.getByTestId('run-tab-steps').click();
    await expect.poll(() => page.getByTestId('steps-tab').getAttribute('data-dialect')).toBe('codex-exec-json');
    expect(await page.getByTestId('steps-timeline').getAttribute('data-mode')).toBe('time');
    expect(await page.getByTestId('steps-totals').textContent()).toContain('20.98 M');
    expect(await page.getByTestId('ptb-error-cause').textContent()).toContain('time limit');
    // The launcher's lines are listed raw, first.
    await expect.poll(() => page.getByTestId('steps-row-0').getAttribute('data-kind')).toBe('raw');

    const rows = page.locator('[data-testid^="steps-row-"][data-kind="shell"]');
    await expect.poll(() => rows.count()).toBeGreaterThan(1);
    const first = rows.first();
    const firstIndex = Number((await first.getAttribute('data-testid'))!.replace('steps-row-', ''));
    await first.locator('button.steps-row-head').click();
    await expect.poll(() => page.getByTestId('steps-cursor').getAttribute('data-step')).toBe(String(firstIndex));
    const firstValue = Number(await page.getByTestId('steps-cursor').getAttribute('data-value'));
    expect(firstValue).toBeGreaterThan(T0);
    expect(await first.getAttribute('data-current')).toBe('true');
    // The command and its output, as text.
    await expect
      .poll(() => page.getByTestId(`steps-detail-${firstIndex}`).textContent())
      .toContain('rg: command not found');
    // The terminal (the replay's player, embedded) jumped to the step: the line that started it is on screen.
    await expect.poll(replayMs).toBe(firstValue - T0);
    await expect.poll(screen).toContain('"id":"item_2"');

    const second = rows.nth(1);
    const secondIndex = Number((await second.getAttribute('data-testid'))!.replace('steps-row-', ''));
    await second.locator('button.steps-row-head').click();
    await expect.poll(() => page.getByTestId('steps-cursor').getAttribute('data-step')).toBe(String(secondIndex));
    const secondValue = Number(await page.getByTestId('steps-cursor').getAttribute('data-value'));
    expect(secondValue).toBeGreaterThan(firstValue);
    await expect.poll(replayMs).toBe(secondValue - T0);
    expect(await page.getByTestId('steps-timeline-position').textContent()).toMatch(/^\+0:\d\d:\d\d$/);
    await page.getByTestId('run-tab-steps').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: path.join(shots, 'steps-tab.png') });

    // The keyboard steps through the timeline too.
    await page.getByTestId('steps-timeline-area').focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.getByTestId('steps-cursor').getAttribute('data-step')).toBe(String(secondIndex + 1));
  });

  it('filters by kind', async () => {
    await page.getByTestId('steps-filter-file').click();
    await expect.poll(() => page.locator('[data-testid^="steps-row-"]').count()).toBe(1);
    expect(await page.locator('[data-testid^="steps-row-"]').first().getAttribute('data-kind')).toBe('file');
    await page.getByTestId('steps-filter-file').click();
    await expect.poll(() => page.locator('[data-testid^="steps-row-"]').count()).toBeGreaterThan(10);
  });

  it('lays out a trace without timestamps in order, and picking a step still moves the cursor', async () => {
    await page.getByText('PTB codex_non_api_high_gpt-5.4_10h_run1/gsm8k_Qwen_Qwen3-1.7B-Base_16934887').first().click();
    await expect.poll(() => page.getByTestId('run-detail-score').textContent()).toContain('42.7');
    await page.getByTestId('run-tab-steps').click();
    await expect.poll(() => page.getByTestId('steps-timeline').getAttribute('data-mode')).toBe('sequence');
    await page.getByTestId('steps-row-12').locator('button.steps-row-head').click();
    await expect.poll(() => page.getByTestId('steps-cursor').getAttribute('data-value')).toBe('12');

    // A long output (a 22 kB vLLM log with colour codes) comes whole when opened, as text: the escapes are shown.
    const evalRow = page.locator('[data-testid^="steps-row-"]', {
      hasText: '--limit 30 --json-output-file baseline30.json',
    });
    await evalRow.locator('button.steps-row-head').click();
    const evalIndex = (await evalRow.getAttribute('data-testid'))!.replace('steps-row-', '');
    await expect
      .poll(() => page.getByTestId(`steps-detail-${evalIndex}`).textContent())
      .toContain('Application shutdown complete.');
    expect(await page.getByTestId(`steps-detail-${evalIndex}`).textContent()).toContain(
      '[1;36m(APIServer pid=1001022)',
    );
    expect(consoleProblems).toEqual([]);
  });
});
