// `npm run bench:experiment` (issue 17, "Scale"): a run matrix over simulated hosts, driven through the real app.
//
// Set-up: one real sshd + dockerd on this machine (test/support) and N host entries in a fresh PTW_HOME pointing at
// that sshd, each with its own run root (so its own queue and dispatcher); the SSH sessions' PATH has a fake
// `nvidia-smi` listing G idle H100s (test/support/fake-gpu-box.ts: the real capture's GPU row, renumbered), so each
// host offers G GPUs. Every run is the rehearsal task with a custom agent that sleeps (busybox image, no GPU
// device), 60 to 120 s by default (longer than 100 containers take to start on 2 cores): the queue, the dispatchers, the supervisors and the containers are the real ones.
//
// Driven through `ptw serve` + Chromium (DevTools protocol), as a user would:
//   - placement: the New experiment screen's Launch clicked → the experiment page shown (every cell queued on its
//     host and every dispatcher started), and, from the hosts' disks, when the last queue entry appeared and the
//     first agent started;
//   - streaming: with the experiment page open and the most runs running at once (up to 100), the CPU of the serve
//     process (the app's main process) from /proc/<pid>/stat over a window, and the page's frames
//     (requestAnimationFrame intervals, long tasks, the renderer's busy share from Performance.getMetrics);
//   - faults: then the serve process and one host's dispatcher are SIGKILLed; the app is started again, the page
//     reopened and `ptw experiment resume` run (as the Resume button does); every cell must end final;
//   - at the end, from the run folders on the hosts: agent starts per run folder (0 double starts), a run id in
//     two run roots (0), and cells not final (0 lost), cross-checked with `ptw experiment show --json`.
// Then the Runs list at 10,000 runs (bench/runs-list-bench.ts, run as its own process so the two loads do not
// overlap), its numbers included.
//
// Targets: main-process CPU < 1 core while runs stream status; frames within 16 ms on the experiment page (p95 of
// the rAF interval ≤ 16.7 ms × 1.25, no long task > 50 ms); 0 double starts; 0 lost runs; the Runs list's own.
// SLURM: the single-node SLURM cluster of test/support/slurm-cluster.ts (slurm-wlm, 2 GPUs as GRES) is added as a
// host `cluster` (`--scheduler slurm`, the same sshd) and a one-cell probe experiment on it asks whether experiments
// take SLURM hosts; when they do it joins the matrix (its cells are sbatch jobs in SLURM's own queue), when not (or
// where slurm-wlm is missing, or with --no-slurm) the result says why (`slurm.measured: false, reason`).
// Writes bench/results/experiment.json (with the load average); exits 1 when a target is missed.
//
//   npm run bench:experiment -- [--runs 200] [--hosts 10] [--gpus 10] [--min-s 60] [--max-s 120] [--window-s 30]
//                               [--tick-s 2] [--runs-list 10000 | 0] [--timeout-min 12] [--no-slurm] [--keep]
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { ExperimentDetail } from '../src/shared/contract-experiments';
import { launchChromium, type LaunchedChromium } from '../test/support/chromium';
import { writeFakeGpuBox } from '../test/support/fake-gpu-box';
import { isProcessAlive, terminateProcess } from '../test/support/process-tree';
import { runPtw } from '../test/support/run-cli';
import { startServeProcess, type ServeProcess } from '../test/support/serve-process';
import { slurmUnavailableReason, startSlurmCluster, type SlurmCluster } from '../test/support/slurm-cluster';
import { startTestHost, type TestHost } from '../test/support/test-host';
import { BUSYBOX_IMAGE } from '../test/support/test-images';
import { hostAddArgs } from './bench-host';
import { gotoRetrying } from './bench-page';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} takes a number, not ${process.argv[i + 1]}`);
  return value;
}
const RUNS = arg('runs', 200);
const HOSTS = arg('hosts', 10);
const GPUS = arg('gpus', 10);
const MIN_S = arg('min-s', 60);
const MAX_S = Math.max(MIN_S, arg('max-s', 120));
const WINDOW_S = arg('window-s', 30);
const TICK_S = arg('tick-s', 2);
const RUNS_LIST = arg('runs-list', 10_000);
const TIMEOUT_MS = arg('timeout-min', 12) * 60_000;
const keep = process.argv.includes('--keep');
const SLURM = !process.argv.includes('--no-slurm');
/** GPUs of the single-node SLURM cluster (GRES backed by /dev/null device files). */
const SLURM_GPUS = 2;

const FINAL = new Set(['scored', 'evaluation-failed', 'no-model', 'failed']);
/** The agents of the matrix: custom commands sleeping a random time in [MIN_S, MAX_S] (busybox ash's $RANDOM). */
const AGENTS = 4;
const CPU_TARGET_CORES = 1;
const FRAME_MS = 1_000 / 60;
const LONG_TASK_MS = 50;
const CLK_TCK = 100; // getconf CLK_TCK on Linux (USER_HZ), what /proc/<pid>/stat counts in

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** utime + stime of a process, in seconds (fields 14 and 15 of /proc/<pid>/stat, after the command's parens). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

interface SimHost {
  name: string;
  runRoot: string;
  /** A SLURM cluster: its runs are jobs in SLURM's queue, not entries of a dispatcher's. */
  slurm?: boolean;
}

/** Queue entries on every host, by state folder. */
function queueCounts(hosts: SimHost[]): { entries: number; byState: Record<string, number> } {
  const byState: Record<string, number> = {};
  let entries = 0;
  for (const h of hosts) {
    if (h.slurm) entries += runFolders(h).filter((r) => !slurmProbeRuns.has(r)).length;
    for (const state of ['pending', 'claimed', 'started', 'done', 'withdrawn']) {
      const dir = path.join(h.runRoot, '.ptw-queue', state);
      const n = existsSync(dir) ? readdirSync(dir).filter((f) => /^r-.*\.json$/.test(f)).length : 0;
      byState[state] = (byState[state] ?? 0) + n;
      if (state !== 'withdrawn') entries += n;
    }
  }
  return { entries, byState };
}

/** `agent-started` events of a run folder (one per start of its agent). */
function agentStarts(runDir: string): number {
  const file = path.join(runDir, 'record', 'events.jsonl');
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"agent-started"'))
    .filter((l) => (JSON.parse(l) as { type?: string }).type === 'agent-started').length;
}

/** The run folders of the probe that checks whether experiments take a SLURM host (not the matrix's). */
const slurmProbeRuns = new Set<string>();

/** Runs live on the hosts now, from their folders: the agent started and state.json not final. */
function liveRuns(hosts: SimHost[]): number {
  let live = 0;
  for (const h of hosts) {
    for (const run of runFolders(h)) {
      if (slurmProbeRuns.has(run) || agentStarts(path.join(h.runRoot, run)) === 0) continue;
      try {
        const state = JSON.parse(readFileSync(path.join(h.runRoot, run, 'state.json'), 'utf8')) as { status?: string };
        if (!FINAL.has(state.status ?? '')) live++;
      } catch {
        live++; // being written: the run is there
      }
    }
  }
  return live;
}

function runFolders(h: SimHost): string[] {
  return existsSync(h.runRoot) ? readdirSync(h.runRoot).filter((n) => n.startsWith('r-')) : [];
}

/** A process's argv as one string ('' when it is gone). */
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/**
 * The pid in a pid file when that process is still the one the file names (its argv mentions `mark`): a file left
 * by a process that ended may name a pid the system gave since to another program, which must not be killed.
 */
function livePid(file: string, mark: string): number {
  const pid = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : 0;
  return pid > 0 && isProcessAlive(pid) && cmdline(pid).includes(mark) ? pid : 0;
}

function dispatcherPid(h: SimHost): number {
  return livePid(path.join(h.runRoot, '.ptw-queue', 'dispatcher.lock'), h.runRoot);
}

function matrixYaml(hosts: SimHost[]): string {
  const seeds = Math.max(1, Math.ceil(RUNS / AGENTS));
  const span = MAX_S - MIN_S + 1;
  const agents = Array.from({ length: AGENTS }, (_, i) => {
    const command = JSON.stringify(['sh', '-c', `sleep $((${MIN_S} + RANDOM % ${span}))`]);
    return `  - { agent: custom, model: sleeper-${i + 1}, command: ${command} }`;
  });
  return [
    'name: experiment bench',
    'tasks: [rehearsal]',
    'agents:',
    ...agents,
    `seeds: ${seeds}`,
    `budget: ${Math.ceil((MAX_S + 60) / 60)}m`,
    `hosts: [${hosts.map((h) => h.name).join(', ')}]`,
    `image: ${BUSYBOX_IMAGE}`,
    '',
  ].join('\n');
}

/** Statuses of the experiment page's cells, from the DOM (what the user sees). */
async function pageCounts(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const out: Record<string, number> = {};
    for (const el of document.querySelectorAll('[data-testid="experiment-grid"] [data-status]')) {
      const s = el.getAttribute('data-status') ?? '?';
      out[s] = (out[s] ?? 0) + 1;
    }
    return out;
  });
}

async function openApp(page: Page, serve: ServeProcess): Promise<void> {
  await gotoRetrying(page, serve.url);
  await page.waitForFunction(
    () => document.querySelector('[data-testid="connection-footer"]')?.getAttribute('data-connection') === 'online',
    null,
    { timeout: 60_000 },
  );
  await page.getByTestId('nav-experiments').click();
}

async function openExperiment(page: Page, id: string): Promise<void> {
  await page.getByTestId(`experiment-row-${id}`).getByRole('button').click();
  await page.getByTestId('experiment-grid').waitFor({ timeout: 120_000 });
}

/** The page's frames over `seconds`: rAF intervals, long tasks, and the renderer main thread's busy share. */
async function measureFrames(page: Page, seconds: number) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metric = async (name: string) =>
    (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === name)?.value ?? 0;
  const taskBefore = await metric('TaskDuration');
  const wallBefore = performance.now();
  const frames = await page.evaluate(async (ms: number) => {
    const longTasks: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longTasks.push(entry.duration);
    });
    observer.observe({ type: 'longtask' });
    const intervals: number[] = [];
    await new Promise<void>((resolve) => {
      let last = -1;
      const end = performance.now() + ms;
      const frame = (now: number) => {
        if (last >= 0) intervals.push(now - last);
        last = now;
        if (now < end) requestAnimationFrame(frame);
        else resolve();
      };
      requestAnimationFrame(frame);
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    observer.disconnect();
    return { intervals, longTasks };
  }, seconds * 1_000);
  const busy = ((await metric('TaskDuration')) - taskBefore) / ((performance.now() - wallBefore) / 1_000);
  await cdp.detach();
  const sorted = [...frames.intervals].sort((a, b) => a - b);
  return {
    frames: sorted.length,
    p50Ms: +quantile(sorted, 0.5).toFixed(1),
    p95Ms: +quantile(sorted, 0.95).toFixed(1),
    p99Ms: +quantile(sorted, 0.99).toFixed(1),
    worstMs: +(sorted.at(-1) ?? 0).toFixed(1),
    /** Frames that took longer than one 60 Hz frame plus a quarter (a frame missed). */
    late: sorted.filter((v) => v > FRAME_MS * 1.25).length,
    longTasks: frames.longTasks.length,
    longestTaskMs: Math.round(Math.max(0, ...frames.longTasks)),
    rendererBusyShare: +busy.toFixed(3),
  };
}

/** The Runs list at RUNS_LIST runs: bench/runs-list-bench.ts as its own process; its results file read back. */
async function runsListBench(): Promise<unknown> {
  if (RUNS_LIST <= 0) return { measured: false, reason: '--runs-list 0' };
  const bin = path.resolve('node_modules', '.bin', 'vite-node');
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(bin, ['bench/runs-list-bench.ts', '--', '--runs', String(RUNS_LIST)], { stdio: 'inherit' });
    child.on('exit', resolve);
  });
  const file = path.resolve('bench', 'results', 'runs-list.json');
  if (!existsSync(file)) return { measured: false, reason: `bench/runs-list-bench.ts exited ${code}, no results` };
  return { exitCode: code, ...(JSON.parse(readFileSync(file, 'utf8')) as object) };
}

/**
 * Adds the SLURM cluster as a host (`--scheduler slurm`, the same sshd, its own run root) and asks whether
 * experiments take it, with a one-cell experiment on it alone (stopped at once). When they do, the cluster joins the
 * matrix (pushed onto `hosts`); when not, the answer is the reason the result gives.
 */
async function joinSlurmCluster(
  cluster: SlurmCluster,
  host: TestHost,
  hosts: SimHost[],
  work: string,
  env: Record<string, string>,
): Promise<{ measured: boolean; reason?: string; host?: string; gpus?: number }> {
  const sim: SimHost = { name: 'cluster', runRoot: path.join(work, 'hosts', 'cluster'), slurm: true };
  const add = await runPtw(
    [
      ...hostAddArgs(sim.name, host, sim.runRoot, BUSYBOX_IMAGE),
      '--scheduler',
      'slurm',
      '--partition',
      cluster.partition,
    ],
    env,
  );
  if (add.code !== 0) return { measured: false, reason: `ptw host add --scheduler slurm failed: ${add.stderr.trim()}` };
  const file = path.join(work, 'slurm-probe.yaml');
  await writeFile(
    file,
    [
      'name: slurm probe',
      'tasks: [rehearsal]',
      'agents:',
      '  - { agent: custom, model: probe, command: [sh, -c, "sleep 1"] }',
      'seeds: 1',
      'budget: 2m',
      `hosts: [${sim.name}]`,
      `image: ${BUSYBOX_IMAGE}`,
      '',
    ].join('\n'),
  );
  const started = await runPtw(['experiment', 'start', file, '--json'], env, 240_000);
  for (const run of runFolders(sim)) slurmProbeRuns.add(run);
  if (started.code !== 0) {
    return {
      measured: false,
      reason: `experiments do not take the SLURM host yet: ptw experiment start on it said: ${started.stderr.trim()}`,
    };
  }
  const { id } = JSON.parse(started.stdout) as { id: string };
  await runPtw(['experiment', 'stop', id, '--json'], env, 120_000);
  for (const run of runFolders(sim)) slurmProbeRuns.add(run);
  hosts.push(sim);
  return { measured: true, host: sim.name, gpus: cluster.gpus };
}

async function main(): Promise<void> {
  delete process.env.SSH_AUTH_SOCK; // the bench's own key only, never the developer's agent
  const loadAtStart = os.loadavg();
  const startedAt = performance.now();
  const work = await mkdtemp(path.join(os.tmpdir(), 'ptw-bench-exp-'));
  const env = { HOME: path.join(work, 'home'), PTW_HOME: path.join(work, 'ptw-home') };
  const serveEnv = { HOME: env.HOME, PTW_DISPATCH_TICK_S: String(TICK_S) };
  const hosts: SimHost[] = Array.from({ length: HOSTS }, (_, i) => {
    const name = `sim-${String(i + 1).padStart(2, '0')}`;
    return { name, runRoot: path.join(work, 'hosts', name) };
  });
  let host: TestHost | undefined;
  let cluster: SlurmCluster | undefined;
  let chrome: LaunchedChromium | undefined;
  let serve: ServeProcess | undefined;
  const servePids: number[] = [];

  const cleanup = async (): Promise<void> => {
    await chrome?.stop().catch(() => undefined);
    await serve?.stop().catch(() => undefined);
    for (const pid of servePids) if (isProcessAlive(pid)) await terminateProcess(pid, 3_000).catch(() => undefined);
    // Dispatchers and supervisors are detached host processes: stopped by the pids their files hold.
    for (const h of hosts) {
      const pid = dispatcherPid(h);
      if (pid > 0) await terminateProcess(pid, 3_000).catch(() => undefined);
      for (const run of runFolders(h)) {
        const pidFile = path.join(h.runRoot, run, '.supervisor', 'supervisor.pid');
        const sup = livePid(pidFile, path.join(h.runRoot, run));
        if (sup > 0) await terminateProcess(sup, 3_000).catch(() => undefined);
      }
    }
    cluster?.client(['scancel', '--full', '-u', os.userInfo().username]);
    if (host) {
      const docker = host.dockerd.docker;
      const left = await docker.listContainers({ all: true, filters: { label: ['ptw.run'] } }).catch(() => []);
      await Promise.allSettled(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
      await host.stop().catch(() => undefined);
    }
    await cluster?.stop().catch(() => undefined);
    if (!keep) await rm(work, { recursive: true, force: true });
  };

  const result: Record<string, unknown> = {
    options: { runs: RUNS, hosts: HOSTS, gpusPerHost: GPUS, agentSeconds: [MIN_S, MAX_S], tickS: TICK_S },
  };
  try {
    // --- the hosts ---------------------------------------------------------------------------------------------
    const fake = await writeFakeGpuBox({ binDir: path.join(work, 'fakebin'), gpus: GPUS });
    const hostHome = path.join(work, 'host-home');
    await mkdir(hostHome, { recursive: true });
    const slurmWhyNot = SLURM ? slurmUnavailableReason() : 'left out (--no-slurm)';
    if (!slurmWhyNot) cluster = await startSlurmCluster({ gpus: SLURM_GPUS });
    host = await startTestHost({
      sshd: {
        extraConfig: [
          // sshd obeys the first SetEnv line only: every variable on it. HOME is an empty folder: bash sources the
          // SSH user's ~/.bashrc for every exec, and a developer's (e.g. `pyenv init`, which rehashes under a lock)
          // would be measured with every host command instead of the app.
          `SetEnv PATH=${fake.binDir}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=${hostHome}${cluster ? ` SLURM_CONF=${cluster.conf}` : ''}`,
          // Every simulated host is a connection to this one sshd: let them all in at once.
          'MaxStartups 100:30:200',
          'MaxSessions 100',
        ],
      },
    });
    await mkdir(path.join(env.HOME, '.ssh'), { recursive: true });
    for (const h of hosts) {
      const add = await runPtw(hostAddArgs(h.name, host, h.runRoot, BUSYBOX_IMAGE), env);
      if (add.code !== 0) throw new Error(`ptw host add ${h.name} failed: ${add.stderr}`);
    }
    // One check trusts the sshd's key for its address, which every simulated host shares.
    const check = await runPtw(['host', 'check', hosts[0]!.name, '--accept-new-host-key', '--json'], env, 120_000);
    if (!check.stderr.includes('Accepted (--accept-new-host-key)')) throw new Error(`host check: ${check.stderr}`);
    result.slurm = cluster
      ? await joinSlurmCluster(cluster, host, hosts, work, env)
      : { measured: false, reason: slurmWhyNot };
    const slurmSaid = result.slurm as { measured: boolean; reason?: string };
    log(`SLURM cluster: ${slurmSaid.measured ? 'in the matrix' : `not measured: ${slurmSaid.reason}`}`);
    log(`${HOSTS} simulated hosts × ${GPUS} GPUs ready (${Math.round((performance.now() - startedAt) / 1000)} s)`);

    // --- the app -------------------------------------------------------------------------------------------------
    serve = await startServeProcess({ home: env.PTW_HOME, env: serveEnv });
    servePids.push(serve.pid);
    chrome = await launchChromium();
    const page = await chrome.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await openApp(page, serve);
    await page.getByTestId('experiment-new').click();
    await page.getByTestId('experiment-yaml').fill(matrixYaml(hosts));
    const cells = AGENTS * Math.max(1, Math.ceil(RUNS / AGENTS));
    await page
      .getByTestId('experiment-preview-runs')
      .filter({ hasText: `${cells} runs` })
      .waitFor({ timeout: 60_000 });

    // --- placement -----------------------------------------------------------------------------------------------
    log(`launching ${cells} runs over ${hosts.length} hosts`);
    const t0 = performance.now();
    let allQueuedMs: number | null = null;
    let firstStartMs: number | null = null;
    const watch = setInterval(() => {
      if (allQueuedMs === null && queueCounts(hosts).entries >= cells) allQueuedMs = performance.now() - t0;
      if (
        firstStartMs === null &&
        hosts.some((h) => runFolders(h).some((r) => !slurmProbeRuns.has(r) && agentStarts(path.join(h.runRoot, r)) > 0))
      )
        firstStartMs = performance.now() - t0;
    }, 250);
    const before = new Set(readdirSync(path.join(env.PTW_HOME, 'experiments')));
    await page.getByTestId('experiment-launch').click();
    await page.getByTestId('experiment-grid').waitFor({ timeout: TIMEOUT_MS });
    const placeMs = performance.now() - t0;
    const ids = readdirSync(path.join(env.PTW_HOME, 'experiments')).filter(
      (n) => n.startsWith('exp-') && !before.has(n),
    );
    if (ids.length !== 1) throw new Error(`expected one experiment in PTW_HOME, found ${ids.join(', ')}`);
    const id = ids[0]!;
    const placedOn = Object.fromEntries(hosts.map((h) => [h.name, queueCounts([h]).entries]));
    log(`placed in ${Math.round(placeMs)} ms (${id})`);

    // --- streaming: the most runs running at once, the page open ----------------------------------------------------
    const concurrent = Math.min(cells, HOSTS * GPUS, 100);
    const wantRunning = Math.max(1, Math.floor(concurrent * 0.8));
    const rampDeadline = performance.now() + 180_000;
    let counts = await pageCounts(page);
    // Until most GPUs are busy (counted on the hosts: the page shows a started run on its next refresh), or every
    // entry has started (on a slow machine the first runs end meanwhile).
    const waiting = () => {
      const q = queueCounts(hosts).byState;
      return (q.pending ?? 0) + (q.claimed ?? 0) > 0;
    };
    while (liveRuns(hosts) < wantRunning && waiting() && performance.now() < rampDeadline) await sleep(1_000);
    counts = await pageCounts(page);
    if (firstStartMs === null) await sleep(500);
    clearInterval(watch);
    log(`${liveRuns(hosts)} runs live (${counts.running ?? 0} shown running); measuring ${WINDOW_S} s`);
    const cpuSamples: Array<{ t: number; cpu: number; running: number; shown: number }> = [];
    const cpu0 = cpuSeconds(serve.pid);
    const w0 = performance.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await sleep(1_000);
        const c = await pageCounts(page).catch(() => ({}) as Record<string, number>);
        const cpu = cpuSeconds(serve!.pid);
        cpuSamples.push({ t: (performance.now() - w0) / 1_000, cpu, running: liveRuns(hosts), shown: c.running ?? 0 });
      }
    })();
    const frames = await measureFrames(page, WINDOW_S);
    sampling = false;
    await sampler;
    const cpuCores = (cpuSeconds(serve.pid) - cpu0) / ((performance.now() - w0) / 1_000);
    // The worst 5 s of the window (a refresh burst shows there, not in the mean).
    let peak5s = 0;
    for (let i = 0; i < cpuSamples.length; i++) {
      const j = cpuSamples.findIndex((s) => s.t >= cpuSamples[i]!.t + 5);
      if (j < 0) break;
      peak5s = Math.max(peak5s, (cpuSamples[j]!.cpu - cpuSamples[i]!.cpu) / (cpuSamples[j]!.t - cpuSamples[i]!.t));
    }
    const running = cpuSamples.map((s) => s.running);
    const shownRunning = cpuSamples.map((s) => s.shown);
    result.streaming = {
      windowS: WINDOW_S,
      mostAtOnce: concurrent,
      /** Live on the hosts (agent started, not final), sampled each second. */
      runningDuring: { min: Math.min(...running), max: Math.max(...running) },
      /** What the page showed as running meanwhile (it refreshes every 5 s). */
      shownRunningDuring: { min: Math.min(...shownRunning), max: Math.max(...shownRunning) },
      mainCpuCores: +cpuCores.toFixed(3),
      mainCpuPeak5sCores: +peak5s.toFixed(3),
      frames,
    };
    log(`main CPU ${cpuCores.toFixed(2)} cores (peak 5 s ${peak5s.toFixed(2)}); frames p95 ${frames.p95Ms} ms`);

    // --- faults: the app and one dispatcher killed mid-way -------------------------------------------------------
    // The victim: the host with the most runs still waiting in its queue (they must neither be lost nor start twice).
    const waitingOn = (h: SimHost) => {
      const q = queueCounts([h]).byState;
      return (q.pending ?? 0) + (q.claimed ?? 0);
    };
    const victim = hosts.reduce((a, b) => (waitingOn(b) > waitingOn(a) ? b : a));
    const dispatcher = dispatcherPid(victim);
    const atKill = {
      page: await pageCounts(page),
      queue: queueCounts(hosts).byState,
      waitingOnVictim: waitingOn(victim),
    };
    if (dispatcher > 0) process.kill(dispatcher, 'SIGKILL');
    process.kill(serve.pid, 'SIGKILL');
    await serve.stop(); // reaps it (already dead)
    serve = undefined;
    log(
      `SIGKILLed ptw serve and ${victim.name}'s dispatcher (${dispatcher || 'none left'}); at kill: ${JSON.stringify(atKill)}`,
    );
    await sleep(10_000);
    const t1 = performance.now();
    serve = await startServeProcess({ home: env.PTW_HOME, env: serveEnv });
    servePids.push(serve.pid);
    await openApp(page, serve);
    await openExperiment(page, id);
    // As a user would press Resume again when a host was too slow to answer the first time.
    const resumeProblems: string[] = [];
    for (;;) {
      const resumed = await runPtw(['experiment', 'resume', id, '--json'], { ...env, ...serveEnv }, 300_000);
      if (resumed.code === 0) break;
      resumeProblems.push(resumed.stderr.trim());
      log(`ptw experiment resume failed (${resumeProblems.length}): ${resumed.stderr.trim()}`);
      if (resumeProblems.length >= 3)
        throw new Error(`ptw experiment resume failed 3 times:\n${resumeProblems.join('\n')}`);
    }
    const recoverMs = performance.now() - t1;
    result.faults = {
      killed: { serve: true, dispatcherOf: victim.name, dispatcherPid: dispatcher || null },
      atKill,
      restartAndResumeMs: Math.round(recoverMs),
      resumeProblems,
      dispatcherAfterResume: dispatcherPid(victim) > 0,
    };

    // --- drain, then count -----------------------------------------------------------------------------------------
    const drainDeadline = t0 + TIMEOUT_MS;
    let lastLog = 0;
    // The hosts' side: nothing queued, claimed or started, no run live. The page should follow within a refresh
    // or two; a minute after, the page is behind the hosts (said in the result, not waited for).
    let hostsDoneAt: number | null = null;
    let pageBehindHosts = false;
    for (;;) {
      const q = queueCounts(hosts).byState;
      const hostsDone = (q.pending ?? 0) + (q.claimed ?? 0) + (q.started ?? 0) === 0 && liveRuns(hosts) === 0;
      hostsDoneAt = hostsDone ? (hostsDoneAt ?? performance.now()) : null;
      counts = await pageCounts(page).catch(() => ({}));
      const final = Object.entries(counts)
        .filter(([s]) => FINAL.has(s))
        .reduce((n, [, v]) => n + v, 0);
      if (final >= cells) break;
      if (hostsDoneAt !== null && performance.now() - hostsDoneAt > 60_000) {
        pageBehindHosts = true;
        log(`the hosts are done but the page shows ${final}/${cells} final a minute later: ${JSON.stringify(counts)}`);
        break;
      }
      if (performance.now() > drainDeadline) {
        log(`timed out with ${final}/${cells} final: ${JSON.stringify(counts)}`);
        break;
      }
      if (performance.now() - lastLog > 20_000) {
        log(`${final}/${cells} final: ${JSON.stringify(counts)}`);
        lastLog = performance.now();
      }
      await sleep(2_000);
    }
    const drainMs = performance.now() - t0;
    const shown = await runPtw(['experiment', 'show', id, '--json'], { ...env, ...serveEnv }, 300_000);
    // An experiment that cannot be shown any more has lost every cell as far as its user can tell.
    const showError = shown.code === 0 ? null : shown.stderr.trim();
    if (showError) log(`ptw experiment show failed: ${showError}`);
    const detail: Pick<ExperimentDetail, 'cells'> = showError
      ? { cells: [] }
      : (JSON.parse(shown.stdout) as ExperimentDetail);
    const notFinal = detail.cells.filter((c) => !FINAL.has(c.status));
    const lost = showError ? cells : notFinal.length + Math.max(0, cells - detail.cells.length);
    const byStatus: Record<string, number> = {};
    for (const c of detail.cells) byStatus[c.status] = (byStatus[c.status] ?? 0) + 1;
    // Every run folder on every host: how many times its agent started, and in how many run roots it is.
    const roots = new Map<string, string[]>();
    const starts: Record<string, number> = {};
    for (const h of hosts) {
      for (const run of runFolders(h)) {
        roots.set(run, [...(roots.get(run) ?? []), h.name]);
        starts[run] = (starts[run] ?? 0) + agentStarts(path.join(h.runRoot, run));
      }
    }
    const doubleStarts = Object.entries(starts).filter(([, n]) => n > 1);
    const inTwoRoots = [...roots].filter(([, where]) => where.length > 1);
    const retried = detail.cells.filter((c) => c.attempts.length > 1).length;
    const cellsByHost: Record<string, Record<string, number>> = {};
    for (const c of detail.cells) {
      const mine = (cellsByHost[c.host] ??= {});
      mine[c.status] = (mine[c.status] ?? 0) + 1;
    }
    result.placement = {
      cells,
      placeAllMs: Math.round(placeMs),
      lastEntryOnDiskMs: allQueuedMs === null ? null : Math.round(allQueuedMs),
      firstAgentStartMs: firstStartMs === null ? null : Math.round(firstStartMs),
      perHost: placedOn,
    };
    result.outcome = {
      drainMs: Math.round(drainMs),
      byStatus,
      lost,
      showError,
      pageBehindHosts,
      lostCells: notFinal.slice(0, 20).map((c) => ({ key: c.key, host: c.host, status: c.status, reason: c.reason })),
      runFolders: roots.size,
      agentStarts: Object.values(starts).reduce((a, b) => a + b, 0),
      doubleStarts: doubleStarts.length,
      doubleStartRuns: doubleStarts.slice(0, 20),
      runInTwoRunRoots: inTwoRoots.length,
      cellsRetried: retried,
      cellsByHost,
    };
    result.pageErrors = pageErrors;
    log(
      `drained in ${Math.round(drainMs / 1000)} s: ${JSON.stringify(byStatus)}; ${doubleStarts.length} double starts`,
    );
  } finally {
    await cleanup();
  }

  const slurmHost = hosts.find((h) => h.slurm);
  if (slurmHost && result.outcome) {
    const onCluster = (result.outcome as { cellsByHost: Record<string, Record<string, number>> }).cellsByHost[
      slurmHost.name
    ];
    result.slurm = { ...(result.slurm as object), cells: onCluster ?? {} };
  }
  log('the Runs list at 10,000 runs (bench/runs-list-bench.ts)');
  result.runsList = await runsListBench();

  const streaming = result.streaming as {
    mainCpuCores: number;
    runningDuring: { min: number; max: number };
    frames: Awaited<ReturnType<typeof measureFrames>>;
  };
  const outcome = result.outcome as {
    lost: number;
    doubleStarts: number;
    runInTwoRunRoots: number;
    pageBehindHosts: boolean;
  };
  const runsListOk = RUNS_LIST <= 0 || (result.runsList as { ok?: boolean }).ok === true;
  const checks = {
    // A window with no run running measures nothing: it fails rather than passing vacuously.
    runsStreamedDuringWindow: streaming.runningDuring.min > 0,
    mainCpuUnderOneCore: streaming.mainCpuCores < CPU_TARGET_CORES,
    framesWithin16ms: streaming.frames.p95Ms <= FRAME_MS * 1.25 && streaming.frames.longTasks === 0,
    noDoubleStart: outcome.doubleStarts === 0 && outcome.runInTwoRunRoots === 0,
    noLostRun: outcome.lost === 0,
    pageKeptUpWithHosts: !outcome.pageBehindHosts,
    runsList: runsListOk,
    noPageErrors: (result.pageErrors as string[]).length === 0,
  };
  const ok = Object.values(checks).every(Boolean);
  const out = {
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model ?? '',
      node: process.version,
      loadAverage: { atStart: loadAtStart, atEnd: os.loadavg() },
    },
    totalS: Math.round((performance.now() - startedAt) / 1000),
    ...result,
    targets: {
      mainCpuCores: `< ${CPU_TARGET_CORES} while runs stream status`,
      frames: `p95 rAF interval <= ${(FRAME_MS * 1.25).toFixed(1)} ms (one 60 Hz frame + 25%), no long task > ${LONG_TASK_MS} ms`,
      doubleStarts: 0,
      lost: 0,
      runsList: 'first render and filter change < 200 ms, no long task > 50 ms while scrolling',
    },
    checks,
    ok,
  };
  const file = path.resolve('bench', 'results', 'experiment.json');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(out, null, 2)}\n`);
  console.table(checks);
  console.log(`${ok ? 'All targets met' : 'A target was missed'} in ${out.totalS} s; written ${file}`);
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
