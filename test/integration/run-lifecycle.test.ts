// Runs end to end with the built CLI against a real sshd + dockerd: launch, budget, evaluation, control, a CLI
// killed mid-run, a supervisor killed mid-run, and rediscovery from an empty PTW_HOME.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FinalModelManifest, RunDetail, RunSummary } from '../../src/shared/contract';
import { parseEventsJsonl } from '../../src/shared/runs/run-status';
import { isProcessAlive, waitForProcessExit } from '../support/process-tree';
import { castText, sleep, startRunTestHost, type RunTestHost } from '../support/run-test-host';
import { describeWithTestHost } from '../support/test-host-availability';

/** The ±5 s the issue asks for. */
const ON_TIME_MS = 5_000;

interface HostEvent {
  t: number;
  type: string;
  [field: string]: unknown;
}

describeWithTestHost('runs on a real host through the ptw CLI', () => {
  let t: RunTestHost;

  beforeAll(async () => {
    t = await startRunTestHost({ nvidiaSmi: 'idle' });
  });

  afterAll(async () => {
    await t?.cleanup();
  });

  const hostEvents = (id: string): HostEvent[] =>
    readFileSync(path.join(t.runDir(id), 'record', 'events.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as HostEvent);

  async function start(args: string[]): Promise<string> {
    const started = await t.ptw(['run', 'start', '--host', t.hostName, '--task', 'rehearsal', ...args]);
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    expect(id).toMatch(/^r-\d{8}-\d{6}-[a-z0-9]+$/);
    return id;
  }

  function localDir(id: string, home = t.env.PTW_HOME!): string {
    return path.join(home, 'runs', id);
  }

  /** The local bundle holds exactly what the host recorded (no key in play here, so byte for byte). */
  function expectCompleteBundle(id: string, home = t.env.PTW_HOME!): void {
    const local = localDir(id, home);
    const host = t.runDir(id);
    const pairs: Array<[string, string]> = [
      ['events.jsonl', 'record/events.jsonl'],
      ['terminal.cast', 'record/terminal.cast'],
      ['agent-stream.jsonl', 'record/agent-stream.jsonl'],
      ['gpu.csv', 'record/gpu.csv'],
      ['state.json', 'state.json'],
      ['run.json', 'run.json'],
      ['eval/eval.json', 'eval/eval.json'],
      ['eval/metrics.json', 'eval/metrics.json'],
      ['eval/attempt-1.log', 'eval/attempt-1.log'],
    ];
    for (const [mine, theirs] of pairs) {
      if (!existsSync(path.join(host, theirs))) continue;
      expect(readFileSync(path.join(local, mine)), `${mine} equals the host's ${theirs}`).toEqual(
        readFileSync(path.join(host, theirs)),
      );
    }
    const sync = JSON.parse(readFileSync(path.join(local, 'sync.json'), 'utf8')) as { complete: boolean };
    expect(sync.complete).toBe(true);
    expect(parseEventsJsonl(readFileSync(path.join(local, 'events.jsonl'), 'utf8'), 'events').problems).toEqual([]);
  }

  function expectManifest(id: string): FinalModelManifest {
    const manifest = JSON.parse(
      readFileSync(path.join(localDir(id), 'final-model-manifest.json'), 'utf8'),
    ) as FinalModelManifest;
    const modelDir = path.join(t.runDir(id), 'workspace', 'final_model');
    expect(manifest.exists).toBe(true);
    expect(manifest.files.map((f) => f.path).sort()).toEqual(['config.json', 'model.safetensors']);
    for (const file of manifest.files) {
      const bytes = readFileSync(path.join(modelDir, file.path));
      expect(file.size).toBe(bytes.length);
      expect(file.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    // The weights stay on the host: only the manifest is local.
    expect(existsSync(path.join(localDir(id), 'final_model'))).toBe(false);
    return manifest;
  }

  const showJson = async (id: string, home?: string): Promise<RunDetail> => {
    const shown = await t.ptw(['run', 'show', id, '--json'], home ? { PTW_HOME: home } : {});
    expect(shown.code, shown.stderr).toBe(0);
    return JSON.parse(shown.stdout) as RunDetail;
  };

  describe.concurrent('runs side by side', () => {
    it('a 20 s run ends at the budget and is evaluated, though the CLI following it was killed mid-run', async () => {
      const id = await start([
        '--agent',
        'rehearsal',
        '--budget',
        '20s',
        '--label',
        'budget',
        '--env',
        'PTW_REHEARSAL_MODE=linger',
        '--env',
        'PTW_REHEARSAL_SECONDS=3',
      ]);
      // Follow it, then kill the follower mid-run as a laptop going to sleep would.
      const watcher = t.spawnPtw(['run', 'watch', id]);
      for (let i = 0; i < 100 && !watcher.stdout().includes('saved final_model'); i++) await sleep(100);
      expect(watcher.stdout()).toContain('PostTrain Workbench rehearsal agent');
      watcher.child.kill('SIGKILL');
      expect(await watcher.exited).toBeNull();
      const partial = JSON.parse(readFileSync(path.join(localDir(id), 'sync.json'), 'utf8')) as { complete: boolean };
      expect(partial.complete).toBe(false);

      // Nothing of ours runs now; the host finishes the run on its own.
      const started = hostEvents(id).find((e) => e.type === 'agent-started')!;
      while (!hostEvents(id).some((e) => e.type === 'evaluation-finished')) await sleep(500);
      const waited = await t.ptw(['run', 'wait', id, '--json']);
      expect(waited.code, waited.stderr).toBe(0);
      const summary = JSON.parse(waited.stdout) as RunSummary;
      expect(summary).toMatchObject({ id, status: 'scored', stopReason: 'budget', label: 'budget', task: 'rehearsal' });
      expect(waited.stderr).toContain(`run ${id} scored`);
      expect(waited.stderr).toContain('the budget ran out');

      const events = hostEvents(id);
      const deadline = started.deadline as number;
      expect(deadline - (started.startedAt as number)).toBe(20_000);
      const term = events.find((e) => e.type === 'stopping')!;
      expect(term).toMatchObject({ reason: 'budget', signal: 'SIGTERM' });
      expect(Math.abs(term.t - deadline)).toBeLessThanOrEqual(ON_TIME_MS);
      expect(events.find((e) => e.type === 'evaluation-finished')).toMatchObject({ outcome: 'scored' });

      expectCompleteBundle(id);
      expectManifest(id);
      const detail = await showJson(id);
      expect(detail.summary.score).toBeCloseTo(80);
      expect(detail.metrics).toMatchObject({ accuracy: 0.8 });
      expect(detail.finalModel?.files).toHaveLength(2);
      // The terminal the restarted CLI caught up on starts at the first byte.
      expect(castText(path.join(localDir(id), 'terminal.cast'))).toMatch(/^\S*\s*PostTrain Workbench rehearsal agent/);
      // GPU samples from the host's nvidia-smi (the rehearsal holds no GPU, so all of them are sampled).
      expect(readFileSync(path.join(localDir(id), 'gpu.csv'), 'utf8')).toMatch(/^\d{13}, 0, /);
      // The agent saw its deadline and timer, and its protected task files read-only.
      const cast = castText(path.join(localDir(id), 'terminal.cast'));
      expect(cast).toContain('Remaining time (hours:minutes:seconds):');
    });

    it('a run the agent ends itself is evaluated; ptw run watch prints its terminal from the first byte', async () => {
      const id = await start(['--agent', 'rehearsal', '--budget', '2m', '--env', 'PTW_REHEARSAL_SECONDS=2']);
      const watched = await t.ptw(['run', 'watch', id]);
      expect(watched.code, watched.stderr).toBe(0);
      expect(watched.stderr).toContain(`run ${id} scored`);
      expect(watched.stderr).toContain('the agent exited');
      // stdout is the terminal, byte for byte (the cast's output events, joined).
      expect(watched.stdout).toBe(castText(path.join(t.runDir(id), 'record', 'terminal.cast')));
      expect(watched.stdout).toContain('done');
      const detail = await showJson(id);
      expect(detail.summary).toMatchObject({ status: 'scored', stopReason: 'agent-exited', budgetSeconds: 120 });
      expect(detail.events.map((e) => e.type)).toEqual(
        expect.arrayContaining(['supervisor-started', 'agent-started', 'agent-stopped', 'evaluation-finished']),
      );
      expectCompleteBundle(id);
      expectManifest(id);
      const stream = readFileSync(path.join(localDir(id), 'agent-stream.jsonl'), 'utf8')
        .trim()
        .split('\n');
      expect(JSON.parse(stream[0]!)).toMatchObject({ type: 'system', subtype: 'init' });
      expect(JSON.parse(stream.at(-1)!)).toMatchObject({ type: 'result', is_error: false });
      // The run folder is laid out as docs/run-folder.md says, and the human view reads it.
      const run = JSON.parse(readFileSync(path.join(t.runDir(id), 'run.json'), 'utf8')) as Record<string, unknown>;
      expect(run).toMatchObject({
        schema: 1,
        id,
        spec: { host: t.hostName, task: { kind: 'rehearsal' }, agent: { id: 'rehearsal' }, network: false },
        supervisor: { budgetSeconds: 120, gpuIndices: [], sampleGpus: true },
        launch: { secretNames: [], gpus: [] },
      });
      expect(readFileSync(path.join(t.runDir(id), 'ptw', 'prompt.txt'), 'utf8')).toContain('Rehearsal Arithmetic');
      const text = await t.ptw(['run', 'show', id]);
      expect(text.stdout).toContain('status:      scored');
      expect(text.stdout).toContain('metrics:     accuracy=0.8 ');
      expect(text.stdout).toContain('score:       80.00');
    });

    it('extend and stop: requests confirmed by the supervisor, the evaluation still runs', async () => {
      const id = await start([
        '--agent',
        'rehearsal',
        '--budget',
        '40s',
        '--env',
        'PTW_REHEARSAL_MODE=linger',
        '--env',
        'PTW_REHEARSAL_SECONDS=3',
      ]);
      const before = (await showJson(id)).summary;
      expect(before.status).toBe('running');
      const extended = await t.ptw(['run', 'extend', id, '30s', '--json']);
      expect(extended.code, extended.stderr).toBe(0);
      expect((JSON.parse(extended.stdout) as RunSummary).deadline).toBe(before.deadline! + 30_000);
      while (!existsSync(path.join(t.runDir(id), 'workspace', 'final_model', 'config.json'))) await sleep(250);
      const stopped = await t.ptw(['run', 'stop', id]);
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(stopped.stdout).toContain('the supervisor confirmed');
      const waited = await t.ptw(['run', 'wait', id, '--json']);
      expect(waited.code, waited.stderr).toBe(0);
      expect(JSON.parse(waited.stdout)).toMatchObject({ status: 'scored', stopReason: 'user-stop' });
      const interventions = hostEvents(id).filter((e) => e.type === 'intervention');
      expect(interventions).toMatchObject([
        { action: 'extend', by: 'cli', seconds: 30 },
        { action: 'stop', by: 'cli' },
      ]);
      // A stop after the end is refused with the reason.
      const late = await t.ptw(['run', 'stop', id]);
      expect(late.code).toBe(2);
      expect(late.stderr).toContain('has already ended (scored)');
      expectCompleteBundle(id);
    });

    it('a supervisor killed mid-run is restarted by rediscovery; an empty PTW_HOME finds every run again', async () => {
      const id = await start([
        '--agent',
        'rehearsal',
        '--budget',
        '25s',
        '--env',
        'PTW_REHEARSAL_MODE=linger',
        '--env',
        'PTW_REHEARSAL_SECONDS=3',
      ]);
      const pid = t.supervisorPid(id)!;
      expect(isProcessAlive(pid)).toBe(true);
      await sleep(3_000);
      process.kill(pid, 'SIGKILL');
      expect(await waitForProcessExit(pid, 5_000)).toBe(true);
      const listed = await t.ptw(['run', 'ls', '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      const resumed = t.supervisorPid(id)!;
      expect(resumed).not.toBe(pid);
      // The restarted supervisor took over (it may already have finished the run on a slow machine: 25 s budget).
      const log = path.join(t.runDir(id), 'record', 'supervisor.log');
      const logText = existsSync(log) ? readFileSync(log, 'utf8') : '';
      expect(isProcessAlive(resumed) || logText.includes(`"pid":${resumed},"version":1,"resumed":true`), logText).toBe(
        true,
      );
      const waited = await t.ptw(['run', 'wait', id, '--json']);
      expect(waited.code, waited.stderr).toBe(0);
      expect(JSON.parse(waited.stdout)).toMatchObject({ status: 'scored', stopReason: 'budget' });
      const events = hostEvents(id);
      expect(events.filter((e) => e.type === 'supervisor-started').map((e) => e.resumed)).toEqual([false, true]);
      const deadline = events.find((e) => e.type === 'agent-started')!.deadline as number;
      expect(Math.abs(events.find((e) => e.type === 'stopping')!.t - deadline)).toBeLessThanOrEqual(ON_TIME_MS);
      expectCompleteBundle(id);

      // A second machine (or a wiped PTW_HOME) with the same host: every run on it comes back, complete.
      const fresh = path.join(t.work, 'ptw-home-2');
      cpSync(path.join(t.env.PTW_HOME!, 'hosts.json'), path.join(fresh, 'hosts.json'));
      cpSync(path.join(t.env.PTW_HOME!, 'known_hosts'), path.join(fresh, 'known_hosts'));
      const found = await t.ptw(['run', 'ls', '--json'], { PTW_HOME: fresh });
      expect(found.code, found.stderr).toBe(0);
      const runs = JSON.parse(found.stdout) as RunSummary[];
      expect(runs.map((r) => r.id)).toContain(id);
      await t.ptw(['run', 'wait', id], { PTW_HOME: fresh });
      expectCompleteBundle(id, fresh);
      expect(statSync(path.join(fresh, 'runs', id, 'terminal.cast')).size).toBeGreaterThan(1000);
    });
  });

  it('lists tasks and agents', async () => {
    const tasks = await t.ptw(['task', 'ls', '--host', t.hostName, '--json']);
    expect(tasks.code, tasks.stderr).toBe(0);
    expect(JSON.parse(tasks.stdout)).toEqual([
      { kind: 'rehearsal', displayName: 'Rehearsal (tiny arithmetic, CPU only)', requiredApiKeys: [] },
    ]);
    const agents = await t.ptw(['agent', 'ls', '--json'], { PTW_SECRET_ANTHROPIC_API_KEY: 'sk-ant-test-0123456789' });
    const list = JSON.parse(agents.stdout) as Array<{ id: string; keyAvailable: boolean }>;
    expect(list.find((a) => a.id === 'claude-code')).toMatchObject({ keyAvailable: true });
    expect(list.find((a) => a.id === 'codex')).toMatchObject({ keyAvailable: false });
    expect(agents.stdout).not.toContain('sk-ant-test');
    const text = await t.ptw(['agent', 'ls']);
    expect(text.stdout).toContain('missing: PTW_SECRET_ANTHROPIC_API_KEY or PTW_SECRET_CLAUDE_CODE_OAUTH_TOKEN');
  });
});
