import path from 'node:path';
import { AppError } from '../../shared/errors';
import type { HostProfile } from '../../shared/hosts';
import { isFinalSlurmState } from '../../shared/runs/run-scheduler';
import { shellQuote } from '../../shared/shell-quote';
import type { HostSession } from '../hosts/host-exec-types';
import { runJsonSchema } from '../runs/launch-plan';
import { launchRun, type LaunchDeps } from '../runs/run-launcher';
import { endedJobScript, readSchedulerRecord } from '../slurm/slurm-launch';
import type { QueueBackend } from './experiment-service';
import type { QueueRunInput, QueueStatus } from './host-queue';
import {
  jobsToAsk,
  parseSinfoGpus,
  parseSlurmAttempts,
  parseSlurmJobs,
  resubmittable,
  retryDue,
  slurmAttemptsScript,
  slurmEntry,
  slurmJobsScript,
  SLURM_RETRIED_FILE,
  SLURM_RETRIES_FILE,
  SLURM_WITHDRAWN_FILE,
  type RetryPolicy,
  type SlurmAttempt,
} from './slurm-queue-state';

/**
 * An experiment's queue on a SLURM cluster (issue 17; docs/slurm.md, "Experiments"): SLURM's own. Placing a cell
 * there launches its run as any run on that host is launched (src/main/slurm/slurm-launch.ts): the run folder on the
 * shared filesystem, then `sbatch` at once (`--gres` from the matrix's gpusPerRun for a benchmark task, `--time` =
 * budget + grace, partition/account/QoS from the profile), and SLURM decides when it starts. No dispatcher, nothing to
 * drain or pause; cells are never moved to another host (`movable: false`). State comes from the run folders and
 * one `squeue` (then `sacct`) for all of the host's jobs.
 */

/** The backend of a host: SLURM's for a host whose runs are sbatch jobs, undefined for the dispatcher's queue. */
export function queueBackendFor(profile: HostProfile, slurm: QueueBackend): QueueBackend | undefined {
  return profile.scheduler?.kind === 'slurm' ? slurm : undefined;
}

/** The spec of a cell on SLURM: a benchmark task asks for gpusPerRun GPUs (SLURM picks which); a rehearsal none. */
export function slurmCellSpec(input: QueueRunInput): unknown {
  const spec = input.spec as { task?: { kind?: string }; gpus?: number[] };
  if (spec.task?.kind !== 'ptb' || (spec.gpus?.length ?? 0) > 0) return spec;
  return { ...spec, gpus: Array.from({ length: input.gpusPerRun }, (_, i) => i) };
}

interface HostRead {
  attempts: Map<string, SlurmAttempt[]>;
  jobs: ReturnType<typeof parseSlurmJobs>['jobs'];
  answered: boolean;
}

