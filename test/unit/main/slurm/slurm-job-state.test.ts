import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  jobStateCommand,
  parseSacct,
  parseScontrolShowJob,
  schedulerFromOutput,
} from '../../../../src/main/slurm/slurm-job-state';
import { parseSbatchJobId } from '../../../../src/main/slurm/slurm-launch';
import { isFinalSlurmState, schedulerStatusText } from '../../../../src/shared/runs/run-scheduler';

const fixture = (name: string): string => readFileSync(path.join(__dirname, '../../../fixtures/slurm', name), 'utf8');

describe('scontrol show job -o (captured from the test cluster)', () => {
  it('reads a running job: state, node, exit code', () => {
    expect(parseScontrolShowJob(fixture('scontrol-show-job-running.txt'))).toEqual({
      jobId: '1',
      state: 'RUNNING',
      reason: null,
      node: 'localhost',
      exitCode: '0:0',
    });
  });

  it('reads a pending job with the reason SLURM gives and no node yet', () => {
    expect(parseScontrolShowJob(fixture('scontrol-show-job-pending-resources.txt'))).toMatchObject({
      jobId: '2',
      state: 'PENDING',
      reason: 'Resources',
      node: null,
    });
  });

  it('reads cancelled (signal 15) and failed (exit 3) jobs', () => {
    expect(parseScontrolShowJob(fixture('scontrol-show-job-cancelled.txt'))).toMatchObject({
      state: 'CANCELLED',
      exitCode: '0:15',
    });
    expect(parseScontrolShowJob(fixture('scontrol-show-job-failed.txt'))).toMatchObject({
      state: 'FAILED',
      reason: 'NonZeroExitCode',
      exitCode: '3:0',
    });
  });

  it('returns null for the error a forgotten job gives', () => {
    expect(parseScontrolShowJob(fixture('scontrol-show-job-unknown.stderr.txt'))).toBeNull();
  });

  it('keeps a value that has spaces in it whole', () => {
    const line =
      'JobId=9 JobName=x JobState=PENDING Reason=ReqNodeNotAvail, UnavailableNodes:n1 NodeList= ExitCode=0:0';
    expect(parseScontrolShowJob(line)).toMatchObject({ reason: 'ReqNodeNotAvail, UnavailableNodes:n1', node: null });
  });
});

describe('sacct -X -P -n (captured with slurmdbd)', () => {
  it('reads running and pending rows (None assigned is no node)', () => {
    const text = fixture('sacct-running-pending.txt');
    expect(parseSacct(text, '1')).toEqual({
      jobId: '1',
      state: 'RUNNING',
      reason: null,
      node: 'localhost',
      exitCode: '0:0',
    });
    expect(parseSacct(text, '2')).toMatchObject({ state: 'PENDING', node: null });
  });

  it('reads final rows, `CANCELLED by 0` included, and nothing for a job it does not list', () => {
    const text = fixture('sacct-cancelled-failed-completed.txt');
    expect(parseSacct(text, '1')?.state).toBe('CANCELLED by 0');
    expect(isFinalSlurmState('CANCELLED by 0')).toBe(true);
    expect(parseSacct(text, '3')).toMatchObject({ state: 'FAILED', exitCode: '3:0' });
    expect(parseSacct(text, '4')?.state).toBe('COMPLETED');
    expect(parseSacct(text, '5')).toBeNull();
    expect(isFinalSlurmState('RUNNING')).toBe(false);
  });
});

describe('the scheduler part of a run', () => {
  const scontrolPending = fixture('scontrol-show-job-pending-resources.txt');

  it('comes from scontrol while the controller knows the job', () => {
    const output = `--scontrol\n${scontrolPending}--sacct\n${fixture('sacct-accounting-disabled.stderr.txt')}`;
    const s = schedulerFromOutput('2', output, 5);
    expect(s).toMatchObject({ kind: 'slurm', jobId: '2', state: 'PENDING', reason: 'Resources', source: 'scontrol' });
    expect(schedulerStatusText(s)).toBe('SLURM job 2: pending (Resources)');
  });

  it('falls back to sacct once the controller forgot the job', () => {
    const output = `--scontrol\n${fixture('scontrol-show-job-unknown.stderr.txt')}--sacct\n${fixture('sacct-cancelled-failed-completed.txt')}`;
    const s = schedulerFromOutput('3', output, 5);
    expect(s).toMatchObject({ state: 'FAILED', source: 'sacct', exitCode: '3:0' });
    expect(schedulerStatusText(s)).toBe('SLURM job 3: failed on localhost, exit 3:0');
  });

  it('says UNKNOWN with what both clients said when neither knows the job', () => {
    const output = `--scontrol\n${fixture('scontrol-show-job-unknown.stderr.txt')}--sacct\n${fixture('sacct-accounting-disabled.stderr.txt')}`;
    const s = schedulerFromOutput('7', output, 5);
    expect(s.state).toBe('UNKNOWN');
    expect(s.note).toBe('slurm_load_jobs error: Invalid job id specified; Slurm accounting storage is disabled');
  });

  it('shows a running job with its node', () => {
    const s = schedulerFromOutput('1', `--scontrol\n${fixture('scontrol-show-job-running.txt')}--sacct\n`, 1);
    expect(schedulerStatusText(s)).toBe('SLURM job 1: running on localhost');
  });

  it('asks for a job id only', () => {
    expect(jobStateCommand('42')).toContain('scontrol show job -o 42');
    expect(() => jobStateCommand('42; rm -rf ~')).toThrow(/not a SLURM job id/);
  });

  it('reads the job id sbatch --parsable prints', () => {
    expect(parseSbatchJobId('17\n')).toBe('17');
    expect(parseSbatchJobId('17;cluster\n')).toBe('17');
    expect(parseSbatchJobId('')).toBeNull();
  });
});
