import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { QueueBackend } from '../../../../src/main/experiments/experiment-service';
import { queueBackendFor, slurmCellSpec } from '../../../../src/main/experiments/slurm-queue';
import {
  classifyAttempt,
  jobsToAsk,
  parseSinfoGpus,
  parseSlurmAttempts,
  parseSlurmJobs,
  resubmittable,
  retryDue,
  slurmAttemptsScript,
  slurmEntry,
  slurmJobsScript,
  type SlurmAttempt,
} from '../../../../src/main/experiments/slurm-queue-state';
import { hostProfileSchema } from '../../../../src/shared/hosts';
import type { RunScheduler } from '../../../../src/shared/runs/run-scheduler';

const fixture = (name: string): string => readFileSync(path.join(__dirname, '../../../fixtures/slurm', name), 'utf8');

describe('the queue backend of a host', () => {
  const slurm = { movable: false } as QueueBackend;
  it('is SLURM’s for a host with a slurm scheduler, the dispatcher’s (undefined) otherwise', () => {
    const cluster = hostProfileSchema.parse({
      name: 'cluster',
      kind: 'ssh',
      hostname: 'login.example',
      scheduler: { kind: 'slurm', partition: 'gpu' },
    });
    const box = hostProfileSchema.parse({ name: 'box', kind: 'ssh', hostname: 'box.example' });
    expect(queueBackendFor(cluster, slurm)).toBe(slurm);
    expect(queueBackendFor(box, slurm)).toBeUndefined();
  });

  it('asks SLURM for gpusPerRun GPUs for a benchmark task and none for a rehearsal', () => {
    const base = {
      gpusPerRun: 2,
      priority: 0,
      experimentId: 'exp-1',
      experimentName: 'x',
      cellKey: 'k',
      retries: { infrastructure: 0, agent: 0 },
    };
    const ptb = { host: 'c', task: { kind: 'ptb', benchmark: 'gsm8k', baseModel: 'Qwen/Qwen3-4B-Base' } };
    expect(slurmCellSpec({ ...base, spec: ptb })).toEqual({ ...ptb, gpus: [0, 1] });
    const rehearsal = { host: 'c', task: { kind: 'rehearsal' } };
    expect(slurmCellSpec({ ...base, spec: rehearsal })).toEqual(rehearsal);
  });
});

describe('the run folders of a SLURM experiment, read by the attempts script (run by bash here)', () => {
  let root = '';
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('lists each cell’s attempts in order with their job, whether they began, and state.json', () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'ptw-slurm-queue-'));
    const folder = (name: string, files: Record<string, string>) => {
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(root, name, file)), { recursive: true });
        writeFileSync(path.join(root, name, file), text);
      }
    };
    // r-a: cancelled while pending (withdrawn), then resubmitted twice; the third attempt scored.
    folder('r-a', {
      '.supervisor/slurm-job-id': '11\n',
      '.supervisor/withdrawn': '',
      'record/.keep': '',
      '.supervisor/experiment-retries.json': '{"infrastructure":2,"agent":0}\n',
      '.supervisor/experiment-retried.json': '{"kind":"infrastructure","why":"SLURM job 11: node_fail","at":1}\n',
    });
    folder('r-ar2', { '.supervisor/slurm-job-id': '12\n', 'record/slurm-12.out': 'ptw: job 12' });
    folder('r-ar10', {
      '.supervisor/slurm-job-id': '20\n',
      '.supervisor/slurm-job.json': '{}',
      'state.json': JSON.stringify(
        { status: 'scored', startedAt: 5, evaluation: { metrics: { accuracy: 0.25 } } },
        null,
        2,
      ),
    });
    // r-b: pending, nothing but its job id; r-bx is another run whose id only starts like it.
    folder('r-b', { '.supervisor/slurm-job-id': '13\n' });
    folder('r-bx', { '.supervisor/slurm-job-id': '99\n' });
    const script = slurmAttemptsScript(root, ['r-a', 'r-b', 'r-gone']);
    const ran = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(ran.status, ran.stderr).toBe(0);
    const attempts = parseSlurmAttempts(ran.stdout);
    expect([...attempts.keys()].sort()).toEqual(['r-a', 'r-b']);
    expect(attempts.get('r-a')!.map((a) => [a.runId, a.number, a.jobId, a.began, a.withdrawn])).toEqual([
      ['r-a', 1, '11', false, true],
      ['r-ar2', 2, '12', true, false],
      ['r-ar10', 10, '20', true, false],
    ]);
    expect(attempts.get('r-a')!.at(-1)!.state).toMatchObject({ status: 'scored', startedAt: 5, score: 25 });
    expect(attempts.get('r-a')![0]).toMatchObject({
      retries: { infrastructure: 2, agent: 0 },
      retried: { kind: 'infrastructure', why: 'SLURM job 11: node_fail' },
    });
    expect(attempts.get('r-b')).toEqual([
      { runId: 'r-b', number: 1, jobId: '13', began: false, withdrawn: false, state: null },
    ]);
    expect(jobsToAsk(attempts)).toEqual(['13']);
    expect(jobsToAsk(attempts, true).sort()).toEqual(['13', '20']);
  });

  it('refuses an id the script could not quote into a glob safely', () => {
    expect(() => slurmAttemptsScript('/runs', ['r-a', '../x'])).toThrow(/not a run id/);
    expect(() => slurmJobsScript(['1', '2;rm'])).toThrow(/not a SLURM job id/);
  });
});

