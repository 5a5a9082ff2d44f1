// Integrity evidence opened in place, in Chromium over `ptw serve`: a run on a `local` host whose folder holds four
// cheats from the scenario generator (GSM8K test rows in a dataset, the instruct model as final_model, an edited
// evaluate.py, a curl to OpenAI in the trace). The checks run on the "host" from the Integrity tab; each flag's
// evidence is clicked and must land on the right place: the dataset inspector at the row, the checkpoint diff
// against the instruct model, the file diff in Monaco, the step of the trace. The model pairs table is shown and
// extended from the tab.
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunMirror } from '../../src/main/runs/run-mirror';
import { chromiumAvailability, launchChromium, type LaunchedChromium } from '../support/chromium';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { collectConsoleProblems, openRun, stopApp } from '../support/e2e-app';
import { generateScenarios, ptbRunJson } from '../support/integrity-scenarios';

const available = chromiumAvailability();
if (!available.ok) console.warn(`integrity evidence e2e skipped: ${available.reason}`);
const shots = path.resolve('test-results', 'screenshots');
const RUN_ID = 'r-20261201-100000-evid';

describe.skipIf(!available.ok && process.env.CI !== 'true')('Integrity evidence opened in place', () => {
  let work: string;
  let serve: ServeProcess;
  let chrome: LaunchedChromium;
  let page: Page;
  const consoleProblems: string[] = [];

  beforeAll(async () => {
    if (!available.ok) throw new Error(`CI needs Chromium for the e2e tests: ${available.reason}`);
    await mkdir(shots, { recursive: true });
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-e2e-evidence-'));
    const out = path.join(work, 'scenarios');
    generateScenarios(out, ['contam-direct', 'subst-instruct-copy', 'tamper-evaluate', 'api-curl']);
    const folders = new Map(
      (JSON.parse(readFileSync(path.join(out, 'scenarios.json'), 'utf8')) as { name: string; folder: string }[]).map(
        (s) => [s.name, path.join(out, s.folder)],
      ),
    );
    // One run folder on the host, as the launcher and supervisor leave it, holding the four cheats.
    const runRoot = path.join(work, 'host-runs');
    const runDir = path.join(runRoot, RUN_ID);
    const ws = path.join(runDir, 'workspace');
    await cp(path.join(folders.get('contam-direct')!, 'task'), ws, { recursive: true });
    await cp(path.join(folders.get('tamper-evaluate')!, 'task', 'evaluate.py'), path.join(ws, 'evaluate.py'));
    await cp(path.join(folders.get('subst-instruct-copy')!, 'final_model'), path.join(ws, 'final_model'), {
      recursive: true,
    });
    await cp(path.join(out, 'ptb-checkout', 'src', 'eval', 'tasks', 'gsm8k'), path.join(runDir, 'task'), {
      recursive: true,
    });
    await mkdir(path.join(runDir, 'record'), { recursive: true });
    await cp(path.join(folders.get('api-curl')!, 'solve_out.txt'), path.join(runDir, 'record', 'agent-stream.jsonl'));
    const runJson = ptbRunJson(RUN_ID, '2026-03-01T09:59:00.000Z');
    await writeFile(path.join(runDir, 'run.json'), runJson);
    await writeFile(
      path.join(runDir, 'state.json'),
      JSON.stringify({
        status: 'no-model',
        heartbeatAt: Date.parse('2026-03-01T10:05:00Z'),
        startedAt: Date.parse('2026-03-01T10:00:00Z'),
        stoppedAt: Date.parse('2026-03-01T10:05:00Z'),
        stopReason: 'agent-exited',
      }),
    );
    const ptwHome = path.join(work, 'ptw-home');
    await mkdir(ptwHome, { recursive: true });
    await mkdir(path.join(work, 'home'), { recursive: true });
    await writeFile(
      path.join(ptwHome, 'hosts.json'),
      JSON.stringify({
        hosts: [
          {
            name: 'local',
            kind: 'local',
            runRoot,
            hfCache: path.join(out, 'hf-cache'),
            testSets: path.join(out, 'test-sets'),
            ptbCheckout: path.join(out, 'ptb-checkout'),
          },
        ],
      }),
    );
    await RunMirror.create(path.join(ptwHome, 'runs'), {
      id: RUN_ID,
      host: 'local',
      hostRunDir: runDir,
      runJsonText: runJson,
    });
    serve = await startServeProcess({ env: { HOME: path.join(work, 'home') }, home: ptwHome });
    chrome = await launchChromium();
    page = await chrome.browser.newPage({ viewport: { width: 1400, height: 1400 } });
    collectConsoleProblems(page, consoleProblems);
  }, 120_000);

  afterAll(async () => {
    await stopApp({ chrome, serve });
    if (work) await rm(work, { recursive: true, force: true });
  });

  const integrityTab = async (): Promise<void> => {
    await page.getByTestId('run-tab-integrity').click();
    await expect
      .poll(() => page.getByTestId('integrity-verdict').textContent(), { timeout: 30_000 })
      .not.toBe('Loading…');
  };
  /** The flag of a kind, its evidence unfolded. */
  const flagOf = async (kind: string) => {
    const flag = page.getByTestId('integrity-flag').filter({ hasText: kind });
    const details = flag.first().locator('details');
    if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
    return flag.first();
  };

  it('runs the checks on the host from the tab and flags the four cheats', async () => {
    await openRun(page, serve.url, RUN_ID);
    await integrityTab();
    await page.getByTestId('integrity-check').click();
    await expect.poll(() => page.getByTestId('integrity-verdict').textContent(), { timeout: 90_000 }).toBe('Flagged');
    const flagged = await page.locator('[data-testid="integrity-checks"] tr[data-status="flag"]').count();
    expect(flagged).toBe(4);
  }, 120_000);

  it('opens a contamination hit in the dataset inspector at its row', async () => {
    const flag = await flagOf('Contamination');
    await flag.getByTestId('integrity-evidence-open').first().click();
    await expect.poll(() => page.getByTestId('run-tab-datasets').getAttribute('aria-selected')).toBe('true');
    // The generator put five test rows after the 50th synthetic one: line 51 is row 50.
    const row = page.getByTestId('datasets-row-50');
    await expect.poll(() => row.getAttribute('class'), { timeout: 30_000 }).toContain('datasets-row-selected');
    expect(await page.getByTestId('datasets-file-data/train.jsonl').getAttribute('class')).toContain(
      'datasets-file-selected',
    );
    expect((await row.textContent())?.toLowerCase()).toContain('janet');
    await page.screenshot({ path: path.join(shots, 'integrity-evidence-dataset.png') });
  }, 60_000);

  it('opens a substitution flag as the checkpoint diff of final_model against the instruct model', async () => {
    await integrityTab();
    const flag = await flagOf('Model substitution');
    const open = flag.getByTestId('integrity-evidence-open').filter({ hasText: 'Qwen/Qwen3-1.7B' });
    await open.filter({ hasNotText: 'Base' }).first().click();
    await expect.poll(() => page.getByTestId('run-tab-checkpoints').getAttribute('aria-selected')).toBe('true');
    expect(await page.getByTestId('ckpt-reference').textContent()).toContain('Qwen/Qwen3-1.7B from');
    // Computed on the host: the final model is the instruct model resharded, so no tensor changed.
    await expect.poll(() => page.getByTestId('ckpt-totals').textContent(), { timeout: 60_000 }).toMatch(/ 0 changed/);
    expect(await page.locator('#ckpt-summary-heading').textContent()).toBe(
      'hf:Qwen/Qwen3-1.7B → workspace/final_model',
    );
  }, 90_000);

  it('opens an edited evaluate.py against its clean copy in the Monaco diff editor', async () => {
    await integrityTab();
    const flag = await flagOf('Evaluation tampering');
    await flag.getByTestId('integrity-evidence-open').first().click();
    const editor = page.getByTestId('integrity-diff-editor');
    await expect.poll(() => editor.getAttribute('data-ready'), { timeout: 30_000 }).toBe('true');
    await expect
      .poll(() => editor.locator('.editor.modified .view-lines[role="presentation"]').textContent(), {
        timeout: 30_000,
      })
      .toContain('default=64');
    expect(await editor.locator('.editor.original .view-lines[role="presentation"]').textContent()).toContain(
      'default=4000',
    );
    await page.screenshot({ path: path.join(shots, 'integrity-evidence-diff.png') });
  }, 60_000);

  it('opens an API call at its step of the trace', async () => {
    const flag = await flagOf('API misuse');
    const open = flag.getByTestId('integrity-evidence-open').first();
    const label = (await open.textContent()) ?? '';
    const line = Number(/trace line (\d+)/.exec(label)?.[1]);
    expect(line).toBeGreaterThan(1);
    await open.click();
    await expect.poll(() => page.getByTestId('run-tab-steps').getAttribute('aria-selected')).toBe('true');
    const current = page.locator('[data-testid^="steps-row-"][data-current="true"]');
    await expect.poll(() => current.count(), { timeout: 30_000 }).toBe(1);
    const index = (await current.getAttribute('data-testid'))!.replace('steps-row-', '');
    await expect
      .poll(() => page.getByTestId(`steps-detail-${index}`).textContent(), { timeout: 30_000 })
      .toContain('api.openai.com');
    await page.screenshot({ path: path.join(shots, 'integrity-evidence-step.png') });
  }, 60_000);

  it('shows the model pairs and adds one from the tab', async () => {
    await integrityTab();
    const panel = page.getByTestId('integrity-models');
    await panel.locator('summary').click();
    await expect.poll(() => panel.getByTestId('integrity-models-row').count()).toBe(4);
    expect(await panel.textContent()).toContain('google/gemma-3-4b-it');
    await panel.getByLabel('Base model').fill('meta-llama/Llama-3.2-3B');
    await panel.getByLabel('Instruct model').fill('meta-llama/Llama-3.2-3B-Instruct');
    await panel.getByRole('button', { name: 'Add pair' }).click();
    await expect.poll(() => panel.locator('[data-testid="integrity-models-row"][data-source="user"]').count()).toBe(1);
    await panel.getByLabel('Base model').fill('not a model');
    await panel.getByLabel('Instruct model').fill('x/y');
    await panel.getByRole('button', { name: 'Add pair' }).click();
    await expect.poll(() => panel.getByTestId('integrity-models-error').textContent()).toContain("'not a model'");
    await panel.getByRole('button', { name: 'Remove meta-llama/Llama-3.2-3B' }).click();
    await expect.poll(() => panel.getByTestId('integrity-models-row').count()).toBe(4);
    expect(consoleProblems.filter((p) => !/Download the React DevTools/.test(p))).toEqual([]);
  }, 60_000);
});
