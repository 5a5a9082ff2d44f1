import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import type { SlurmScheduler } from '../../shared/hosts';
import { isFinalSlurmState, runSchedulerSchema, type RunScheduler } from '../../shared/runs/run-scheduler';
import { shellQuote } from '../../shared/shell-quote';
import { HOST_PACKAGE_FILE } from '../host-package/host-package';
import type { HostSession } from '../hosts/host-exec-types';
import { buildAgentContainerConfig, type AgentContainerPlan } from '../runs/agent-container';
import { jobStateCommand, schedulerFromOutput } from './slurm-job-state';
import {
  SLURM_CREATE_REQUEST_FILE,
  SLURM_JOB_ID_FILE,
  SLURM_SECRETS_FILE,
  slurmJobScript,
  type SlurmJobPlan,
} from './slurm-job-script';

/**
 * The launcher's step for a host whose runs are SLURM jobs (docs/slurm.md), in place of starting the supervisor
 * directly: the container's create request and the keys go into the run folder (0600, in the 0700 folder), the job
 * script next to them, then `sbatch`; the job id is written into the run folder, so the run can be found again by
 * it after the app restarts. Nothing waits for the job: it may pend for hours.
 */

/** The job script inside the run folder. */
export const SLURM_JOB_SCRIPT_FILE = '.supervisor/slurm-job.sh';

/** The agent container's name: fixed before the job exists, so run.json can name it (the job creates it). */
export function slurmContainerName(runId: string): string {
  return `ptw-agent-${runId}`;
}

/** How many GPUs the job asks SLURM for: the ones the spec names (by count; SLURM picks which), or one when the
 * task needs a GPU. */
export function slurmGpuCount(requested: readonly number[], needsGpu: boolean): number {
  return requested.length > 0 ? requested.length : needsGpu ? 1 : 0;
}

/**
 * The launcher's GPU choice on a SLURM host: SLURM picks the GPUs when the job starts, so the login node's
 * nvidia-smi is not asked; the plan holds placeholders 0..n-1 that the job replaces with its own (slurm_job.py).
 */
export function chooseSlurmGpus(input: { requested: readonly number[]; needsGpu: boolean }): {
  gpus: number[];
  sampleGpus: boolean;
} {
  const count = slurmGpuCount(input.requested, input.needsGpu);
  return { gpus: Array.from({ length: count }, (_, i) => i), sampleGpus: count > 0 };
}

/** `sbatch --parsable` prints `ID` or `ID;cluster`. */
export function parseSbatchJobId(stdout: string): string | null {
  const first = stdout.trim().split('\n').pop()?.split(';')[0]?.trim() ?? '';
  return /^\d+$/.test(first) ? first : null;
}

export interface SlurmSubmitInput {
  session: HostSession;
  host: string;
  scheduler: SlurmScheduler;
  /** The agent container as the launcher planned it (created by the job, on its node, under its fixed name). */
  agent: AgentContainerPlan;
  /** The nodes' Docker socket (the profile's). */
  dockerSocket: string;
  budgetSeconds: number;
  /** The supervisor's stdin (supervisorSecretsLine). */
  secretsLine: string;
}

/** The sbatch plan of a run from its agent container's plan. */
export function slurmPlanFor(
  agent: AgentContainerPlan,
  dockerSocket: string,
  budgetSeconds: number,
): Omit<SlurmJobPlan, 'scheduler'> {
  return {
    runId: agent.runId,
    runDir: agent.runDir,
    gpuCount: agent.gpus.length,
    budgetSeconds,
    dockerSocket,
    containerName: slurmContainerName(agent.runId),
    image: agent.image,
    command: agent.command,
    env: agent.env,
  };
}

export async function submitSlurmRun(input: SlurmSubmitInput): Promise<{ jobId: string; scheduler: RunScheduler }> {
  const { session, host } = input;
  const plan = slurmPlanFor(input.agent, input.dockerSocket, input.budgetSeconds);
  const runtime = input.scheduler.runtime;
  if (runtime !== 'docker' && runtime !== 'podman') {
    throw new AppError(
      'HOST_REQUIREMENT_MISSING',
      `${host} runs containers with ${runtime}; the run supervisor drives containers through the Docker API, so ` +
        `runs there need the docker or podman runtime (ptw host add ${host} … --runtime docker). The ${runtime} job ` +
        `script is generated for reference only (docs/slurm.md).`,
    );
  }
  const script = slurmJobScript({ ...plan, scheduler: input.scheduler });
  const at = (file: string): string => path.posix.join(plan.runDir, file);
  const { name: _unnamed, ...body } = buildAgentContainerConfig(input.agent);
  await session.writeFile(at(SLURM_CREATE_REQUEST_FILE), `${JSON.stringify({ name: plan.containerName, body })}\n`, {
    mode: 0o600,
  });
  await session.writeFile(at(SLURM_SECRETS_FILE), input.secretsLine, { mode: 0o600 });
  await session.writeFile(at(SLURM_JOB_SCRIPT_FILE), script, { mode: 0o700 });
  const submitted = await session.exec(
    `cd -- ${shellQuote(plan.runDir)} && sbatch --parsable ${SLURM_JOB_SCRIPT_FILE}`,
    { timeoutMs: 60_000 },
  );
  const said = `${submitted.stdout}\n${submitted.stderr}`.trim();
  if (submitted.code === 127 || /sbatch: (command )?not found/.test(said)) {
    throw new AppError('HOST_REQUIREMENT_MISSING', `${host} has no sbatch on the PATH of the SSH session: ${said}`);
  }
  const jobId = submitted.code === 0 ? parseSbatchJobId(submitted.stdout) : null;
  if (!jobId) {
    throw new AppError(
      'INVALID_INPUT',
      `SLURM on ${host} refused the job (sbatch exit ${submitted.code}): ${said.slice(0, 600)}. ` +
        `Check the host's partition, account, QoS and GPU request (ptw host add ${host} … --partition P --gpu-gres gpu:1).`,
    );
  }
  await session.writeFile(at(SLURM_JOB_ID_FILE), `${jobId}\n`, { mode: 0o644 });
  return { jobId, scheduler: await querySlurmJob(session, jobId) };
}