export function slurmQueueBackend(launch: LaunchDeps, now: () => number = Date.now): QueueBackend {
  const session = (host: string): Promise<HostSession> => launch.session(host);

  const run = async (s: HostSession, host: string, script: string, what: string): Promise<string> => {
    const result = await s.exec(script, { timeoutMs: 60_000 });
    if (result.code !== 0) {
      throw new AppError(
        'INTERNAL',
        `${what} on ${host} failed (exit ${result.code}): ${`${result.stdout}\n${result.stderr}`.trim().slice(0, 500)}`,
      );
    }
    return result.stdout;
  };

  const read = async (s: HostSession, host: string, runRoot: string, ids: string[], all = false): Promise<HostRead> => {
    if (ids.length === 0) return { attempts: new Map(), jobs: new Map(), answered: true };
    const attempts = parseSlurmAttempts(
      await run(s, host, slurmAttemptsScript(runRoot, ids), "Reading the experiment's run folders"),
    );
    const jobIds = jobsToAsk(attempts, all);
    if (jobIds.length === 0) return { attempts, jobs: new Map(), answered: true };
    const asked = await s.exec(slurmJobsScript(jobIds), { timeoutMs: 60_000 });
    return { attempts, ...parseSlurmJobs(asked.stdout, jobIds, now()) };
  };

  /** Leaves the matrix's retry policy in a run folder (read back with its attempts). */
  const writeRetries = async (s: HostSession, runDir: string, retries: RetryPolicy): Promise<void> => {
    await s.writeFile(path.posix.join(runDir, SLURM_RETRIES_FILE), `${JSON.stringify(retries)}\n`, { mode: 0o644 });
  };

  /**
   * Submits a cell again as its next attempt `<id>r<n>`, from the current attempt's run.json (same spec, same
   * experiment, same retry policy). False when another app instance submitted it first: the run folder's mkdir
   * lets exactly one of them have it.
   */
  const resubmit = async (s: HostSession, runRoot: string, id: string, a: SlurmAttempt): Promise<boolean> => {
    const runJson = runJsonSchema.parse(
      JSON.parse((await s.readFile(path.posix.join(runRoot, a.runId, 'run.json'))).toString('utf8')),
    );
    const runId = `${id}r${a.number + 1}`;
    try {
      const launched = await launchRun(launch, runJson.spec, {
        runId,
        ...(runJson.experiment ? { experiment: runJson.experiment } : {}),
      });
      if (a.retries) await writeRetries(s, launched.hostRunDir, a.retries);
      return true;
    } catch (err) {
      const there = await s.exec(`test -d ${shellQuote(path.posix.join(runRoot, runId))}`);
      if (there.code === 0 && err instanceof AppError && err.code === 'RUN_ROOT_NOT_WRITABLE') return false;
      throw err;
    }
  };

  return {
    movable: false,

    // The split treats the cluster as the GPUs of its partition's usable nodes (SLURM queues what does not fit).
    capacity: async (profile) => {
      const partition = profile.scheduler?.partition;
      const s = await session(profile.name);
      const listed = await run(
        s,
        profile.name,
        `sinfo -h -N ${partition ? `-p ${shellQuote(partition)} ` : ''}-o '%N|%G|%T'`,
        'Asking SLURM for its nodes (sinfo)',
      );
      const { totalGpus } = parseSinfoGpus(listed);
      return { name: profile.name, freeGpus: totalGpus, totalGpus };
    },

    enqueue: async (input) => {
      const launched = await launchRun(launch, slurmCellSpec(input), {
        experiment: { id: input.experimentId, name: input.experimentName },
      });
      const hostName = (input.spec as { host: string }).host;
      await writeRetries(await session(hostName), launched.hostRunDir, input.retries);
      const scheduler = await readSchedulerRecord(launched.mirror.dir);
      return {
        runId: launched.id,
        runRoot: path.posix.dirname(launched.hostRunDir),
        ...(scheduler ? { jobId: scheduler.jobId } : {}),
      };
    },

    drain: async () => undefined,
    resume: async () => undefined,

    // With no dispatcher on the cluster, a look at the cells also makes the retries the matrix's policy allows.
    status: async (host, runRoot, ids): Promise<QueueStatus> => {
      const s = await session(host);
      let { attempts, jobs, answered } = await read(s, host, runRoot, ids);
      let retried = false;
      for (const id of ids) {
        const outcome = retryDue(attempts.get(id) ?? [], jobs, answered);
        if (!outcome) continue;
        const current = attempts.get(id)!.at(-1)!;
        // The retry's record, in the attempt it follows (the cell's attempts show it).
        const record = `${JSON.stringify({ ...outcome, at: now() })}\n`;
        await s.writeFile(path.posix.join(runRoot, current.runId, SLURM_RETRIED_FILE), record, { mode: 0o644 });
        retried = (await resubmit(s, runRoot, id, current)) || retried;
      }
      if (retried) ({ attempts, jobs, answered } = await read(s, host, runRoot, ids));
      const entries = ids.flatMap((id) => {
        const entry = slurmEntry(id, attempts.get(id) ?? [], jobs, answered);
        return entry ? [entry] : [];
      });
      return { now: now(), root: runRoot, paused: null, entries };
    },

    move: async (host, runRoot, move) => {
      const s = await session(host);
      const ids = [...(move.withdraw ?? []), ...(move.requeue ?? [])];
      const { attempts, jobs, answered } = await read(s, host, runRoot, ids, true);
      const profile = await launch.profile(host);
      const moved: string[] = [];
      const current = (id: string) => attempts.get(id)?.at(-1);

      // Withdraw: cancel each job SLURM still queues (never one whose run began: `stop` stops those gracefully).
      const cancel = (move.withdraw ?? []).filter((id) => {
        const a = current(id);
        const job = a?.jobId ? jobs.get(a.jobId) : undefined;
        return !!a?.jobId && !a.began && !a.state?.startedAt && !!job && !isFinalSlurmState(job.state);
      });
      if (cancel.length > 0) {
        const dirs = cancel.map((id) => path.posix.join(runRoot, current(id)!.runId));
        const q = shellQuote;
        await run(
          s,
          host,
          [
            ...dirs.map((d) => `touch -- ${q(path.posix.join(d, SLURM_WITHDRAWN_FILE))}`),
            `scancel ${cancel.map((id) => current(id)!.jobId).join(' ')}`,
          ].join(' && '),
          "Cancelling the experiment's queued jobs (scancel)",
        );
        // Their scripts never ran: remove the keys' files and mark the runs failed, as for any job cancelled early.
        for (const d of dirs) await s.exec(endedJobScript(d, profile.dockerSocket, 'CANCELLED'), { timeoutMs: 30_000 });
        moved.push(...cancel);
      }

      // Requeue: submit again each cell whose job is over without its run having begun, as `<id>r<n>`.
      for (const id of move.requeue ?? []) {
        const a = current(id);
        if (!a || !resubmittable(a, a.jobId ? jobs.get(a.jobId) : undefined, answered)) continue;
        if (await resubmit(s, runRoot, id, a)) moved.push(id);
      }
      return moved;
    },
  };
}