describe('many jobs at once from squeue and sacct (captured from the test cluster)', () => {
  it('reads running and pending jobs with their reason and node; an id squeue forgot is UNKNOWN', () => {
    const { jobs, answered } = parseSlurmJobs(fixture('experiment-jobs-running-pending.txt'), ['1', '2', '9999'], 7);
    expect(answered).toBe(true);
    expect(jobs.get('1')).toMatchObject({ state: 'RUNNING', node: 'localhost', reason: null, source: 'squeue' });
    expect(jobs.get('2')).toMatchObject({ state: 'PENDING', reason: 'Resources', node: null });
    expect(jobs.get('9999')).toMatchObject({
      state: 'UNKNOWN',
      source: 'none',
      note: expect.stringMatching(/neither/),
    });
  });

  it('counts "Invalid job id specified" for ids all forgotten as an answer, a failing squeue as none', () => {
    expect(parseSlurmJobs(fixture('experiment-jobs-forgotten.txt'), ['9998'], 1)).toMatchObject({ answered: true });
    const down = parseSlurmJobs(fixture('experiment-jobs-squeue-failed.txt'), ['1'], 1);
    expect(down.answered).toBe(false);
    expect(down.jobs.get('1')).toMatchObject({ state: 'UNKNOWN', note: expect.stringMatching(/^squeue: error/) });
  });

  it('falls back to sacct for a job squeue no longer lists', () => {
    const sacct = fixture('sacct-cancelled-failed-completed.txt');
    const firstId = sacct.split('\n')[0]!.split('|')[0]!;
    const text = `--squeue\nslurm_load_jobs error: Invalid job id specified\n--rc 1\n--sacct\n${sacct}`;
    expect(parseSlurmJobs(text, [firstId], 1).jobs.get(firstId)).toMatchObject({ source: 'sacct', jobId: firstId });
  });
});

