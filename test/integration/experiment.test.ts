// An experiment end to end with the built CLI against a real sshd + dockerd and a fake nvidia-smi (one idle H100):
// the matrix queued on the host, drained by the host's dispatcher one run per GPU, the dispatcher killed mid-way
// and started again by two `ptw experiment resume` at once (two app instances), the host gone for a while (its
// queued runs stranded), and no run started twice.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ExperimentDetail } from '../../src/shared/contract-experiments';
import { isProcessAlive, terminateProcess } from '../support/process-tree';
import { sleep, startRunTestHost, type RunTestHost } from '../support/run-test-host';
import { TcpProxy } from '../support/tcp-proxy';
import { describeWithTestHost } from '../support/test-host-availability';

const FINAL = ['scored', 'evaluation-failed', 'no-model', 'failed'];
// Seconds between the dispatcher's looks at its queue (5 by default).
const fast = { PTW_DISPATCH_TICK_S: '1' };

describeWithTestHost('an experiment queued on a host and drained by its dispatcher', () => {
  let t: RunTestHost;
  // The host is reached through a proxy, closed to make the host go away.
  let proxy: TcpProxy;
  let sshdPort = 0;

  beforeAll(async () => {
    t = await startRunTestHost({
      nvidiaSmi: 'idle',
      sshPort: async (port) => {
        sshdPort = port;
        proxy = await TcpProxy.start(port);
        return proxy.port;
      },
    });
  });

  afterAll(async () => {
    const lock = path.join(t?.runRoot ?? '', '.ptw-queue', 'dispatcher.lock');
    const pid = existsSync(lock) ? Number(readFileSync(lock, 'utf8').trim()) : 0;
    if (pid > 0 && isProcessAlive(pid)) await terminateProcess(pid, 5_000).catch(() => undefined);
    await proxy?.close();
    await t?.cleanup();
  });

  const matrix = (extra = '') => `name: drain test
tasks: [rehearsal]
agents:
  - agent: rehearsal
seeds: 3
budget: 1m
hosts: [${t.hostName}]
env:
  PTW_REHEARSAL_SECONDS: "2"
${extra}`;

  async function show(id: string): Promise<ExperimentDetail> {
    const shown = await t.ptw(['experiment', 'show', id, '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    return JSON.parse(shown.stdout) as ExperimentDetail;
  }

  function dispatcherPid(): number {
    const lock = path.join(t.runRoot, '.ptw-queue', 'dispatcher.lock');
    return existsSync(lock) ? Number(readFileSync(lock, 'utf8').trim()) : 0;
  }

  /** Live dispatcher processes of this run root, from /proc. */
  function dispatchers(): number[] {
    return readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .filter((pid) => {
        try {
          const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
          return args.includes('dispatch') && args.includes(t.runRoot);
        } catch {
          return false;
        }
      })
      .map(Number);
  }

  function agentStarts(runId: string): number[] {
    const file = path.join(t.runDir(runId), 'record', 'events.jsonl');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; t: number; startedAt?: number })
      .filter((e) => e.type === 'agent-started')
      .map((e) => e.startedAt ?? e.t);
  }

  it('refuses a matrix naming an unknown host, with its line, before touching any host', async () => {
    const file = path.join(t.work, 'bad.yaml');
    writeFileSync(file, matrix().replace(`hosts: [${t.hostName}]`, `hosts: [${t.hostName}, elsewhere]`));
    const started = await t.ptw(['experiment', 'start', file, '--json']);
    expect(started.code).toBe(2);
    expect(started.stderr).toMatch(/bad\.yaml:7: hosts\.1: unknown host "elsewhere"/);
    expect(existsSync(path.join(t.runRoot, '.ptw-queue'))).toBe(false);
  });

  it('queues every cell, drains them one per GPU, survives its dispatcher killed mid-way, starts none twice', async () => {
    const file = path.join(t.work, 'matrix.yaml');
    writeFileSync(file, matrix());
    const started = await t.ptw(['experiment', 'start', file, '--json'], fast, 240_000);
    expect(started.code, started.stderr).toBe(0);
    const { id } = JSON.parse(started.stdout) as { id: string };
    expect(id).toMatch(/^exp-/);

    const first = await show(id);
    expect(first.cells).toHaveLength(3);
    for (const cell of first.cells) {
      expect(cell).toMatchObject({ task: 'rehearsal', agent: 'rehearsal', model: 'rehearsal', host: t.hostName });
      expect(cell.runId).toMatch(/^r-\d{8}-\d{6}-[a-z0-9]+$/);
    }
    expect(first.cells.map((c) => c.seed).sort()).toEqual([1, 2, 3]);
    expect(new Set(first.cells.map((c) => c.runId)).size).toBe(3);

    // Wait for the first run to start, then kill the dispatcher (SIGKILL: no clean-up of its own).
    let deadline = Date.now() + 60_000;
    while (!first.cells.some((c) => agentStarts(c.runId).length > 0)) {
      if (Date.now() > deadline) throw new Error(`no run started:\n${readQueueLog()}`);
      await sleep(250);
    }
    const killed = dispatcherPid();
    expect(killed).toBeGreaterThan(0);
    process.kill(killed, 'SIGKILL');
    const during = await show(id);
    const queued = during.cells.filter((c) => c.status === 'queued').map((c) => c.key);
    expect(queued.length).toBeGreaterThanOrEqual(1);

    // The host goes away: its queued runs are shown stranded there, the others as last seen.
    const port = proxy.port;
    await proxy.close();
    const away = await show(id);
    expect(away.hostStates[0]!.error).toBeTruthy();
    for (const cell of away.cells) {
      const before = during.cells.find((c) => c.key === cell.key)!;
      expect(cell.status).toBe(queued.includes(cell.key) ? 'stranded' : before.status);
      expect(cell.reason).toMatch(new RegExp(`${t.hostName} cannot be reached`));
    }
    proxy = await TcpProxy.start(sshdPort, '127.0.0.1', port);

    // Two app instances resume at once: each starts a dispatcher, the lock lets one drain.
    const resumed = await Promise.all([
      t.ptw(['experiment', 'resume', id, '--json'], fast),
      t.ptw(['experiment', 'resume', id, '--json'], fast),
    ]);
    for (const r of resumed) expect(r.code, r.stderr).toBe(0);
    expect(dispatcherPid()).not.toBe(killed);
    await expect.poll(() => dispatchers().length, { timeout: 10_000 }).toBe(1);

    let detail = await show(id);
    deadline = Date.now() + 180_000;
    while (!detail.cells.every((c) => FINAL.includes(c.status))) {
      if (Date.now() > deadline) throw new Error(`not done: ${JSON.stringify(detail.cells)}\n${readQueueLog()}`);
      await sleep(1_000);
      detail = await show(id);
    }
    for (const cell of detail.cells) {
      expect(cell.status, JSON.stringify(cell)).toBe('scored');
      expect(typeof cell.score).toBe('number');
    }

    // Exactly the three run folders, each started once; one GPU, so no two agents ran at once.
    const folders = readdirSync(t.runRoot).filter((n) => n.startsWith('r-'));
    expect(folders.sort()).toEqual(detail.cells.map((c) => c.runId).sort());
    const spans = detail.cells.map((c) => {
      const starts = agentStarts(c.runId);
      expect(starts, c.runId).toHaveLength(1);
      const state = JSON.parse(readFileSync(path.join(t.runDir(c.runId), 'state.json'), 'utf8')) as {
        startedAt: number;
        stoppedAt: number;
      };
      return [state.startedAt, state.stoppedAt] as const;
    });
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    const queue = path.join(t.runRoot, '.ptw-queue');
    // The dispatcher files a run's entry as done on its next tick after the run folder says final.
    const doneEntries = detail.cells.map((c) => `${c.runId}.json`).sort();
    await expect.poll(() => readdirSync(path.join(queue, 'done')).sort(), { timeout: 30_000 }).toEqual(doneEntries);
    await expect.poll(() => readdirSync(path.join(queue, 'templates')), { timeout: 30_000 }).toEqual([]);

    const listed = await t.ptw(['experiment', 'ls', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id, name: 'drain test', runs: 3 })]);
  }, 400_000);

  function readQueueLog(): string {
    const log = path.join(t.runRoot, '.ptw-queue', 'dispatcher.log');
    return existsSync(log) ? readFileSync(log, 'utf8').slice(-3_000) : '(no dispatcher log)';
  }
});
