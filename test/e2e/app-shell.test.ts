// The built app in Debian's Chromium over `ptw serve`: the shell renders through the WebSocket transport,
// commands round-trip, events reach a second window, nothing works without the token, and the token never leaks
// (no cookie, no history entry, no Host but the bound one).
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { chromiumAvailability, launchChromium, type LaunchedChromium } from '../support/chromium';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { collectConsoleProblems, stopApp } from '../support/e2e-app';

const available = chromiumAvailability();
if (!available.ok) console.warn(`e2e skipped: ${available.reason}`);
const shots = path.resolve('test-results', 'screenshots');

describe.skipIf(!available.ok && process.env.CI !== 'true')('app shell in Chromium over ptw serve', () => {
  let serve: ServeProcess;
  let chrome: LaunchedChromium;
  const consoleProblems: string[] = [];

  beforeAll(async () => {
    if (!available.ok) throw new Error(`CI needs Chromium for the e2e tests: ${available.reason}`);
    await mkdir(shots, { recursive: true });
    serve = await startServeProcess();
    chrome = await launchChromium();
  });

  afterAll(async () => {
    await stopApp({ chrome, serve });
  });

  async function openApp(url = serve.url): Promise<Page> {
    const page = await chrome.browser.newPage({ viewport: { width: 1280, height: 800 } });
    collectConsoleProblems(page, consoleProblems);
    await page.goto(url);
    return page;
  }

  it('prints a loopback URL with the token in its fragment; without it the page only asks for it', async () => {
    expect(serve.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{48}$/);
    const page = await chrome.browser.newPage();
    const response = await page.goto(serve.origin + '/');
    // The renderer's own files are the app's code (no data): served, but nothing works without the token.
    expect(response?.status()).toBe(200);
    await expect.poll(() => page.textContent('body')).toContain('This page needs its access token');
    await page.close();
  });

  it('keeps the token out of cookies, the history and requests to other servers on 127.0.0.1', async () => {
    // A real second web server on another port of the same address, as any local dev server the user visits.
    const seen: { url: string; cookie: string; referer: string }[] = [];
    const other = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', cookie: req.headers.cookie ?? '', referer: req.headers.referer ?? '' });
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>another local server</title><p>hello</p>');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const otherPort = (other.address() as AddressInfo).port;
    const context = await chrome.browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(serve.url);
      await expect.poll(() => page.getByTestId('connection-footer').getAttribute('data-connection')).toBe('online');
      expect(page.url()).not.toContain(serve.token);
      // Not in the tab's history either: no entry a Back or a history list could show holds it.
      const cdp = await context.newCDPSession(page);
      const history = (await cdp.send('Page.getNavigationHistory')) as { entries: { url: string }[] };
      expect(history.entries.length).toBeGreaterThan(0);
      for (const entry of history.entries) expect(entry.url).not.toContain(serve.token);
      expect(await context.cookies()).toEqual([]);
      // Cookies ignore ports: had the app set one, this visit would carry it to the other server.
      await page.goto(`http://127.0.0.1:${otherPort}/some/page`);
      await expect.poll(() => seen.length).toBeGreaterThan(0);
      for (const request of seen) {
        expect(request.cookie).not.toContain(serve.token);
        expect(request.referer).not.toContain(serve.token);
        expect(request.url).not.toContain(serve.token);
      }
      // Back to the app: it still works from the tab's own storage, with no token in any URL.
      await page.goBack();
      await expect.poll(() => page.getByTestId('connection-footer').getAttribute('data-connection')).toBe('online');
      expect(page.url()).not.toContain(serve.token);
    } finally {
      await context.close();
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  it('refuses a request or WebSocket that names another host (DNS rebinding)', async () => {
    const port = Number(new URL(serve.origin).port);
    const status = (hostHeader: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { Host: hostHeader } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
    expect(await status(`127.0.0.1:${port}`)).toBe(200);
    expect(await status(`attacker.example:${port}`)).toBe(421);
    const upgrade = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${serve.token}`, {
        headers: { Host: `attacker.example:${port}`, Origin: `http://attacker.example:${port}` },
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('error', () => resolve(-1));
    });
    expect(upgrade).toBe(403);
  });

  it('shows the app shell with empty states, talking to main over the WebSocket', async () => {
    const page = await openApp();
    await expect.poll(() => page.getByTestId('connection-footer').getAttribute('data-connection')).toBe('online');
    // app.info round-tripped: the footer shows the version the server reported.
    await expect.poll(() => page.getByTestId('app-version').textContent()).toContain('0.1.0');
    // The token leaves the address bar once read, like Jupyter.
    expect(page.url()).not.toContain('token=');
    await expect.poll(() => page.getByTestId('empty-hosts').isVisible()).toBe(true);
    expect(await page.getByTestId('empty-hosts').textContent()).toContain('ptw host add');
    for (const section of ['runs', 'leaderboard', 'hosts'] as const) {
      await page.getByTestId(`nav-${section}`).click();
      await expect.poll(() => page.getByTestId(`nav-${section}`).getAttribute('aria-current')).toBe('page');
      await expect.poll(() => page.getByTestId(`heading-${section}`).isVisible()).toBe(true);
      await expect.poll(() => page.getByTestId(`empty-${section}`).isVisible()).toBe(true);
    }
    await page.screenshot({ path: path.join(shots, 'app-shell-light.png') });
    await page.close();
  });

  it('follows the OS colour scheme and shows dark when the OS is dark', async () => {
    const page = await chrome.browser.newPage({ colorScheme: 'dark', viewport: { width: 1280, height: 800 } });
    await page.goto(serve.url);
    await expect.poll(() => page.getByTestId('connection-footer').getAttribute('data-connection')).toBe('online');
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = (background.match(/\d+/g) ?? []).map(Number);
    expect((r ?? 255) + (g ?? 255) + (b ?? 255)).toBeLessThan(200);
    await page.screenshot({ path: path.join(shots, 'app-shell-dark.png') });
    await page.close();
  });

  it('sends a theme change from one window to another through prefs.changed', async () => {
    const a = await openApp();
    const b = await openApp();
    for (const p of [a, b]) {
      await expect.poll(() => p.getByTestId('connection-footer').getAttribute('data-connection')).toBe('online');
    }
    await a.getByTestId('theme-select').selectOption('dark');
    await expect.poll(() => b.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await a.getByTestId('theme-select').selectOption('system');
    await expect.poll(() => b.evaluate(() => document.documentElement.dataset.theme ?? 'system')).toBe('system');
    await a.close();
    await b.close();
  });

  it('lists hosts and runs from PTW_HOME, rendering untrusted labels as text', async () => {
    await writeFile(
      path.join(serve.home, 'hosts.json'),
      JSON.stringify({ hosts: [{ name: 'h100-a', kind: 'ssh', hostname: 'gpu1.lab', user: 'ana' }] }),
    );
    // A run's local mirror as the run service writes it: run.json (the spec) and state.json (from the host).
    const runDir = path.join(serve.home, 'runs', 'r-20261123-100000-aaaa');
    await mkdir(runDir, { recursive: true });
    await writeFile(
      path.join(runDir, 'run.json'),
      JSON.stringify({
        schema: 1,
        id: 'r-20261123-100000-aaaa',
        createdAt: '2026-11-23T10:00:00Z',
        spec: {
          host: 'h100-a',
          task: { kind: 'rehearsal' },
          agent: { id: 'rehearsal' },
          label: '<img src=x onerror="window.__pwned=1">',
        },
        supervisor: { budgetSeconds: 300 },
      }),
    );
    await writeFile(
      path.join(runDir, 'state.json'),
      JSON.stringify({
        status: 'scored',
        heartbeatAt: 1,
        evaluation: { attempts: 1, outcome: 'scored', metrics: { accuracy: 0.8 } },
      }),
    );
    const page = await openApp();
    await expect.poll(() => page.getByTestId('hosts-table').textContent()).toContain('ana@gpu1.lab');
    await page.getByTestId('nav-runs').click();
    await expect.poll(() => page.getByTestId('runs-table').textContent()).toContain('<img src=x onerror=');
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.screenshot({ path: path.join(shots, 'runs-list.png') });
    await page.close();
  });

  it('ran without CSP violations or console errors', () => {
    expect(consoleProblems).toEqual([]);
  });
});
