// Run bundles end to end: `ptw serve` in Chromium with an empty PTW_HOME and no host. The Runs screen's empty state
// opens the example run the app ships; its Export tab downloads the bundle over the serve server (a one-time ticket; a
// request without it is refused) and writes one to a path; "Import bundle…" refuses a run that exists and imports
// one that does not.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_BUNDLE } from '../../src/main/runs/bundle-service';
import { importRunBundle, readBundleManifest } from '../../src/main/runs/run-bundle';
import { bundleDownloadPath } from '../../src/shared/contract-bundle';
import { chromiumAvailability, launchChromium, type LaunchedChromium } from '../support/chromium';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { collectConsoleProblems, openRunsSection, stopApp } from '../support/e2e-app';

const available = chromiumAvailability();
if (!available.ok) console.warn(`bundle e2e skipped: ${available.reason}`);
const shots = path.resolve('test-results', 'screenshots');
const example = path.resolve(__dirname, '..', '..', 'resources', EXAMPLE_BUNDLE);

describe.skipIf(!available.ok && process.env.CI !== 'true')('run bundles in Chromium over ptw serve', () => {
  let work: string;
  let ptwHome: string;
  let serve: ServeProcess;
  let chrome: LaunchedChromium;
  let page: Page;
  let exampleId: string;
  const consoleProblems: string[] = [];

  beforeAll(async () => {
    if (!available.ok) throw new Error(`CI needs Chromium for the e2e tests: ${available.reason}`);
    await mkdir(shots, { recursive: true });
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-e2e-bundle-'));
    ptwHome = path.join(work, 'ptw-home');
    await mkdir(path.join(work, 'home'), { recursive: true });
    exampleId = (await readBundleManifest(example)).runId;
    serve = await startServeProcess({ env: { HOME: path.join(work, 'home') }, home: ptwHome });
    chrome = await launchChromium();
    page = await chrome.browser.newPage({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
    collectConsoleProblems(page, consoleProblems, { warnings: false });
  });

  afterAll(async () => {
    await stopApp({ chrome, serve });
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('opens the example run from the empty Runs screen, with no host', async () => {
    await openRunsSection(page, serve.url);
    await expect.poll(() => page.getByTestId('empty-runs').isVisible()).toBe(true);
    await page.getByTestId('open-example-run').click();
    await expect.poll(() => page.getByTestId(`run-row-${exampleId}`).isVisible()).toBe(true);
    await expect.poll(() => page.getByTestId('run-detail-id').textContent()).toBe(exampleId);
    expect(await page.getByTestId('run-detail-status').getAttribute('data-status')).toBe('scored');
    await expect.poll(() => page.getByTestId('run-timeline').isVisible()).toBe(true);
    expect(await page.getByTestId('run-detail-metrics').textContent()).toContain('accuracy');
    // No host, so nothing to catch up with and nothing stale.
    expect(await page.getByTestId('run-detail-sync-error').count()).toBe(0);
    await page.screenshot({ path: path.join(shots, 'bundle-example-run.png') });
  });

  it('downloads the bundle over the serve server, only through a one-time ticket', async () => {
    await page.getByTestId('run-tab-export').click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('bundle-download').click()]);
    expect(download.suggestedFilename()).toBe(`${exampleId}.ptwrun.tar.gz`);
    const saved = path.join(work, 'downloaded.ptwrun.tar.gz');
    await download.saveAs(saved);
    // The same record as the example: every file's hash unchanged by the round trip through the app.
    const [mine, shipped] = await Promise.all([readBundleManifest(saved), readBundleManifest(example)]);
    expect(mine.files).toEqual(shipped.files);
    const checked = await importRunBundle({ runsDir: path.join(work, 'check-runs'), file: saved });
    expect(checked.id).toBe(exampleId);

    // The link the page followed was a one-time ticket: spent now, and the token itself opens nothing.
    expect(download.url()).toMatch(/\?ticket=[0-9a-f]{48}$/);
    expect(download.url()).not.toContain(serve.token);
    expect((await fetch(download.url())).status).toBe(401);
    const bare = await fetch(`${serve.origin}${bundleDownloadPath(exampleId)}`);
    expect(bare.status).toBe(401);
    const withToken = await fetch(`${serve.origin}${bundleDownloadPath(exampleId)}?token=${serve.token}`);
    expect(withToken.status).toBe(401);
    // Without a ticket nothing says whether a run exists.
    const missing = await fetch(`${serve.origin}${bundleDownloadPath('r-20991231-000000-none')}`);
    expect(missing.status).toBe(401);
  });

  it('writes a bundle to a path, refuses to import a run that exists, imports one that does not', async () => {
    const target = path.join(work, 'written.ptwrun.tar.gz');
    await page.getByTestId('bundle-export-path').fill(target);
    await page.getByTestId('bundle-export-submit').click();
    await expect.poll(() => page.getByTestId('bundle-export-result').textContent()).toContain(target);
    expect(existsSync(target)).toBe(true);
    await page.screenshot({ path: path.join(shots, 'bundle-export-tab.png') });

    await page.getByTestId('bundle-import-open').click();
    await page.getByTestId('bundle-import-path').fill(target);
    await page.getByTestId('bundle-import-submit').click();
    await expect
      .poll(() => page.getByTestId('bundle-import-error').textContent())
      .toContain(`Run ${exampleId} already exists`);

    // Gone from this PTW_HOME: the same bundle now imports, and the list says so.
    await rm(path.join(ptwHome, 'runs', exampleId), { recursive: true, force: true });
    await page.getByTestId('bundle-import-submit').click();
    await expect.poll(() => page.getByTestId('bundle-import-panel').count()).toBe(0);
    await expect.poll(() => page.getByTestId(`run-row-${exampleId}`).isVisible()).toBe(true);
    const sync = JSON.parse(await readFile(path.join(ptwHome, 'runs', exampleId, 'sync.json'), 'utf8')) as {
      imported: { kind: string; source: string };
    };
    expect(sync.imported).toMatchObject({ kind: 'bundle', source: target });
    expect(consoleProblems).toEqual([]);
  });
});
