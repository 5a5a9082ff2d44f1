// Moving queued runs between hosts (issue 17; docs/experiments.md, "Moving queued runs") with the built CLI against a
// real sshd + dockerd and the fake nvidia-smi (one idle H100 per host): two hosts on this machine (two run roots),
// the second one's GPU held by a run launched by hand, so the first drains faster; then two app instances rebalance
// at once while the second host's dispatcher is killed with SIGKILL and started again, and every cell runs exactly
// once, the moved one on the host it moved to.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ExperimentDetail, ExperimentRebalance } from '../../src/shared/contract-experiments';
import { isProcessAlive, terminateProcess } from '../support/process-tree';
import { sleep, startRunTestHost, PYTHON_IMAGE, type RunTestHost } from '../support/run-test-host';
import { describeWithTestHost } from '../support/test-host-availability';

const FINAL = ['scored', 'evaluation-failed', 'no-model', 'failed'];
const fast = { PTW_DISPATCH_TICK_S: '1' };
// A run launched by hand on the second host, holding its one GPU until the test ends it.
const HAND_RUN = 'r-20260101-000000-byhand';

describeWithTestHost('queued runs moved to the host that drains faster', () => {
  let t: RunTestHost;
  let rootB = '';
  const hostA = 'gpu1';
  const hostB = 'gpu2';

  beforeAll(async () => {
    t = await startRunTestHost({ nvidiaSmi: 'idle', hostName: hostA });
    rootB = path.join(t.work, 'host-runs-b');
    const sshd = t.host.sshd;
    const added = await t.ptw([
      ...['host', 'add', hostB, '--ssh', `${sshd.username}@127.0.0.1:${sshd.port}`],
      ...['--identity', sshd.privateKeyPath, '--docker-socket', t.host.dockerd.socketPath],
      ...['--run-root', rootB, '--image', PYTHON_IMAGE],
    ]);
    expect(added.code, added.stderr).toBe(0);
    await t.ptw(['host', 'check', hostB, '--accept-new-host-key', '--json'], {}, 120_000);
    // The hand-launched run: a live run folder whose run.json holds GPU 0 (the dispatcher leaves it alone).
    const hand = path.join(rootB, HAND_RUN);
    mkdirSync(hand, { recursive: true });
    writeFileSync(path.join(hand, 'run.json'), JSON.stringify({ id: HAND_RUN, supervisor: { gpuIndices: [0] } }));
    writeFileSync(path.join(hand, 'state.json'), JSON.stringify({ status: 'running' }));
  });

  afterAll(async () => {
    for (const root of [t?.runRoot, rootB]) {
      const pid = root ? lockPid(root) : 0;
      if (pid > 0 && isProcessAlive(pid)) await terminateProcess(pid, 5_000).catch(() => undefined);
    }
    await t?.cleanup();
  });

  function lockPid(root: string): number {
    const lock = path.join(root, '.ptw-queue', 'dispatcher.lock');
    return existsSync(lock) ? Number(readFileSync(lock, 'utf8').trim()) : 0;
  }

  const rootOf = (host: string) => (host === hostA ? t.runRoot : rootB);

  async function show(id: string): Promise<ExperimentDetail> {
    const shown = await t.ptw(['experiment', 'show', id, '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    return JSON.parse(shown.stdout) as ExperimentDetail;
  }

  async function waitFor(id: string, done: (d: ExperimentDetail) => boolean, what: string): Promise<ExperimentDetail> {
    const deadline = Date.now() + 180_000;
    let detail = await show(id);
    while (!done(detail)) {
      if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(detail.cells)}\n${logs()}`);
      await sleep(1_000);
      detail = await show(id);
    }
    return detail;
  }

  function agentStarts(root: string, runId: string): number {
    const file = path.join(root, runId, 'record', 'events.jsonl');
    if (!existsSync(file)) return 0;
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .filter((l) => (JSON.parse(l) as { type: string }).type === 'agent-started').length;
  }

  const runFolders = (root: string) => readdirSync(root).filter((n) => /^r-\d{8}-\d{6}-/.test(n) && n !== HAND_RUN);

  it('moves a queued run to the host with a free GPU, under two app instances and a killed dispatcher, once', async () => {
    const file = path.join(t.work, 'matrix.yaml');
    writeFileSync(
      file,
      `name: rebalance test
tasks: [rehearsal]
agents:
  - agent: rehearsal
seeds: 4
budget: 1m
hosts: [${hostA}, ${hostB}]
env:
  PTW_REHEARSAL_SECONDS: "1"
`,
    );
    const started = await t.ptw(['experiment', 'start', file, '--json'], fast, 240_000);
    expect(started.code, started.stderr).toBe(0);
    const { id } = JSON.parse(started.stdout) as { id: string };
    const first = await show(id);
    // nvidia-smi shows both GPUs idle, so the launch splits the matrix evenly.
    const onB = first.cells.filter((c) => c.host === hostB);
    expect(onB).toHaveLength(2);

    // gpu1 drains its two; gpu2's wait behind the run by hand.
    await waitFor(
      id,
      (d) => d.cells.filter((c) => c.host === hostA).every((c) => FINAL.includes(c.status)),
      'gpu1 did not drain',
    );
    expect((await show(id)).cells.filter((c) => c.host === hostB).map((c) => c.status)).toEqual(['queued', 'queued']);

    // Two app instances rebalance at once; gpu2's dispatcher is killed meanwhile and started again by a resume.
    const movers = [0, 1].map(() => t.spawnPtw(['experiment', 'rebalance', id, '--json'], fast));
    const killed = lockPid(rootB);
    expect(killed).toBeGreaterThan(0);
    process.kill(killed, 'SIGKILL');
    const resumed = await t.ptw(['experiment', 'resume', id, '--json'], fast);
    expect(resumed.code, resumed.stderr).toBe(0);
    const outcomes: ExperimentRebalance[] = [];
    for (const m of movers) {
      expect(await m.exited, m.stderr()).toBe(0);
      outcomes.push(JSON.parse(m.stdout()) as ExperimentRebalance);
    }
    const movedKeys = new Set(outcomes.flatMap((o) => o.moved.map((m) => m.key)));
    expect(movedKeys.size, JSON.stringify(outcomes)).toBeGreaterThanOrEqual(1);
    for (const m of outcomes.flatMap((o) => o.moved)) expect([m.from, m.to]).toEqual([hostB, hostA]);
    // Where both instances moved (or followed) the same run, they name the same replacement: the one the host's
    // pointer names.
    for (const key of movedKeys) {
      const named = new Set(outcomes.flatMap((o) => o.moved.filter((m) => m.key === key).map((m) => m.runId)));
      expect(named.size, key).toBe(1);
    }

    // `show` follows each moved cell: same key, the new host and run id, where it came from.
    const after = await show(id);
    for (const key of movedKeys) {
      const cell = after.cells.find((c) => c.key === key)!;
      const before = onB.find((c) => c.key === key)!;
      expect(cell.host).toBe(hostA);
      expect(cell.runId).not.toBe(before.runId);
      expect(cell.moves).toEqual([expect.objectContaining({ from: hostB, fromRunId: before.runId, to: hostA })]);
    }

    // The run by hand ends: gpu2 drains what stayed there.
    writeFileSync(path.join(rootB, HAND_RUN, 'state.json'), JSON.stringify({ status: 'scored' }));
    const done = await waitFor(id, (d) => d.cells.every((c) => FINAL.includes(c.status)), 'not done');
    for (const cell of done.cells) expect(cell.status, JSON.stringify(cell)).toBe('scored');

    // Every cell ran exactly once, on the host the experiment says; nothing else ran on either host.
    for (const cell of done.cells) expect(agentStarts(rootOf(cell.host), cell.runId), cell.key).toBe(1);
    const ran = [...runFolders(t.runRoot), ...runFolders(rootB)].sort();
    expect(ran).toEqual(done.cells.map((c) => c.runId).sort());
    // gpu2 keeps the moved entries as moved (never requeued there), and no replacement is left held anywhere.
    const movedOnB = readdirSync(path.join(rootB, '.ptw-queue', 'moved')).filter((n) => n.endsWith('.json'));
    expect(movedOnB.sort()).toEqual([...movedKeys].map((k) => `${onB.find((c) => c.key === k)!.runId}.json`).sort());
    for (const root of [t.runRoot, rootB]) expect(readdirSync(path.join(root, '.ptw-queue', 'held'))).toEqual([]);
  }, 420_000);

  function logs(): string {
    return [t.runRoot, rootB]
      .map((root) => path.join(root, '.ptw-queue', 'dispatcher.log'))
      .map((log) => (existsSync(log) ? readFileSync(log, 'utf8').slice(-2_000) : '(no dispatcher log)'))
      .join('\n---\n');
  }
});
