// The Checkpoints tab end to end: `ptw serve` in Chromium, a real rehearsal run on the test host (real sshd and
// dockerd) with two bf16 checkpoints the test writes into its workspace. The tab lists them, the diff runs on the
// host, and the flags, the tensor table, the per-layer heatmap and Monaco's diff editor (under the app's strict CSP)
// show the result.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumAvailability, launchChromium, type LaunchedChromium } from '../support/chromium';
import { startRunTestHost, type RunTestHost } from '../support/run-test-host';
import { representable, rng, writeCheckpoint, type TensorSpec } from '../support/safetensors-writer';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { describeWithTestHost } from '../support/test-host-availability';
import { collectConsoleProblems, openRun, stopApp } from '../support/e2e-app';

const available = chromiumAvailability();
const shots = path.resolve('test-results', 'screenshots');

function tinyModel(seed: number, perturbLayer: number | null): TensorSpec[] {
  const base = rng(1);
  const noise = rng(seed);
  const out: TensorSpec[] = [];
  for (let layer = 0; layer < 4; layer++) {
    for (const kind of ['self_attn.q_proj', 'self_attn.v_proj', 'mlp.up_proj']) {
      const n = 64;
      const raw = Array.from({ length: n }, () => base() - 0.5);
      const values = layer === perturbLayer ? raw.map((v) => v + (noise() - 0.5) * 0.1) : raw;
      out.push({
        name: `model.layers.${layer}.${kind}.weight`,
        dtype: 'BF16',
        shape: [8, 8],
        values: representable('BF16', values),
      });
    }
  }
  return out;
}

describeWithTestHost('checkpoints tab: list, diff on the host, table, heatmap, config diff', () => {
  let t: RunTestHost;
  let serve: ServeProcess;
  let chrome: LaunchedChromium;
  let page: Page;
  let id: string;
  const consoleProblems: string[] = [];

  beforeAll(async () => {
    if (!available.ok) throw new Error(`the checkpoints e2e test needs Chromium: ${available.reason}`);
    await mkdir(shots, { recursive: true });
    t = await startRunTestHost({ nvidiaSmi: 'none' });
    id = await t.startRun({ budget: '2m', env: { PTW_REHEARSAL_SECONDS: '1' } });
    const workspace = path.join(t.runDir(id), 'workspace');
    writeCheckpoint(path.join(workspace, 'ckpt-a'), tinyModel(2, null), {
      config: { model_type: 'llama', rope_theta: 10000 },
    });
    writeCheckpoint(path.join(workspace, 'ckpt-b'), tinyModel(2, 2), {
      config: { model_type: 'llama', rope_theta: 500000 },
    });
    serve = await startServeProcess({ env: { HOME: t.env.HOME!, SSH_AUTH_SOCK: '' }, home: t.env.PTW_HOME! });
    chrome = await launchChromium();
    page = await chrome.browser.newPage({ viewport: { width: 1280, height: 2200 } });
    collectConsoleProblems(page, consoleProblems);
  });

  afterAll(async () => {
    await stopApp({ chrome, serve });
    await t?.cleanup();
  });

  it('lists the checkpoints and diffs two on the host', async () => {
    await openRun(page, serve.url, id);
    await page.getByTestId('run-tab-checkpoints').click();
    await expect.poll(() => page.getByTestId('ckpt-list-row').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
    const list = (await page.getByTestId('ckpt-list').textContent()) ?? '';
    expect(list).toContain('workspace/ckpt-a');
    expect(list).toContain('workspace/ckpt-b');

    await page.getByLabel('A: workspace/ckpt-a').check();
    await page.getByLabel('B: workspace/ckpt-b').check();
    await page.getByTestId('ckpt-diff-start').click();
    await expect
      .poll(() => page.getByTestId('ckpt-flags').textContent(), { timeout: 60_000 })
      .toContain('Partial fine-tune');
    expect(await page.getByTestId('ckpt-totals').textContent()).toContain('12 tensors: 3 changed, 9 identical');
    // How the host computed it: numpy (CI installs python3-numpy) or pure Python with the hint to install it.
    expect(await page.getByTestId('ckpt-engine').textContent()).toMatch(
      /^computed on host with (numpy \d+\.\d+\S*|python), \d+ process(es)?(pure Python: install numpy.*)?$/,
    );
    if (process.env.CI === 'true') {
      expect(await page.getByTestId('ckpt-engine').textContent()).toContain('with numpy');
    }
  });

  it('shows the tensor table sorted by relative change, and the per-layer heatmap', async () => {
    const first = page.getByTestId('ckpt-tensor-row').first();
    expect(await first.textContent()).toMatch(/^model\.layers\.2\./);
    expect(await first.textContent()).toContain('changed');
    await page.getByTestId('ckpt-sort-name').click();
    expect(await page.getByTestId('ckpt-tensor-row').first().textContent()).toMatch(/^model\.layers\.0\.mlp\.up_proj/);
    const caption = (await page.getByTestId('ckpt-heatmap-caption').textContent()) ?? '';
    expect(caption).toContain('1 mlp.up_proj · 2 self_attn.q_proj · 3 self_attn.v_proj');
    // The canvas drew the changed layer (row 2) redder than an unchanged one (row 0).
    const pixels = await page.locator('.ckpt-heatmap-canvas').evaluate((el) => {
      const canvas = el as HTMLCanvasElement;
      const ctx = canvas.getContext('2d')!;
      const ratio = canvas.width / canvas.getBoundingClientRect().width;
      // One readback of the whole canvas (several small ones make Chromium warn).
      const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const at = (row: number) => {
        const i = (Math.floor((row * 14 + 7) * ratio) * canvas.width + Math.floor((44 + 13) * ratio)) * 4;
        return Array.from(image.data.slice(i, i + 4));
      };
      return { changed: at(2), same: at(0) };
    });
    expect(pixels.changed[1]!).toBeLessThan(pixels.same[1]!);
  });

  it('shows config.json side by side in Monaco under the strict CSP', async () => {
    await page.getByTestId('ckpt-config-config.json').click();
    const editor = page.getByTestId('ckpt-config-editor');
    await expect.poll(() => editor.getAttribute('data-ready'), { timeout: 30_000 }).toBe('true');
    await expect
      .poll(() => editor.locator('.editor.original .view-lines[role="presentation"]').textContent(), {
        timeout: 30_000,
      })
      .toContain('10000');
    expect(await editor.locator('.editor.modified .view-lines[role="presentation"]').textContent()).toContain('500000');
    // Monaco marks the changed line on both sides.
    await expect
      .poll(() => editor.locator('.line-insert, .char-insert').count(), { timeout: 30_000 })
      .toBeGreaterThan(0);
    await page.screenshot({ path: path.join(shots, 'checkpoints-tab.png'), fullPage: true });
    expect(consoleProblems.filter((p) => /Content Security Policy|Refused/.test(p))).toEqual([]);
    expect(consoleProblems.filter((p) => !/Download the React DevTools/.test(p))).toEqual([]);
  });
});