describe('a cell’s state from its attempts and its job', () => {
  const attempt = (over: Partial<SlurmAttempt> = {}): SlurmAttempt => ({
    runId: 'r-a',
    number: 1,
    jobId: '5',
    began: false,
    withdrawn: false,
    state: null,
    ...over,
  });
  const job = (state: string, over: Partial<RunScheduler> = {}): Map<string, RunScheduler> =>
    new Map([
      [
        '5',
        {
          ...{ kind: 'slurm' as const, jobId: '5', state, reason: null, node: null, exitCode: null },
          ...{ source: 'squeue' as const, checkedAt: 1, ...over },
        },
      ],
    ]);

  it('is queued with SLURM’s reason while the job pends', () => {
    expect(slurmEntry('r-a', [attempt()], job('PENDING', { reason: 'Resources' }), true)).toMatchObject({
      state: 'pending',
      note: 'SLURM job 5: pending (Resources)',
    });
  });

  it('is starting on its node once the job runs, then the run’s own status from state.json', () => {
    expect(slurmEntry('r-a', [attempt({ began: true })], job('RUNNING', { node: 'node7' }), true)).toMatchObject({
      state: 'started',
      run: { status: 'starting' },
      note: 'SLURM job 5: running on node7',
    });
    const running = attempt({ began: true, state: { status: 'running', startedAt: 3, deadline: 9 } });
    expect(slurmEntry('r-a', [running], job('RUNNING'), true)).toMatchObject({
      state: 'started',
      run: { status: 'running', startedAt: 3, deadline: 9 },
    });
    const scored = attempt({ began: true, state: { status: 'scored', score: 40 } });
    expect(slurmEntry('r-a', [scored], new Map(), true)).toMatchObject({
      state: 'done',
      run: { status: 'scored', score: 40 },
      attempts: [{ runId: 'r-a', final: 'scored' }],
    });
  });

  it('is failed, saying so, when the job ended or vanished before the run began; withdrawn after stop', () => {
    expect(slurmEntry('r-a', [attempt()], job('CANCELLED'), true)).toMatchObject({
      state: 'done',
      run: { status: 'failed', error: expect.stringMatching(/^SLURM job 5: cancelled before the run started/) },
    });
    const gone = job('UNKNOWN', { source: 'none', note: 'neither squeue nor sacct knows it' });
    expect(slurmEntry('r-a', [attempt()], gone, true)).toMatchObject({ state: 'done', run: { status: 'failed' } });
    // A cluster that did not answer says nothing about the job: still queued, with what squeue said.
    expect(slurmEntry('r-a', [attempt()], job('UNKNOWN', { source: 'none', note: 'down' }), false)).toMatchObject({
      state: 'pending',
      note: 'SLURM job 5: state unknown (down)',
    });
    const withdrawn = attempt({ withdrawn: true, state: { status: 'failed' } });
    expect(slurmEntry('r-a', [withdrawn], job('CANCELLED'), true)).toMatchObject({ state: 'withdrawn' });
  });

  it('is submitted again only when its job is over and it never began', () => {
    const jobOf = (m: Map<string, RunScheduler>) => m.get('5');
    expect(resubmittable(attempt(), jobOf(job('CANCELLED')), true)).toBe(true);
    expect(resubmittable(attempt({ withdrawn: true }), jobOf(job('CANCELLED')), true)).toBe(true);
    expect(resubmittable(attempt(), jobOf(job('UNKNOWN')), true)).toBe(true);
    // Never a job SLURM may still start, one that began, or one the cluster said nothing about.
    expect(resubmittable(attempt({ withdrawn: true }), jobOf(job('PENDING')), true)).toBe(false);
    expect(resubmittable(attempt({ began: true }), jobOf(job('CANCELLED')), true)).toBe(false);
    expect(resubmittable(attempt({ state: { status: 'failed', startedAt: 4 } }), jobOf(job('FAILED')), true)).toBe(
      false,
    );
    expect(resubmittable(attempt(), jobOf(job('UNKNOWN')), false)).toBe(false);
    expect(resubmittable(attempt(), undefined, true)).toBe(false);
  });
});