/** The job's state now, from scontrol (or sacct once the controller forgot it). */
export async function querySlurmJob(session: HostSession, jobId: string, now = Date.now): Promise<RunScheduler> {
  const result = await session.exec(jobStateCommand(jobId), { timeoutMs: 30_000 });
  return schedulerFromOutput(jobId, result.stdout, now());
}

/** The job id the launcher left in a run folder, or null for a run that is no job. */
export async function readSlurmJobId(session: HostSession, hostRunDir: string): Promise<string | null> {
  const text = await session.readFile(path.posix.join(hostRunDir, SLURM_JOB_ID_FILE)).then(
    (b) => b.toString('utf8').trim(),
    () => '',
  );
  return /^\d+$/.test(text) ? text : null;
}

/**
 * Reattach: the job id from the run folder, its state from SLURM, kept as the mirror's `scheduler.json`. Null when
 * the run folder names no job.
 */
export async function refreshSlurmState(input: {
  session: HostSession;
  hostRunDir: string;
  dockerSocket: string;
  write(scheduler: RunScheduler): Promise<void>;
}): Promise<RunScheduler | null> {
  const jobId = await readSlurmJobId(input.session, input.hostRunDir);
  if (!jobId) return null;
  const scheduler = runSchedulerSchema.parse(await querySlurmJob(input.session, jobId));
  if (isFinalSlurmState(scheduler.state)) {
    await input.session.exec(endedJobScript(input.hostRunDir, input.dockerSocket, scheduler.state), {
      timeoutMs: 30_000,
    });
  }
  await input.write(scheduler);
  return scheduler;
}

/**
 * `ptw run stop` of a run whose job has not started its supervisor: `scancel`, then the same clean-up as for any
 * job that ended early (the keys' files removed, the run failed). Null for a run that is no job.
 */
export async function cancelSlurmJob(input: {
  session: HostSession;
  hostRunDir: string;
  dockerSocket: string;
}): Promise<RunScheduler | null> {
  const jobId = await readSlurmJobId(input.session, input.hostRunDir);
  if (!jobId) return null;
  const cancelled = await input.session.exec(`scancel ${jobId}`, { timeoutMs: 30_000 });
  if (cancelled.code !== 0) {
    throw new AppError(
      'INTERNAL',
      `scancel ${jobId} failed (exit ${cancelled.code}): ${`${cancelled.stdout}\n${cancelled.stderr}`.trim()}`,
    );
  }
  await input.session.exec(endedJobScript(input.hostRunDir, input.dockerSocket, 'CANCELLED'), { timeoutMs: 30_000 });
  return querySlurmJob(input.session, jobId);
}

/**
 * A job that ended without its script running to the end (cancelled while pending, a node that failed) leaves no
 * trap behind: its run folder still holds the keys' files and no final state. `slurm-job stop` (run on the login
 * node) removes them and marks the run failed; it does nothing to a run whose state is already final.
 */
export function endedJobScript(runDir: string, dockerSocket: string, state: string): string {
  const q = shellQuote;
  const reason = `job ${state.split(' ')[0]!.toLowerCase()} before the run ended`;
  return [
    `cd -- ${q(runDir)} || exit 0`,
    `if [ ! -f state.json ] || [ -f ${SLURM_SECRETS_FILE} ] || [ -f ${SLURM_CREATE_REQUEST_FILE} ]; then`,
    `  python3 .supervisor/${HOST_PACKAGE_FILE} slurm-job stop --run-dir . --docker-socket ${q(dockerSocket)} --reason ${q(reason)} --wait 0`,
    'fi',
  ].join('\n');
}

/** The mirror's copy of what the scheduler last said (read into the run's summary). */
export const SCHEDULER_RECORD_FILE = 'scheduler.json';

/** Writes the scheduler record into a run's local mirror folder (replaced atomically). */
export async function writeSchedulerRecord(mirrorDir: string, scheduler: RunScheduler): Promise<void> {
  const file = path.join(mirrorDir, SCHEDULER_RECORD_FILE);
  await writeFile(`${file}.tmp`, `${JSON.stringify(scheduler, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}

/** The scheduler record of a run's mirror, or undefined for a run that is no job (or an unreadable record). */
export async function readSchedulerRecord(mirrorDir: string): Promise<RunScheduler | undefined> {
  const text = await readFile(path.join(mirrorDir, SCHEDULER_RECORD_FILE), 'utf8').catch(() => null);
  if (text === null) return undefined;
  try {
    const parsed = runSchedulerSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
