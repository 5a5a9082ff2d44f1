// The live terminal end to end: `ptw serve` in Chromium with a `local` host on a real dockerd, a real run whose
// agent prints numbered lines. Its output shows in the Terminal tab (read through the test driver, `?testDriver=1`),
// the search finds a line, a second page watches the same run at the same time, and the peek shell runs a command
// in the sandbox and is recorded in the run's timeline.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PtwTestDriver } from '../../src/renderer/live/test-driver';
import { chromiumAvailability, isAlive, launchChromium, type LaunchedChromium } from '../support/chromium';
import { runPtw } from '../support/run-cli';
import { startTestRun } from '../support/run-test-host';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { startTestDockerd, type TestDockerd } from '../support/test-dockerd';
import { describeWithTestHost } from '../support/test-host-availability';
import { buildDebianImage } from '../support/test-images';
import { collectConsoleProblems, stopApp } from '../support/e2e-app';
import { castScreen, floodAgent } from '../support/live-screens';
import { waitForProcessExit } from '../support/process-tree';

const available = chromiumAvailability();
const shots = path.resolve('test-results', 'screenshots');
const PYTHON_IMAGE = 'ptw-test/python:1';
const LINES = 400;

/** Numbered lines (multi-byte text and colour included), one findable needle, then it idles so the run stays live. */
const AGENT = String.raw`
import sys, time
for n in range(1, ${LINES} + 1):
    sys.stdout.write("\033[3%dmline %04d\033[0m äöü→✓ the quick brown fox\n" % (n % 8, n))
    if n == 250:
        sys.stdout.write("needle-e2e-7f3a found here\n")
    if n % 100 == 0:
        sys.stdout.flush()
        time.sleep(0.2)
sys.stdout.write("all lines written\n")
sys.stdout.flush()
time.sleep(90)
`;

