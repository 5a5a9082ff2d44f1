// The launch form end to end: `ptw serve` in Chromium with one `local` host. The Runs section opens New run,
// the form fills its defaults from the host and the agent catalog, checks the spec with the same validation
// `runs.start` uses (a bad budget is caught next to its field, nothing is sent), and says how to provide the
// agent's key in serve mode, where there is no keychain. With a real dockerd, "Rehearse first" then runs the
// built-in rehearsal through to its score, extended once on the way.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailability, isAlive, launchChromium, type LaunchedChromium } from '../support/chromium';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { startTestDockerd, type TestDockerd } from '../support/test-dockerd';
import { describeWithTestHost } from '../support/test-host-availability';
import { buildDebianImage } from '../support/test-images';
import { collectConsoleProblems, openRunsSection, stopApp } from '../support/e2e-app';
import { waitForProcessExit } from '../support/process-tree';

const available = chromiumAvailability();
if (!available.ok) console.warn(`launch e2e skipped: ${available.reason}`);
const shots = path.resolve('test-results', 'screenshots');

describe.skipIf(!available.ok && process.env.CI !== 'true')('launch screen in Chromium over ptw serve', () => {
  let work: string;
  let serve: ServeProcess;
  let chrome: LaunchedChromium;
  let page: Page;
  const consoleProblems: string[] = [];
  /** Every command the page sent over the WebSocket, by name. */
  const sent: string[] = [];

  beforeAll(async () => {
    if (!available.ok) throw new Error(`CI needs Chromium for the e2e tests: ${available.reason}`);
    await mkdir(shots, { recursive: true });
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-e2e-launch-'));
    const ptwHome = path.join(work, 'ptw-home');
    await mkdir(ptwHome, { recursive: true });
    await mkdir(path.join(work, 'home'), { recursive: true });
    await writeFile(path.join(ptwHome, 'hosts.json'), JSON.stringify({ hosts: [{ name: 'local', kind: 'local' }] }));
    serve = await startServeProcess({
      // A fresh HOME, and no agent keys from the developer's own environment (empty means unset to the store).
      env: { HOME: path.join(work, 'home'), PTW_SECRET_ANTHROPIC_API_KEY: '', PTW_SECRET_CLAUDE_CODE_OAUTH_TOKEN: '' },
      home: ptwHome,
    });
    chrome = await launchChromium();
    // Tall enough for the whole form in one screenshot (the app scrolls inside its main pane, not the page).
    page = await chrome.browser.newPage({ viewport: { width: 1280, height: 1500 } });
    collectConsoleProblems(page, consoleProblems);
    page.on('websocket', (ws) =>
      ws.on('framesent', ({ payload }) => {
        try {
          const frame = JSON.parse(String(payload)) as { cmd?: unknown };
          if (typeof frame.cmd === 'string') sent.push(frame.cmd);
        } catch {
          // not a request frame
        }
      }),
    );
  });

  afterAll(async () => {
    // Each helper stops its process by PID (Chromium, `ptw serve`).
    await stopApp({ chrome, serve });
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('opens New run from the Runs section, on the one host', async () => {
    await openRunsSection(page, serve.url);
    await expect.poll(() => page.getByTestId('empty-runs').isVisible()).toBe(true);
    expect(await page.getByTestId('empty-runs').textContent()).toContain('Rehearse first');

    await page.getByTestId('new-run-button').click();
    await expect.poll(() => page.getByTestId('launch-form').isVisible()).toBe(true);
    expect(await page.getByTestId('launch-host').inputValue()).toBe('local');
    await expect.poll(() => page.getByTestId('launch-host-status').textContent()).toContain('never checked');
    // Defaults: Claude Code with its first example model, 10 hours. The host has no PostTrainBench checkout,
    // so the task is the rehearsal, and the form says why.
    expect(await page.getByTestId('launch-agent').inputValue()).toBe('claude-code');
    expect(await page.getByTestId('launch-model').inputValue()).toBe('claude-opus-4-6');
    expect(await page.getByTestId('launch-budget').inputValue()).toBe('10h');
    expect(await page.getByTestId('launch-budget-echo').textContent()).toContain('10h = 10 hours');
    await expect.poll(() => page.getByTestId('launch-catalog-note').textContent()).toContain('--ptb-checkout');
    expect(await page.getByTestId('launch-task').inputValue()).toBe('rehearsal');
    expect(await page.getByTestId('launch-rehearse').isEnabled()).toBe(true);
    // And the rehearsal with the real CLI the form names, against the scripted model (docs/model-script.md).
    expect(await page.getByTestId('launch-rehearse-real').textContent()).toBe('Rehearse with Claude Code');
    expect(await page.getByTestId('launch-rehearse-real-box').textContent()).toContain('scripted model');
  });

  it('says how to provide the agent’s key in serve mode, where there is no keychain', async () => {
    await expect.poll(() => page.getByTestId('launch-key-ANTHROPIC_API_KEY').getAttribute('data-found')).toBe('none');
    await expect
      .poll(() => page.getByTestId('launch-key-instruction-ANTHROPIC_API_KEY').textContent())
      .toContain('PTW_SECRET_ANTHROPIC_API_KEY');
    expect(await page.getByTestId('launch-key-input-ANTHROPIC_API_KEY').count()).toBe(0);
  });

  it('catches a bad budget next to its field and sends nothing', async () => {
    await page.getByTestId('launch-budget').fill('10x');
    await page.getByTestId('launch-submit').click();
    await expect
      .poll(() => page.getByTestId('launch-budget-error').textContent())
      .toContain('"x" in "10x" is not a unit');
    expect(await page.getByTestId('launch-budget').getAttribute('aria-invalid')).toBe('true');

    // A second mistake, in another field: both are shown at once.
    await page.getByTestId('launch-model').fill('claude opus');
    await expect.poll(() => page.getByTestId('launch-model-error').textContent()).toContain('no spaces');
    await page.screenshot({ path: path.join(shots, 'launch-form.png') });

    await page.getByTestId('launch-model').fill('claude-sonnet-4-6');
    await page.getByTestId('launch-budget').fill('1h30m');
    await expect.poll(() => page.getByTestId('launch-budget-error').count()).toBe(0);
    expect(await page.getByTestId('launch-budget-echo').textContent()).toContain('1h30m = 1.5 hours');
    // Enter in a field does not launch: a run starts from the button only.
    await page.getByTestId('launch-budget').press('Enter');
    await page.waitForTimeout(300);
    expect(sent).not.toContain('runs.start');
  });

  it('checks the collapsed limits too, and opens them to show a mistake', async () => {
    await page.getByTestId('launch-advanced').locator('summary').click();
    await page.getByTestId('launch-env-add').click();
    await page.getByTestId('launch-env-name-0').fill('HF_TOKEN');
    await page.getByTestId('launch-env-value-0').fill('x');
    await page.getByTestId('launch-pids').fill('10');
    // Closed again: the submit must open it, or the errors would be invisible.
    await page.getByTestId('launch-advanced').locator('summary').click();
    await page.getByTestId('launch-submit').click();
    await expect.poll(() => page.getByTestId('launch-advanced').getAttribute('open')).not.toBeNull();
    expect(await page.getByTestId('launch-env-error').textContent()).toContain('looks like a credential');
    expect(await page.getByTestId('launch-pids-error').textContent()).toContain('at least 64');
    await page.screenshot({ path: path.join(shots, 'launch-form-advanced.png') });

    await page.getByTestId('launch-env-remove-0').click();
    await page.getByTestId('launch-pids').fill('');
    await expect.poll(() => page.getByTestId('launch-env-error').count()).toBe(0);
    expect(sent).not.toContain('runs.start');
  });

  it('shows main’s refusal in full and keeps the form', async () => {
    // Valid as far as the form can tell, but the agent has no key here: main refuses the launch.
    await page.getByTestId('launch-submit').click();
    await expect.poll(() => page.getByTestId('launch-error').isVisible(), { timeout: 30_000 }).toBe(true);
    expect(sent).toContain('runs.start');
    const message = (await page.getByTestId('launch-error').locator('.host-error-message').textContent()) ?? '';
    expect(message.length).toBeGreaterThan(20);
    expect(await page.getByTestId('launch-form').isVisible()).toBe(true);
    expect(await page.getByTestId('launch-submit').isEnabled()).toBe(true);
    await page.screenshot({ path: path.join(shots, 'launch-form-refused.png') });
  });

  it('closes with Cancel', async () => {
    await page.getByTestId('launch-cancel').click();
    await expect.poll(() => page.getByTestId('empty-runs').isVisible()).toBe(true);
  });

  it('ran without CSP violations or console errors', () => {
    expect(consoleProblems).toEqual([]);
  });
});

/** The rehearsal agent is a POSIX sh + python3 script; the evaluator runs python3 too. */
const PYTHON_IMAGE = 'ptw-test/python:1';

/** Supervisors the launch started on this machine (the `local` host), by the PID files in their run folders. */
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

describeWithTestHost('Rehearse first, against a real dockerd', () => {
  let work: string;
  let runRoot: string;
  let dockerd: TestDockerd;
  let serve: ServeProcess;
  let chrome: LaunchedChromium;
  let page: Page;
  const consoleProblems: string[] = [];

  beforeAll(async () => {
    if (!available.ok) throw new Error(`the rehearsal e2e test needs Chromium: ${available.reason}`);
    await mkdir(shots, { recursive: true });
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-e2e-rehearse-'));
    runRoot = path.join(work, 'runs');
    dockerd = await startTestDockerd();
    await buildDebianImage(dockerd.docker, PYTHON_IMAGE, { packages: ['python3'] });
    const ptwHome = path.join(work, 'ptw-home');
    await mkdir(ptwHome, { recursive: true });
    await mkdir(path.join(work, 'home'), { recursive: true });
    // A `local` host on the test dockerd: no SSH, the supervisor runs on this machine.
    const host = {
      name: 'box',
      kind: 'local',
      dockerSocket: dockerd.socketPath,
      runRoot,
      requiredImages: [PYTHON_IMAGE],
    };
    await writeFile(path.join(ptwHome, 'hosts.json'), JSON.stringify({ hosts: [host] }));
    serve = await startServeProcess({ env: { HOME: path.join(work, 'home') }, home: ptwHome });
    chrome = await launchChromium();
    page = await chrome.browser.newPage({ viewport: { width: 1280, height: 1500 } });
    collectConsoleProblems(page, consoleProblems);
  });

  afterAll(async () => {
    await stopApp({ chrome, serve });
    // A supervisor outlives the app by design; one a failed test left running is stopped here, by PID.
    const supervisors = runRoot ? await supervisorPids(runRoot) : [];
    for (const pid of supervisors) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await dockerd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    // Gone, or a zombie nobody reaps yet (the supervisor was detached from us): either way not running.
    for (const pid of supervisors) expect(await waitForProcessExit(pid, 10_000)).toBe(true);
  });

  it('starts the rehearsal from the empty Runs section and selects it', async () => {
    await openRunsSection(page, serve.url);
    await page.getByTestId('empty-rehearse').click();
    // Opened to rehearse: the button has the focus, and it says what it checks.
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid')))
      .toBe('launch-rehearse');
    expect(await page.getByTestId('launch-rehearse-box').textContent()).toContain('no API key');
    await page.getByTestId('launch-rehearse').click();

    await expect.poll(() => page.getByTestId('run-detail').isVisible(), { timeout: 60_000 }).toBe(true);
    expect(await page.getByTestId('launch-form').count()).toBe(0);
    await expect
      .poll(() => page.getByTestId('run-detail-status').getAttribute('data-status'), { timeout: 60_000 })
      .toBe('running');
    expect(await page.getByTestId('run-detail-spec').textContent()).toContain(PYTHON_IMAGE);
    await expect.poll(() => page.getByTestId('run-timeline').textContent()).toContain('Agent started');
  });

  it('extends the budget after a confirmation', async () => {
    await expect.poll(() => page.getByTestId('run-detail-clock').textContent()).toContain('of 3m');
    await page.getByTestId('run-extend').click();
    await page.getByTestId('run-extend-duration').fill('2x');
    await page.getByTestId('run-extend-confirm').click();
    expect(await page.getByTestId('run-extend-error').textContent()).toContain('not a unit');
    await page.getByTestId('run-extend-duration').fill('2m');
    await page.getByTestId('run-extend-confirm').click();
    await expect.poll(() => page.getByTestId('run-detail-clock').textContent(), { timeout: 30_000 }).toContain('of 5m');
    await expect.poll(() => page.getByTestId('run-timeline').textContent()).toContain('Extended by 2m');
    await page.screenshot({ path: path.join(shots, 'rehearsal-running.png') });
  });

  it('follows the run to its score, live', async () => {
    const id = ((await page.getByTestId('run-detail-id').textContent()) ?? '').trim();
    try {
      await expect
        .poll(() => page.getByTestId('run-detail-status').getAttribute('data-status'), { timeout: 240_000 })
        .toBe('scored');
    } catch (err) {
      // Say what the host's record and the local mirror held, so a failure in CI can be read from its log.
      const read = (file: string) => readFile(file, 'utf8').catch((e: Error) => `(${e.message})`);
      const dir = path.join(runRoot, id);
      const attempts = await readdir(path.join(dir, 'eval')).catch(() => [] as string[]);
      const parts = [
        `state.json: ${await read(path.join(dir, 'state.json'))}`,
        `events.jsonl: ${(await read(path.join(dir, 'record', 'events.jsonl'))).slice(-3000)}`,
        `supervisor.log: ${(await read(path.join(dir, 'record', 'supervisor.log'))).slice(-3000)}`,
        `eval/: ${attempts.join(' ')}`,
        `local sync.json: ${await read(path.join(work, 'ptw-home', 'runs', id, 'sync.json'))}`,
      ];
      throw new Error(`${(err as Error).message}\n${parts.join('\n')}`);
    }
    await expect.poll(() => page.getByTestId(`run-score-${id}`).textContent()).toMatch(/^\d+\.\d$/);
    await expect.poll(() => page.getByTestId('run-timeline').textContent()).toContain('Scored');
    const timeline = (await page.getByTestId('run-timeline').textContent()) ?? '';
    for (const step of ['Launched', 'Agent started', 'Agent stopped', 'Evaluating', 'Scored']) {
      expect(timeline).toContain(step);
    }
    expect(await page.getByTestId('run-detail-metrics').textContent()).toContain('accuracy');
    expect(await page.getByTestId('run-controls').count()).toBe(0);
    expect(await page.getByTestId('run-detail-where').textContent()).toContain(runRoot);
    await page.screenshot({ path: path.join(shots, 'rehearsal-scored.png') });
    // The rehearsal takes about a minute, and up to three on a loaded 2-core CI box running other tests beside it.
  }, 300_000);

  it('ran without CSP violations or console errors', () => {
    expect(consoleProblems).toEqual([]);
  });
});
