// A SLURM host end to end: a real single-node cluster (slurmctld + slurmd + munged, test/support/slurm-cluster.ts)
// behind the real sshd, runs submitted by `ptw run start` as sbatch jobs that run the host supervisor against the
// test dockerd; seen pending (with SLURM's reason) and running (on its node), `scancel` stopping the container, and
// the job found again by the id in the run folder from an empty PTW_HOME.
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../src/shared/contract';
import type { RunScheduler } from '../../src/shared/runs/run-scheduler';
import { runStartArgs, sleep, type RunTestHost } from '../support/run-test-host';
import type { SlurmCluster } from '../support/slurm-cluster';
import { slurmSuiteSkipReason, slurmTestHostHooks } from '../support/slurm-test-host';

const skipReason = slurmSuiteSkipReason('SLURM backend');

(skipReason ? describe.skip : describe)('runs as SLURM jobs on a real single-node cluster', () => {
  const started = slurmTestHostHooks({ gpus: 1 });
  let cluster: SlurmCluster;
  let t: RunTestHost;
  beforeAll(() => void ({ cluster, t } = started()));

  const show = async (id: string, home?: string): Promise<RunDetail> => {
    const shown = await t.ptw(['run', 'show', id, '--json'], home ? { PTW_HOME: home } : {});
    expect(shown.code, shown.stderr).toBe(0);
    return JSON.parse(shown.stdout) as RunDetail;
  };

  const waitFor = async (
    id: string,
    what: string,
    done: (d: RunDetail) => boolean,
    timeoutMs = 45_000,
  ): Promise<RunDetail> => {
    const deadline = Date.now() + timeoutMs;
    let last: RunDetail | undefined;
    while (Date.now() < deadline) {
      last = await show(id);
      if (done(last)) return last;
      await sleep(500);
    }
    throw new Error(`run ${id} never became ${what}: ${JSON.stringify(last?.summary)}`);
  };

  const jobState = (d: RunDetail): RunScheduler | undefined => d.summary.scheduler;

  it('shows the host as SLURM', async () => {
    const listed = await t.ptw(['host', 'ls', '--json']);
    const host = (JSON.parse(listed.stdout) as Array<{ name: string; scheduler?: unknown }>)[0];
    expect(host).toMatchObject({
      name: 'cluster',
      scheduler: { kind: 'slurm', partition: 'debug', runtime: 'docker' },
    });
  });

  it('pends while the node is taken, runs on it, and scancel stops its container; found again by job id', async () => {
    // Take the whole node, so the run's job waits.
    const blocker = cluster.client(['sbatch', '--parsable', '--exclusive', '--time=5', '--wrap', 'sleep 120']);
    expect(blocker.code, blocker.stderr).toBe(0);

    const id = await t.startRun({ agent: 'custom', command: ['sleep', '300'], budget: '2m', label: 'slurm' });
    const jobId = readFileSync(path.join(t.runDir(id), '.supervisor', 'slurm-job-id'), 'utf8').trim();
    expect(jobId).toMatch(/^\d+$/);
    const script = readFileSync(path.join(t.runDir(id), '.supervisor', 'slurm-job.sh'), 'utf8');
    expect(script).toContain('#SBATCH --time=02:02:00');
    expect(script).toContain('#SBATCH --partition=debug');

    const pending = await waitFor(id, 'pending', (d) => jobState(d)?.state === 'PENDING' && !!jobState(d)?.reason);
    expect(jobState(pending)).toMatchObject({ jobId, state: 'PENDING', source: 'scontrol' });
    expect(['Resources', 'Priority']).toContain(jobState(pending)?.reason);
    // Nothing started on the host yet: no container, and no key lying around but in the 0600 files.
    expect(await t.docker.listContainers({ all: true, filters: { label: [`ptw.run=${id}`] } })).toEqual([]);

    // A second run stopped while it pends: there is no supervisor to ask, so its job is cancelled, the keys' files
    // removed and the run failed.
    const early = await t.startRun({ agent: 'custom', command: ['sleep', '300'], budget: '2m', label: 'early' });
    const earlyJob = readFileSync(path.join(t.runDir(early), '.supervisor', 'slurm-job-id'), 'utf8').trim();
    expect(readFileSync(path.join(t.runDir(early), '.supervisor', 'secrets.json'), 'utf8')).toContain('secrets');
    const stopped = await t.ptw(['run', 'stop', early]);
    expect(stopped.code, stopped.stderr).toBe(0);
    const gone = await waitFor(early, 'failed', (d) => d.summary.status === 'failed');
    expect(jobState(gone)).toMatchObject({ jobId: earlyJob, state: 'CANCELLED' });
    expect(gone.summary.error).toContain(`SLURM job ${earlyJob} ended the run (job cancelled before the run ended)`);
    expect(() => readFileSync(path.join(t.runDir(early), '.supervisor', 'secrets.json'))).toThrow(/ENOENT/);
    expect(() => readFileSync(path.join(t.runDir(early), '.supervisor', 'agent-container.json'))).toThrow(/ENOENT/);

    expect(cluster.client(['scancel', blocker.stdout.trim()]).code).toBe(0);
    const running = await waitFor(
      id,
      'running on the node',
      (d) => jobState(d)?.state === 'RUNNING' && d.summary.status === 'running',
    );
    expect(jobState(running)?.node).toBe('localhost');
    const containers = await t.docker.listContainers({ filters: { label: [`ptw.run=${id}`] } });
    expect(containers.map((c) => c.Names[0])).toEqual([`/ptw-agent-${id}`]);
    // The create request (it held the agent's environment) and the keys' file are gone once used.
    const supervisorDir = path.join(t.runDir(id), '.supervisor');
    expect(() => readFileSync(path.join(supervisorDir, 'agent-container.json'))).toThrow(/ENOENT/);
    expect(() => readFileSync(path.join(supervisorDir, 'secrets.json'))).toThrow(/ENOENT/);

    expect(cluster.client(['scancel', jobId]).code).toBe(0);
    const cancelled = await waitFor(
      id,
      'cancelled',
      (d) => jobState(d)?.state === 'CANCELLED' && d.summary.status === 'failed',
    );
    expect(cancelled.summary.error).toMatch(new RegExp(`SLURM job ${jobId} ended the run`));
    expect(await t.docker.listContainers({ all: true, filters: { label: [`ptw.run=${id}`] } })).toEqual([]);
    expect(cancelled.problems).toEqual([]);
    expect(JSON.stringify(cancelled.events)).toMatch(
      /ended the run \(cancelled \(scancel or the time limit\)\); removed: agent/,
    );

    // A run on a GPU: SLURM gives the job the (fake) GPU, the job puts it in the container's device request, and the
    // supervisor fails the run with Docker's words (there is no NVIDIA runtime here).
    const gpuStart = await t.ptw([
      ...runStartArgs(t.hostName, { agent: 'custom', command: ['true'], budget: '2m' }),
      '--gpus',
      '0',
    ]);
    expect(gpuStart.code, gpuStart.stderr).toBe(0);
    const gpuRun = gpuStart.stdout.trim();
    const gpuDir = path.join(t.runDir(gpuRun), '.supervisor');
    expect(readFileSync(path.join(gpuDir, 'slurm-job.sh'), 'utf8')).toContain('#SBATCH --gres=gpu:1');
    const noGpuRuntime = await waitFor(gpuRun, 'failed', (d) => d.summary.status === 'failed');
    expect(noGpuRuntime.summary.error).toMatch(/could not select device driver "nvidia"/);
    const gpuJob = readFileSync(path.join(gpuDir, 'slurm-job-id'), 'utf8').trim();
    const record = JSON.parse(readFileSync(path.join(gpuDir, 'slurm-job.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ jobId: gpuJob, node: 'localhost', gpus: ['0'] });
    expect(readFileSync(path.join(t.runDir(gpuRun), 'record', `slurm-${gpuJob}.out`), 'utf8')).toContain(
      `ptw: job ${gpuJob} on `,
    );
    expect(await t.docker.listContainers({ all: true, filters: { label: [`ptw.run=${gpuRun}`] } })).toEqual([]);

    // The app restarted with nothing: discovery mirrors the run again and its job is asked for by the stored id.
    const fresh = path.join(t.work, 'ptw-home-fresh');
    cpSync(path.join(t.env.PTW_HOME!, 'hosts.json'), path.join(fresh, 'hosts.json'));
    cpSync(path.join(t.env.PTW_HOME!, 'known_hosts'), path.join(fresh, 'known_hosts'));
    const discovered = await t.ptw(['run', 'ls', '--json'], { PTW_HOME: fresh });
    expect(discovered.code, discovered.stderr).toBe(0);
    const again = await show(id, fresh);
    expect(jobState(again)).toMatchObject({ jobId, state: 'CANCELLED', node: 'localhost' });
  }, 180_000);
});