async function supervisorPids(runRoot: string): Promise<number[]> {
  if (!existsSync(runRoot)) return [];
  const pids: number[] = [];
  for (const id of await readdir(runRoot)) {
    const text = await readFile(path.join(runRoot, id, '.supervisor', 'supervisor.pid'), 'utf8').catch(() => '');
    const pid = Number.parseInt(text, 10);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

function driver(page: Page): {
  text(name?: string): Promise<string>;
  search(term: string, previous?: boolean): Promise<boolean>;
  selection(): Promise<string>;
  renderer(): Promise<string>;
} {
  return {
    text: (name = 'terminal') =>
      page.evaluate(
        (n) => (window as unknown as { __ptwTestDriver: PtwTestDriver }).__ptwTestDriver.terminalText(n),
        name,
      ),
    search: (term, previous = false) =>
      page.evaluate(
        ([t, p]) =>
          (window as unknown as { __ptwTestDriver: PtwTestDriver }).__ptwTestDriver.search(t, { previous: p }),
        [term, previous] as const,
      ),
    selection: () =>
      page.evaluate(() => (window as unknown as { __ptwTestDriver: PtwTestDriver }).__ptwTestDriver.selection()),
    renderer: () =>
      page.evaluate(() => (window as unknown as { __ptwTestDriver: PtwTestDriver }).__ptwTestDriver.renderer()),
  };
}

describeWithTestHost('the live terminal in Chromium over ptw serve', () => {
  let work: string;
  let runRoot: string;
  let ptwHome: string;
  let home: string;
  let dockerd: TestDockerd;
  let serve: ServeProcess;
  let chrome: LaunchedChromium;
  const pages: Page[] = [];
  let runId = '';
  const consoleProblems: string[] = [];
  const ptw = (args: string[]) => runPtw(args, { HOME: home, PTW_HOME: ptwHome }, 120_000);

  beforeAll(async () => {
    if (!available.ok) throw new Error(`the live terminal e2e test needs Chromium: ${available.reason}`);
    await mkdir(shots, { recursive: true });
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-e2e-live-'));
    runRoot = path.join(work, 'runs');
    dockerd = await startTestDockerd();
    await buildDebianImage(dockerd.docker, PYTHON_IMAGE, { packages: ['python3'] });
    ptwHome = path.join(work, 'ptw-home');
    home = path.join(work, 'home');
    await mkdir(ptwHome, { recursive: true });
    await mkdir(home, { recursive: true });
    const host = {
      name: 'box',
      kind: 'local',
      dockerSocket: dockerd.socketPath,
      runRoot,
      requiredImages: [PYTHON_IMAGE],
    };
    await writeFile(path.join(ptwHome, 'hosts.json'), JSON.stringify({ hosts: [host] }));
    serve = await startServeProcess({ env: { HOME: home }, home: ptwHome });
    chrome = await launchChromium();
    runId = await startTestRun(ptw, 'box', { agent: 'custom', command: ['python3', '-c', AGENT], budget: '3m' });
  });

  afterAll(async () => {
    await stopApp({ chrome, serve });
    const supervisors = runRoot ? await supervisorPids(runRoot) : [];
    for (const pid of supervisors) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await dockerd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    // Gone, or a zombie nobody reaps yet (the supervisor was detached from us): either way not running.
    for (const pid of supervisors) expect(await waitForProcessExit(pid, 10_000)).toBe(true);
  });

  async function openTerminal(): Promise<Page> {
    const page = await chrome.browser.newPage({ viewport: { width: 1280, height: 1100 } });
    collectConsoleProblems(page, consoleProblems);
    await page.goto(serve.pageUrl('testDriver=1'));
    await expect.poll(() => page.getByTestId('connection-footer').getAttribute('data-connection')).toBe('online');
    await page.getByTestId('nav-runs').click();
    await page.getByTestId(`run-row-${runId}`).click();
    await expect.poll(() => page.getByTestId('run-detail').isVisible(), { timeout: 30_000 }).toBe(true);
    await page.getByTestId('run-tab-terminal').click();
    await expect.poll(() => page.getByTestId('live-terminal-screen').isVisible()).toBe(true);
    pages.push(page);
    return page;
  }

  it('shows the agent’s output in the Terminal tab, every line once and in order', async () => {
    const page = await openTerminal();
    const d = driver(page);
    await expect.poll(() => d.text(), { timeout: 90_000 }).toContain('all lines written');
    const text = await d.text();
    const numbered = text.split('\n').filter((l) => /^line \d{4} /.test(l));
    expect(numbered).toHaveLength(LINES);
    numbered.forEach((line, i) =>
      expect(line).toBe(`line ${String(i + 1).padStart(4, '0')} äöü→✓ the quick brown fox`),
    );
    expect(await page.getByTestId('live-status').getAttribute('data-phase')).toBe('live');
    // Headless Chromium here has no GPU: its GL is SwiftShader, detected as software, so the DOM renderer is used.
    expect(await d.renderer()).toMatch(/^dom /);
    // The scrollbar does not flash per scrolled line (terminal-surface.ts reaches into xterm's viewport for this).
    expect(await d.renderer()).toMatch(/quiet scrollbar$/);
    await page.screenshot({ path: path.join(shots, 'live-terminal.png') });
  });

  it('finds a string with the search box and through the driver', async () => {
    const page = pages[0]!;
    const d = driver(page);
    expect(await d.search('needle-e2e-7f3a')).toBe(true);
    expect(await d.selection()).toBe('needle-e2e-7f3a');
    expect(await d.search('no-such-text-anywhere')).toBe(false);
    await page.getByTestId('live-search-input').fill('line 0123');
    await page.getByTestId('live-search-next').click();
    await expect.poll(() => d.selection()).toBe('line 0123');
    await page.getByTestId('live-search-input').fill('absent-zzz');
    await page.getByTestId('live-search-next').click();
    await expect.poll(() => page.getByTestId('live-search-miss').isVisible()).toBe(true);
    await page.screenshot({ path: path.join(shots, 'live-terminal-search.png') });
  });

  it('lets a second page watch the same run at the same time, each with its own stream', async () => {
    const second = await openTerminal();
    await expect.poll(() => driver(second).text(), { timeout: 60_000 }).toContain('all lines written');
    const first = await driver(pages[0]!).text();
    const other = await driver(second).text();
    expect(other).toBe(first);
    expect(await pages[0]!.getByTestId('live-status').getAttribute('data-phase')).toBe('live');
  });

  it('opens a peek shell in the sandbox, clearly marked, and records it in the run', async () => {
    const page = pages[0]!;
    await page.getByTestId('run-tab-peek').click();
    await page.getByTestId('peek-open').click();
    await expect
      .poll(() => page.getByTestId('peek-banner').textContent())
      .toContain('Peek shell — you are typing into the agent’s sandbox');
    await expect
      .poll(() => page.getByTestId('peek-shell').getByTestId('live-status').getAttribute('data-phase'), {
        timeout: 40_000,
      })
      .toBe('live');
    await page.getByTestId('peek-screen').click();
    await page.keyboard.type('echo peek-$((6*7)) in $PWD\n');
    await expect.poll(() => driver(page).text('peek'), { timeout: 20_000 }).toContain('peek-42 in /workspace');
    await page.screenshot({ path: path.join(shots, 'live-peek-shell.png') });
    // The supervisor recorded the intervention; the Overview's timeline shows it.
    const events = await readFile(path.join(runRoot, runId, 'record', 'events.jsonl'), 'utf8');
    expect(events).toMatch(/"type": ?"intervention".*"action": ?"peek-shell"/);
    await page.getByTestId('run-tab-overview').click();
    await expect
      .poll(() => page.getByTestId('run-timeline').textContent(), { timeout: 20_000 })
      .toContain('Shell opened in the sandbox');
  });

  it('catches up with a flood: jumps to the present, says what it skipped with Replay at that moment, exact screen', async () => {
    // A second run floods ~10 MB and then idles (so the terminal is still followed on the host); the page opens its
    // terminal once the flood is recorded, 10 MB behind: it must skip to a snapshot, not render the backlog.
    const floodId = await startTestRun(ptw, 'box', {
      agent: 'custom',
      command: ['python3', '-c', floodAgent(200_000, 60)],
      budget: '3m',
    });
    const castFile = path.join(runRoot, floodId, 'record', 'terminal.cast');
    const recorded = async () => (await readFile(castFile, 'utf8').catch(() => '')).includes('flood done');
    await expect.poll(recorded, { timeout: 120_000, interval: 500 }).toBe(true);
    const cast = await readFile(castFile, 'utf8');
    const expected = await castScreen(cast);

    const page = await chrome.browser.newPage({ viewport: { width: 1280, height: 1100 } });
    collectConsoleProblems(page, consoleProblems);
    await page.goto(serve.pageUrl('testDriver=1'));
    await page.getByTestId('nav-runs').click();
    await page.getByTestId(`run-row-${floodId}`).click();
    await page.getByTestId('run-tab-terminal').click();
    const screen = () =>
      page.evaluate(() => (window as unknown as { __ptwTestDriver: PtwTestDriver }).__ptwTestDriver.screen());
    await expect.poll(screen, { timeout: 60_000, interval: 250 }).toBe(expected);
    expect(await page.getByTestId('live-status').getAttribute('data-phase')).toBe('live');
    const skipped = page.getByTestId('live-skipped');
    await expect.poll(() => skipped.textContent()).toMatch(/^Skipped \d+\.\d MiB of fast output/);
    const skippedBytes = Number(await skipped.getAttribute('data-skipped-bytes'));
    expect(skippedBytes).toBeGreaterThan(4 * 1024 * 1024);
    // Far less was written into xterm than the agent wrote: the backlog was skipped, not rendered.
    const written = await page.evaluate(() =>
      (window as unknown as { __ptwTestDriver: PtwTestDriver }).__ptwTestDriver.written(),
    );
    expect(written).toBeLessThan(cast.length / 4);
    await page.screenshot({ path: path.join(shots, 'live-terminal-catch-up.png') });
    // The link opens Replay (at the moment of the skip: the run position the Replay tab starts from).
    await page.getByTestId('live-skipped-replay').click();
    await expect.poll(() => page.getByTestId('run-tab-replay').getAttribute('aria-selected')).toBe('true');
    await expect
      .poll(
        async () => (await page.getByTestId('replay').isVisible()) || page.getByTestId('replay-loading').isVisible(),
      )
      .toBe(true);
    await page.close();
  });

  it('ran without CSP violations or console errors', () => {
    expect(consoleProblems).toEqual([]);
  });
});