describe('retries on SLURM (the matrix’s policy, as the dispatcher applies it on docker hosts)', () => {
  const attempt = (over: Partial<SlurmAttempt> = {}): SlurmAttempt => ({
    ...{ runId: 'r-a', number: 1, jobId: '5', began: true, withdrawn: false, state: null },
    ...over,
  });
  const jobs = (state: string): Map<string, RunScheduler> =>
    new Map([
      [
        '5',
        { kind: 'slurm', jobId: '5', state, reason: null, node: null, exitCode: null, source: 'squeue', checkedAt: 1 },
      ],
    ]);
  const policy = { infrastructure: 1, agent: 0 };

  it('classifies a final attempt: the agent’s result, its own failure, or the infrastructure’s', () => {
    const of = (state: SlurmAttempt['state'], over: Partial<SlurmAttempt> = {}) =>
      classifyAttempt(attempt({ state, ...over }), jobs('COMPLETED').get('5'), true)?.kind;
    expect(of({ status: 'scored', score: 50 })).toBe('result');
    expect(of({ status: 'no-model', exitCode: 1, stopReason: 'agent-exited' })).toBe('agent');
    expect(of({ status: 'evaluation-failed' })).toBe('agent');
    expect(of({ status: 'failed', error: 'could not create the container' })).toBe('infrastructure');
    expect(of({ status: 'no-model', exitCode: null, stopReason: null })).toBe('infrastructure');
    expect(of({ status: 'evaluation-failed', error: 'No space left on device' })).toBe('infrastructure');
    expect(of({ status: 'running' })).toBeUndefined();
    // A job that ended before its run began (an administrator's scancel, a failed node): the infrastructure's.
    expect(of(null, { began: false })).toBe('infrastructure');
    expect(of({ status: 'failed' }, { began: false, withdrawn: true })).toBe('withdrawn');
  });

  it('retries an infrastructure failure up to the policy’s count, never an agent failure by default', () => {
    const failed = attempt({ state: { status: 'failed', startedAt: 2 }, retries: policy });
    expect(retryDue([failed], jobs('COMPLETED'), true)).toMatchObject({ kind: 'infrastructure' });
    const second = attempt({ runId: 'r-ar2', number: 2, state: { status: 'failed', startedAt: 3 } });
    expect(retryDue([failed, second], jobs('COMPLETED'), true)).toBeNull();
    const agent = attempt({ state: { status: 'no-model', exitCode: 2, stopReason: 'agent-exited' }, retries: policy });
    expect(retryDue([agent], jobs('COMPLETED'), true)).toBeNull();
    // No policy left in the folder (a run not from an experiment): nothing.
    expect(retryDue([attempt({ state: { status: 'failed', startedAt: 2 } })], jobs('COMPLETED'), true)).toBeNull();
  });

  it('retries a job that ended before it began only once SLURM cannot start it any more', () => {
    const early = attempt({ began: false, retries: policy });
    expect(retryDue([early], jobs('CANCELLED'), true)).toMatchObject({ kind: 'infrastructure' });
    expect(retryDue([early], jobs('PENDING'), true)).toBeNull();
    expect(retryDue([early], jobs('UNKNOWN'), false)).toBeNull();
    // Withdrawn by `experiment stop`: resume's to submit again, not a retry.
    expect(retryDue([attempt({ began: false, withdrawn: true, retries: policy })], jobs('CANCELLED'), true)).toBeNull();
  });
});

describe('a partition’s GPUs from sinfo', () => {
  it('sums the GPUs of usable nodes (captured output, typed and untyped GRES, down and drained nodes left out)', () => {
    expect(parseSinfoGpus(fixture('sinfo-nodes-mixed.txt'))).toEqual({ totalGpus: 2, nodes: 1 });
    const many = [
      'n1|gpu:a100:4(S:0-1),gpu:v100:2|idle',
      'n1|gpu:a100:4(S:0-1),gpu:v100:2|idle', // listed again for a second partition
      'n2|gpu:8|allocated',
      'n3|gpu:8|down*',
      'n4|gpu:8|drained',
      'n5|(null)|idle',
    ].join('\n');
    expect(parseSinfoGpus(many)).toEqual({ totalGpus: 14, nodes: 3 });
  });
});
