// An experiment on a SLURM host end to end: a real single-node cluster (test/support/slurm-cluster.ts) behind the
// real sshd, with the test dockerd. `ptw experiment start` submits each cell as an sbatch job at once (SLURM's own
// queue, no dispatcher), `experiment show --json` follows the jobs to scored, each run started once; a second
// experiment's job pends behind a job holding the node, shows SLURM's reason, and `experiment stop` scancels it.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentDetail } from '../../src/shared/contract-experiments';
import { sleep, type RunTestHost } from '../support/run-test-host';
import type { SlurmCluster } from '../support/slurm-cluster';
import { slurmSuiteSkipReason, slurmTestHostHooks } from '../support/slurm-test-host';

const skipReason = slurmSuiteSkipReason('SLURM experiment');

const FINAL = ['scored', 'evaluation-failed', 'no-model', 'failed'];

(skipReason ? describe.skip : describe)('an experiment whose host is a SLURM cluster', () => {
  const started = slurmTestHostHooks({ gpus: 1 });
  let cluster: SlurmCluster;
  let t: RunTestHost;
  beforeAll(() => void ({ cluster, t } = started()));

  const matrix = (name: string, seeds: number, extra: string) => `name: ${name}
tasks: [rehearsal]
agents:
  - agent: rehearsal
seeds: ${seeds}
budget: 1m
hosts: [${t.hostName}]
env:
  PTW_REHEARSAL_SECONDS: "2"
${extra}`;

  async function start(name: string, seeds: number, extra = ''): Promise<string> {
    const file = path.join(t.work, `${name}.yaml`);
    writeFileSync(file, matrix(name, seeds, extra));
    const started = await t.ptw(['experiment', 'start', file, '--json'], {}, 240_000);
    expect(started.code, started.stderr).toBe(0);
    return (JSON.parse(started.stdout) as { id: string }).id;
  }

  async function show(id: string): Promise<ExperimentDetail> {
    const shown = await t.ptw(['experiment', 'show', id, '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    return JSON.parse(shown.stdout) as ExperimentDetail;
  }

  const jobIdOf = (runId: string): string =>
    readFileSync(path.join(t.runDir(runId), '.supervisor', 'slurm-job-id'), 'utf8').trim();

  function agentStarts(runId: string): number {
    const file = path.join(t.runDir(runId), 'record', 'events.jsonl');
    if (!existsSync(file)) return 0;
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"agent-started"')).length;
  }

  it('submits each cell as an sbatch job and follows the jobs to scored, each run started once', async () => {
    const id = await start('slurm sweep', 2);
    const first = await show(id);
    expect(first.cells).toHaveLength(2);
    for (const cell of first.cells) {
      expect(cell).toMatchObject({ task: 'rehearsal', agent: 'rehearsal', host: t.hostName });
      // Submitted at once: the job id is in the run folder and the experiment's record.
      expect(jobIdOf(cell.runId)).toMatch(/^\d+$/);
    }
    const record = readFileSync(path.join(t.env.PTW_HOME!, 'experiments', id, 'experiment.json'), 'utf8');
    for (const cell of first.cells) expect(record).toContain(`"jobId": "${jobIdOf(cell.runId)}"`);
    // No dispatcher: SLURM's queue is the queue.
    expect(existsSync(path.join(t.runRoot, '.ptw-queue'))).toBe(false);

    let detail = first;
    const deadline = Date.now() + 150_000;
    while (!detail.cells.every((c) => FINAL.includes(c.status))) {
      if (Date.now() > deadline) throw new Error(`not done: ${JSON.stringify(detail.cells)}`);
      await sleep(1_000);
      detail = await show(id);
    }
    for (const cell of detail.cells) {
      expect(cell.status, JSON.stringify(cell)).toBe('scored');
      expect(typeof cell.score).toBe('number');
      expect(agentStarts(cell.runId), cell.runId).toBe(1);
      const runJson = JSON.parse(readFileSync(path.join(t.runDir(cell.runId), 'run.json'), 'utf8')) as {
        experiment?: unknown;
      };
      expect(runJson.experiment).toEqual({ id, name: 'slurm sweep' });
    }
    const folders = readdirSync(t.runRoot).filter((n) => n.startsWith('r-'));
    expect(folders.sort()).toEqual(detail.cells.map((c) => c.runId).sort());
  }, 300_000);

  it("shows a pending job with SLURM's reason; retries a job cancelled before it began; stop scancels, resume resubmits", async () => {
    // Take the whole node, so the experiment's job waits.
    const blocker = cluster.client(['sbatch', '--parsable', '--exclusive', '--time=5', '--wrap', 'sleep 120']);
    expect(blocker.code, blocker.stderr).toBe(0);
    try {
      const id = await start('slurm stop', 1, 'retries: 1');
      const pendingCell = async (): Promise<ExperimentDetail['cells'][number]> => {
        let c = (await show(id)).cells[0]!;
        const deadline = Date.now() + 30_000;
        while (!/pending \((Resources|Priority)\)/.test(c.reason ?? '')) {
          if (Date.now() > deadline) throw new Error(`never pending with a reason: ${JSON.stringify(c)}`);
          await sleep(500);
          c = (await show(id)).cells[0]!;
        }
        expect(c).toMatchObject({ status: 'queued' });
        expect(c.reason).toMatch(new RegExp(`^SLURM job ${jobIdOf(c.runId)}: pending`));
        return c;
      };
      const first = await pendingCell();

      // An administrator's scancel ends the job before it began: an infrastructure failure, retried once (the
      // matrix's retries: 1) as <id>r2 by the next look at the experiment, and recorded in the cell's attempts.
      expect(cluster.client(['scancel', jobIdOf(first.runId)]).code).toBe(0);
      const cell = await pendingCell();
      expect(cell.runId).toBe(`${first.runId}r2`);
      expect(cell.attempts[0]).toMatchObject({ runId: first.runId, outcome: 'infrastructure' });
      expect(cell.attempts[0]!.reason).toMatch(/cancelled.*before the run started/);
      const jobId = jobIdOf(cell.runId);

      const stopped = await t.ptw(['experiment', 'stop', id, '--json']);
      expect(stopped.code, stopped.stderr).toBe(0);
      expect((JSON.parse(stopped.stdout) as ExperimentDetail).cells[0]).toMatchObject({ status: 'withdrawn' });
      const job = cluster.client(['scontrol', 'show', 'job', '-o', jobId]);
      expect(job.stdout).toMatch(/JobState=CANCELLED/);
      // Its keys' files are gone with the job; the run never began.
      const supervisorDir = path.join(t.runDir(cell.runId), '.supervisor');
      expect(existsSync(path.join(supervisorDir, 'secrets.json'))).toBe(false);
      expect(agentStarts(cell.runId)).toBe(0);

      // Two app instances resume at once: the cell is submitted again once, as a third attempt (the second never
      // began; the new run folder's mkdir decides between them), and runs once the node is free.
      const resumed = await Promise.all([
        t.ptw(['experiment', 'resume', id, '--json']),
        t.ptw(['experiment', 'resume', id, '--json']),
      ]);
      for (const r of resumed) expect(r.code, r.stderr).toBe(0);
      const again = (await show(id)).cells[0]!;
      expect(again.runId).toBe(`${first.runId}r3`);
      expect(again.status).toBe('queued');
      expect(again.attempts.map((a) => a.runId)).toEqual([first.runId, cell.runId, again.runId]);
      expect(again.attempts[1]).toMatchObject({ outcome: 'withdrawn' });
      expect(jobIdOf(again.runId)).not.toBe(jobId);
      // Another resume submits nothing more: the new job is SLURM's to start.
      expect((await t.ptw(['experiment', 'resume', id])).code).toBe(0);
      expect(readdirSync(t.runRoot).filter((n) => n.startsWith(first.runId))).toHaveLength(3);
      const jobs = cluster.client(['squeue', '-h', '-t', 'all', '-o', '%j']).stdout;
      expect(jobs.split('\n').filter((j) => j === `ptw-${again.runId}`)).toHaveLength(1);

      expect(cluster.client(['scancel', blocker.stdout.trim()]).code).toBe(0);
      let done = again;
      const until = Date.now() + 90_000;
      while (!FINAL.includes(done.status)) {
        if (Date.now() > until) throw new Error(`the resubmitted run never ended: ${JSON.stringify(done)}`);
        await sleep(1_000);
        done = (await show(id)).cells[0]!;
      }
      expect(done).toMatchObject({ status: 'scored', runId: again.runId });
      expect(agentStarts(first.runId)).toBe(0);
      expect(agentStarts(cell.runId)).toBe(0);
      expect(agentStarts(done.runId)).toBe(1);
    } finally {
      cluster.client(['scancel', blocker.stdout.trim()]);
    }
  }, 200_000);
});
