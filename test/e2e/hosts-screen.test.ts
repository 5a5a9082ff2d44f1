// The Hosts screen end to end: `ptw serve` in Chromium against a real sshd + dockerd on this machine, with
// nvidia-smi on the SSH PATH replaying a real H100 capture. A host is added through the form, preflight asks
// about the unknown host key in a dialog, and the checklist fills in live from progress events.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumAvailability, launchChromium, type LaunchedChromium } from '../support/chromium';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { describeWithTestHost } from '../support/test-host-availability';
import { startGpuTestHost, type TestHost } from '../support/test-host';
import { collectConsoleProblems, stopApp } from '../support/e2e-app';

const available = chromiumAvailability();
if (!available.ok) console.warn(`hosts e2e: ${available.reason}`);
const shots = path.resolve('test-results', 'screenshots');

/** What a MutationObserver in the page saw while preflight ran (installed by `watchPreflight`). */
interface Seen {
  /** `id:status` each time a check row appeared or changed status, in order. */
  statuses: string[];
  /** How many rows the checklist had each time it changed. */
  rowCounts: number[];
  hostKeyDialogs: number;
  progressShown: boolean;
}

describeWithTestHost('Hosts screen in Chromium over ptw serve, against a real test host', () => {
  let work: string;
  let host: TestHost;
  let serve: ServeProcess;
  let chrome: LaunchedChromium;
  let page: Page;
  const consoleProblems: string[] = [];

  beforeAll(async () => {
    if (!available.ok) throw new Error(`the hosts e2e test needs Chromium: ${available.reason}`);
    await mkdir(shots, { recursive: true });
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-e2e-hosts-'));
    host = await startGpuTestHost(work, { nvidiaSmi: 'load' });
    // HOME is a fresh temp dir: the developer's own ~/.ssh (known_hosts, config, keys) is never read.
    await mkdir(path.join(work, 'home', '.ssh'), { recursive: true });
    serve = await startServeProcess({ env: { HOME: path.join(work, 'home') }, home: path.join(work, 'ptw-home') });
    chrome = await launchChromium();
    // Tall enough for the whole checklist in one screenshot (the app scrolls inside its main pane, not the page).
    page = await chrome.browser.newPage({ viewport: { width: 1280, height: 1640 } });
    collectConsoleProblems(page, consoleProblems);
  });

  afterAll(async () => {
    // Each helper stops its processes by PID (Chromium, `ptw serve`, sshd with its sessions, dockerd).
    await stopApp({ chrome, serve });
    await host?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Records every status each check row shows, so the test can tell the list filled in live. */
  async function watchPreflight(): Promise<void> {
    await page.evaluate(() => {
      const seen: Seen = { statuses: [], rowCounts: [], hostKeyDialogs: 0, progressShown: false };
      (window as unknown as { __seen: Seen }).__seen = seen;
      const last = new Map<string, string>();
      const dialogs = new Set<Element>();
      const observer = new MutationObserver(() => {
        const rows = [...document.querySelectorAll('[data-testid^="preflight-check-"]')];
        if (seen.rowCounts.at(-1) !== rows.length) seen.rowCounts.push(rows.length);
        for (const row of rows) {
          const id = row.getAttribute('data-testid')!.slice('preflight-check-'.length);
          const status = row.getAttribute('data-status') ?? '';
          if (last.get(id) !== status) {
            last.set(id, status);
            seen.statuses.push(`${id}:${status}`);
          }
        }
        for (const dialog of document.querySelectorAll('[data-testid="host-key-dialog"]')) dialogs.add(dialog);
        seen.hostKeyDialogs = dialogs.size;
        if (document.querySelector('[data-testid="preflight-progress"]')) seen.progressShown = true;
      });
      observer.observe(document.body, { subtree: true, childList: true, attributes: true });
    });
  }

  const seen = (): Promise<Seen> => page.evaluate(() => (window as unknown as { __seen: Seen }).__seen);
  const status = (id: string) => page.getByTestId(`preflight-check-${id}`).getAttribute('data-status');
  /** A check row's text, as the failure message when its status is not the expected one. */
  const row = async (id: string) => (await page.getByTestId(`preflight-check-${id}`).textContent()) ?? '';

  it('adds the host through the form', async () => {
    await page.goto(serve.url);
    await expect.poll(() => page.getByTestId('connection-footer').getAttribute('data-connection')).toBe('online');
    await expect.poll(() => page.getByTestId('empty-hosts').isVisible()).toBe(true);

    await page.getByTestId('add-host-button').click();
    // A mistake first: it is caught in the form, next to its field, and nothing is sent.
    await page.getByTestId('add-host-target').fill(`${host.sshd.username}@127.0.0.1:99999`);
    await page.getByTestId('add-host-submit').click();
    await expect.poll(() => page.getByTestId('add-host-target-error').textContent()).toContain('outside 1–65535');

    await page.getByTestId('add-host-name').fill('gpu1');
    await page.getByTestId('add-host-target').fill(`${host.sshd.username}@127.0.0.1:${host.sshd.port}`);
    await page.getByTestId('add-host-identity').fill(host.sshd.privateKeyPath);
    await page.getByTestId('add-host-docker-socket').fill(host.dockerd.socketPath);
    await page.getByTestId('add-host-run-root').fill(path.join(work, 'runs'));
    await page.getByTestId('add-host-submit').click();

    await expect.poll(() => page.getByTestId('host-row-gpu1').isVisible()).toBe(true);
    expect(await page.getByTestId('host-row-gpu1').textContent()).toContain(
      `${host.sshd.username}@127.0.0.1:${host.sshd.port}`,
    );
    await expect.poll(() => page.getByTestId('host-detail').isVisible()).toBe(true);
    expect(await page.getByTestId('host-state-gpu1').getAttribute('data-status')).toBe('disconnected');
    await expect.poll(() => page.getByTestId('preflight-empty').isVisible()).toBe(true);
  });

  it('asks about the unknown host key with its real fingerprint, then fills the checklist in live', async () => {
    const fingerprint = execFileSync('ssh-keygen', ['-lf', `${host.sshd.hostKeyPath}.pub`], { encoding: 'utf8' }).split(
      ' ',
    )[1];
    expect(fingerprint).toMatch(/^SHA256:/);

    await watchPreflight();
    await page.getByTestId('run-preflight').click();
    const dialog = page.getByTestId('host-key-dialog');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await page.getByTestId('host-key-fingerprint').textContent()).toBe(fingerprint);
    expect(await dialog.textContent()).toContain('can’t be established');
    expect(await page.getByTestId('host-key-type').textContent()).toBe('ssh-ed25519');
    // Modal: keyboard focus starts inside the dialog, on the safe answer.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('host-key-refuse');
    await page.screenshot({ path: path.join(shots, 'hosts-host-key.png') });

    await page.getByTestId('host-key-accept-always').click();
    await expect.poll(() => dialog.count()).toBe(0);

    await expect
      .poll(() => page.getByTestId('preflight-overall').getAttribute('data-status'), { timeout: 90_000 })
      .toBe('fail');
    // SSH passes; on a loaded CI machine its only possible warning is a slow round trip to this same machine.
    const ssh = await row('ssh');
    if ((await status('ssh')) === 'warn') expect(ssh).toMatch(/Round trips above \d+ ms/);
    else expect(await status('ssh'), ssh).toBe('pass');
    expect(await status('docker'), await row('docker')).toBe('pass');
    expect(await status('gpus'), await row('gpus')).toBe('pass');
    expect(await page.getByTestId('preflight-check-gpus').textContent()).toContain('NVIDIA H100 80GB HBM3');
    expect(await status('nvidia-runtime'), await row('nvidia-runtime')).toBe('fail');
    expect(await page.getByTestId('preflight-fix-nvidia-runtime').textContent()).toContain('nvidia-ctk');

    // Live: rows were added one by one, each shown running before its result.
    const live = await seen();
    expect(live.progressShown).toBe(true);
    expect(live.rowCounts.length).toBeGreaterThan(2);
    expect(live.statuses).toContain('ssh:running');
    expect(live.statuses.indexOf('ssh:running')).toBeLessThan(live.statuses.indexOf('ssh:pass'));
    expect(live.statuses.indexOf('docker:running')).toBeLessThan(live.statuses.indexOf('docker:pass'));

    await expect.poll(() => page.getByTestId('host-state-gpu1').getAttribute('data-status')).toBe('connected');
    await expect.poll(() => page.getByTestId('host-last-check-gpu1').textContent()).toContain('not ready');
    // "Accept and remember" wrote the key to PTW_HOME, not to the (temporary) ~/.ssh.
    expect(existsSync(path.join(serve.home, 'known_hosts'))).toBe(true);
    expect(existsSync(path.join(work, 'home', '.ssh', 'known_hosts'))).toBe(false);

    await page.screenshot({ path: path.join(shots, 'hosts-preflight.png') });
  });

  it('does not ask again for a remembered key, and shows the last check after a reload', async () => {
    await page.reload();
    await expect.poll(() => page.getByTestId('preflight-overall').getAttribute('data-status')).toBe('fail');
    expect(await status('nvidia-runtime'), await row('nvidia-runtime')).toBe('fail');

    await watchPreflight();
    await page.getByTestId('run-preflight').click();
    await expect.poll(async () => (await seen()).statuses).toContain('ssh:running');
    await expect
      .poll(() => page.getByTestId('preflight-overall').getAttribute('data-status'), { timeout: 90_000 })
      .toBe('fail');
    expect((await seen()).hostKeyDialogs).toBe(0);
  });

  it('removes the host after confirmation', async () => {
    await page.getByTestId('remove-host').click();
    await page.getByTestId('remove-host-confirm').click();
    await expect.poll(() => page.getByTestId('empty-hosts').isVisible()).toBe(true);
  });

  it('ran without CSP violations or console errors', () => {
    expect(consoleProblems).toEqual([]);
  });
});
