// The Leaderboard page and the run comparison end to end: `ptw serve` in Chromium over a PTW_HOME holding two
// PostTrainBench configurations imported from result folders laid out from the public per-cell CSVs (one cell
// flagged by the judge). The table ranks them with the published scores, a cell lists its runs and why it fell back,
// the heat map and the scatter draw, and two runs ticked in the Runs list compare side by side.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importPtbResults } from '../../src/main/trajectory/ptb-import';
import { chromiumAvailability, launchChromium, type LaunchedChromium } from '../support/chromium';
import { collectConsoleProblems, openRunsSection, stopApp } from '../support/e2e-app';
import { startServeProcess, type ServeProcess } from '../support/serve-process';

const available = chromiumAvailability();
const shots = path.resolve('test-results', 'screenshots');
const fixtures = path.resolve(__dirname, '../fixtures/posttrainbench/website');
const ORG: Record<string, string> = {
  'Qwen3-1.7B-Base': 'Qwen',
  'Qwen3-4B-Base': 'Qwen',
  'SmolLM3-3B-Base': 'HuggingFaceTB',
  'gemma-3-4b-pt': 'google',
};

async function layOut(root: string, method: string, csvFile: string, flag?: string): Promise<void> {
  const [header, ...lines] = readFileSync(path.join(fixtures, csvFile), 'utf8')
    .split(/\r?\n/)
    .filter((l) => l !== '');
  const benchmarks = header!.split(',').slice(1);
  let id = 100;
  for (const line of lines) {
    const [model, ...values] = line.split(',');
    for (const [i, bench] of benchmarks.entries()) {
      const dir = path.join(root, method, `${bench}_${ORG[model!]}_${model}_${id++}`);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'metrics.json'), JSON.stringify({ accuracy: Number(values[i]) }));
      const contaminated = flag === `${bench}/${model}`;
      await writeFile(
        path.join(dir, 'contamination_judgement.txt'),
        contaminated ? 'contamination detected' : 'no contamination detected',
      );
      await writeFile(path.join(dir, 'disallowed_model_judgement.txt'), 'only allowed use detected');
      await writeFile(path.join(dir, 'time_taken.txt'), '08:00:00\n');
      await writeFile(path.join(dir, 'prompt.txt'), `Post-train ${model} for ${bench}.\n`);
    }
  }
}

describe.skipIf(!available.ok)('leaderboard page and run comparison', () => {
  let work: string;
  let serve: ServeProcess | undefined;
  let chrome: LaunchedChromium | undefined;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    await mkdir(shots, { recursive: true });
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-e2e-board-'));
    const home = path.join(work, 'home');
    const results = path.join(work, 'results');
    await layOut(results, 'claude_claude-opus-4-6_10h_run1', 'aggregated_avg_Opus-4.6.csv', 'humaneval/gemma-3-4b-pt');
    await layOut(
      results,
      'claude_non_api_claude-sonnet-4-6_10h_run1',
      'final_claude_non_api_claude-sonnet-4-6_10h.csv',
    );
    const imported = await importPtbResults(path.join(home, 'runs'), results);
    expect(imported.imported).toHaveLength(56);
    serve = await startServeProcess({ home });
    chrome = await launchChromium();
    page = await chrome.browser.newPage({ viewport: { width: 1500, height: 1000 } });
    collectConsoleProblems(page, problems, { warnings: false });
  });

  afterAll(async () => {
    await stopApp({ chrome, serve });
    await rm(work, { recursive: true, force: true });
  });

  it('ranks the imported configurations with their scores, explains a flagged cell, maps and plots them', async () => {
    await openRunsSection(page, serve!.url);
    await page.getByTestId('nav-leaderboard').click();
    await page.getByTestId('leaderboard-table').waitFor();
    // Opus's humaneval × gemma cell is flagged: 23.16 − 0.1061 × (0.1402 − 0.0061) × 100 / 4 = 22.81.
    await expect
      .poll(() => page.getByTestId('leaderboard-row-1').getByTestId('leaderboard-score').textContent())
      .toBe('22.8');
    expect(await page.getByTestId('leaderboard-row-1').textContent()).toContain('claude-opus-4-6');
    expect(await page.getByTestId('leaderboard-row-2').getByTestId('leaderboard-score').textContent()).toBe('16.4');
    expect(await page.getByTestId('leaderboard-row-instruct').getByTestId('leaderboard-score').textContent()).toBe(
      '51.1',
    );
    expect(await page.getByTestId('leaderboard-row-zeroshot').getByTestId('leaderboard-score').textContent()).toBe(
      '7.5',
    );

    await page.getByTestId('leaderboard-row-1').getByTestId('leaderboard-cell-humaneval').click();
    const detail = page.getByTestId('leaderboard-detail-gemma-3-4b-pt');
    await detail.waitFor();
    expect(await detail.textContent()).toMatch(/flagged, counts the zero-shot score instead \(judge: contamination/);
    await page.screenshot({ path: path.join(shots, 'leaderboard-table.png'), fullPage: true });

    await page.getByTestId('leaderboard-tab-heatmap').click();
    await expect.poll(() => page.getByTestId('leaderboard-heatmap').textContent()).toContain('75.9');
    await page.getByTestId('leaderboard-tab-scatter').click();
    await expect.poll(() => page.getByTestId('leaderboard-scatter-chart').getAttribute('data-drawn')).toBe('2');
    await page.screenshot({ path: path.join(shots, 'leaderboard-scatter.png'), fullPage: true });

    await page.getByTestId('leaderboard-tab-table').click();
    await page.getByTestId('leaderboard-filter-benchmark').selectOption('gsm8k');
    await expect
      .poll(() => page.getByTestId('leaderboard-row-2').getByTestId('leaderboard-score').textContent())
      .toBe('25.7');
    expect(problems).toEqual([]);
  });

  it('compares two runs ticked in the Runs list', async () => {
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('compare-runs-button').click();
    const checks = page.locator('[data-testid^="run-compare-check-"]');
    await expect.poll(() => checks.count()).toBe(56);
    await checks.nth(0).check();
    await checks.nth(1).check();
    await page.getByTestId('run-compare-table').waitFor();
    expect(await page.getByTestId('run-compare-metrics').textContent()).toContain('accuracy');
    expect(await page.getByTestId('run-compare-prompts').textContent()).toContain('Post-train');
    await page.screenshot({ path: path.join(shots, 'run-compare.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
