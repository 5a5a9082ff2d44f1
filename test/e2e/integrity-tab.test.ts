// The Integrity tab end to end: `ptw serve` in Chromium, a generated PostTrainBench folder imported (a cheat: a curl
// to OpenAI whose command carries HTML an attacker would like rendered), checked from the tab with the references
// named there (an imported run is checked on this machine), the flag's evidence shown as text, and a decision with
// a note recorded. No script from the agent's text may run.
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailability, launchChromium, type LaunchedChromium } from '../support/chromium';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { collectConsoleProblems, stopApp } from '../support/e2e-app';

const available = chromiumAvailability();
if (!available.ok) console.warn(`integrity e2e skipped: ${available.reason}`);
const shots = path.resolve('test-results', 'screenshots');
const generator = path.resolve('test/generators/integrity_scenarios.py');
const PAYLOAD = `<img src=x onerror="window.__ptwPwned=1"><script>window.__ptwPwned=2</script>`;

describe.skipIf(!available.ok && process.env.CI !== 'true')('Integrity tab in Chromium over ptw serve', () => {
  let work: string;
  let out: string;
  let serve: ServeProcess;
  let chrome: LaunchedChromium;
  let page: Page;
  let runId: string;
  let judgedId: string;
  const consoleProblems: string[] = [];

  beforeAll(async () => {
    if (!available.ok) throw new Error(`CI needs Chromium for the e2e tests: ${available.reason}`);
    await mkdir(shots, { recursive: true });
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-e2e-integrity-'));
    out = path.join(work, 'scenarios');
    const made = spawnSync('python3', [generator, out, '--only', 'api-curl', '--only', 'clean-gsm8k-train'], {
      encoding: 'utf8',
    });
    expect(made.status, made.stderr).toBe(0);
    const scenarios = JSON.parse(readFileSync(path.join(out, 'scenarios.json'), 'utf8')) as {
      name: string;
      folder: string;
    }[];
    const scenario = scenarios.find((s) => s.name === 'api-curl')!;
    const call = {
      type: 'assistant',
      message: {
        content: [
          {
            type: 'tool_use',
            id: 'x1',
            name: 'Bash',
            input: { command: `curl https://api.openai.com/v1/chat/completions -d '${PAYLOAD}'` },
          },
        ],
      },
    };
    appendFileSync(
      path.join(out, scenario.folder, 'solve_out.txt'),
      `[2026-03-01T10:01:00Z] ${JSON.stringify(call)}\n`,
    );
    const ptwHome = path.join(work, 'ptw-home');
    await mkdir(ptwHome, { recursive: true });
    const imported = spawnSync('node', ['bin/ptw.cjs', 'import', 'ptb', path.join(out, 'results'), '--json'], {
      encoding: 'utf8',
      env: { ...process.env, PTW_HOME: ptwHome },
    });
    expect(imported.status, imported.stderr).toBe(0);
    const runs = (JSON.parse(imported.stdout) as { imported: { id: string; folder: string }[] }).imported;
    runId = runs.find((r) => r.folder.includes('api-curl'))!.id;
    judgedId = runs.find((r) => r.folder.includes('clean-gsm8k-train'))!.id;
    await mkdir(path.join(work, 'home'), { recursive: true });
    serve = await startServeProcess({ env: { HOME: path.join(work, 'home') }, home: ptwHome });
    chrome = await launchChromium();
    page = await chrome.browser.newPage({ viewport: { width: 1400, height: 1600 } });
    collectConsoleProblems(page, consoleProblems);
  });

  afterAll(async () => {
    await stopApp({ chrome, serve });
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('checks an imported run from the tab, shows the evidence as text, and records a decision', async () => {
    await page.goto(serve.pageUrl('testDriver=1'));
    await expect.poll(() => page.getByTestId('connection-footer').getAttribute('data-connection')).toBe('online');
    await page.getByTestId('nav-runs').click();
    await page.getByTestId(`run-row-${runId}`).click();
    await page.getByTestId('run-tab-integrity').click();
    await expect.poll(() => page.getByTestId('integrity-verdict').textContent()).toBe('Not checked yet');
    await page.getByTestId('integrity-ref-references').fill(path.join(out, 'hf-cache'));
    await page.getByTestId('integrity-ref-testSets').fill(path.join(out, 'test-sets'));
    await page.getByTestId('integrity-ref-ptbCheckout').fill(path.join(out, 'ptb-checkout'));
    await page.getByTestId('integrity-check').click();
    await expect.poll(() => page.getByTestId('integrity-verdict').textContent(), { timeout: 60_000 }).toBe('Flagged');
    const checks = await page.getByTestId('integrity-checks').textContent();
    expect(checks).toContain('API misuse');
    expect(await page.locator('[data-testid="integrity-checks"] tr[data-status="flag"]').count()).toBe(1);

    const flag = page.getByTestId('integrity-flag').first();
    await flag.locator('summary').click();
    // The agent's HTML is on screen as text, and nothing of it ran.
    await expect.poll(() => flag.textContent()).toContain(PAYLOAD);
    expect(await page.evaluate(() => (window as unknown as { __ptwPwned?: number }).__ptwPwned)).toBeUndefined();
    expect(await flag.locator('img').count()).toBe(0);

    await flag.getByLabel('Note on this flag').fill('the agent sent test prompts to OpenAI');
    await flag.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => flag.getByTestId('integrity-decision').textContent()).toBe('Decision: confirmed');
    await page.screenshot({ path: path.join(shots, 'integrity-tab.png') });
    // The decision is kept in the run's record: read again after a reload.
    await page.reload();
    await page.getByTestId('nav-runs').click();
    await page.getByTestId(`run-row-${runId}`).click();
    await page.getByTestId('run-tab-integrity').click();
    await expect
      .poll(() => page.getByTestId('integrity-flag').first().getByTestId('integrity-decision').textContent())
      .toBe('Decision: confirmed');
    expect(consoleProblems).toEqual([]);
  }, 120_000);

  it("shows an imported folder's judge files beside our checks, the disagreement marked (GSM8K train split)", async () => {
    await page.getByTestId(`run-row-${judgedId}`).click();
    await page.getByTestId('run-tab-integrity').click();
    await page.getByTestId('integrity-ref-references').fill(path.join(out, 'hf-cache'));
    await page.getByTestId('integrity-ref-testSets').fill(path.join(out, 'test-sets'));
    await page.getByTestId('integrity-ref-ptbCheckout').fill(path.join(out, 'ptb-checkout'));
    await page.getByTestId('integrity-check').click();
    await expect.poll(() => page.getByTestId('integrity-verdict').textContent(), { timeout: 60_000 }).toBe('Clean');
    const judge = page.getByTestId('integrity-judge');
    expect(await judge.textContent()).toContain('optional');
    const rows = judge.getByTestId('integrity-judge-row');
    expect(await rows.count()).toBe(2);
    const contamination = rows.filter({ hasText: 'contamination_judgement.txt' });
    expect(await contamination.getAttribute('data-disagrees')).toBe('true');
    expect(await contamination.textContent()).toContain('Contamination: clean');
    expect(await rows.filter({ hasText: 'disallowed_model' }).getAttribute('data-disagrees')).toBe('false');
    expect(await page.getByTestId('integrity-judge-disagrees').isVisible()).toBe(true);
    // An imported run has no host: the judge cannot be run from here.
    expect(await page.getByTestId('integrity-judge-run').count()).toBe(0);
    await page.screenshot({ path: path.join(shots, 'integrity-judge.png') });
  }, 90_000);
});
