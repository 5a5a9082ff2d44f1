import { AppError } from '../../shared/errors';
import type { SlurmRuntime, SlurmScheduler } from '../../shared/hosts';
import { shellQuote } from '../../shared/shell-quote';
import { HOST_PACKAGE_FILE } from '../host-package/host-package';

/**
 * The sbatch script of a run (docs/slurm.md). Pure: every value from the profile or the run is quoted here, and the
 * tests read the script as text.
 *
 * Docker and Podman: the job runs the same host supervisor as a directly launched run, against the node's Docker
 * socket (Podman: a `podman system service` socket the job starts). The agent container is created in the job, on
 * the node SLURM chose, with the GPUs SLURM gave it (`ptw-host.pyz slurm-job create`). `scancel` and the time limit
 * send TERM to every process of the job; the supervisor then exits without touching containers (as on a host
 * shutting down), so the script's TERM trap removes the run's containers and marks the run failed
 * (`slurm-job stop`), well inside SLURM's KillWait.
 *
 * Apptainer and Enroot have no Docker API, which the supervisor drives, so their scripts run the agent directly
 * with PostTrainBench's own invocation (src/run_task.sh: `timeout … apptainer exec --nv -c --env … --bind …
 * --home … --pwd … --writable-tmpfs IMAGE.sif CMD`); they are generated and tested as text only (no Apptainer
 * here) and the launcher does not submit them yet.
 */

/** Where the launcher leaves the supervisor's stdin (the keys), for the job to hand over and delete. */
export const SLURM_SECRETS_FILE = '.supervisor/secrets.json';
/** The job id, written by the launcher after sbatch answered: reattaching needs only the run folder. */
export const SLURM_JOB_ID_FILE = '.supervisor/slurm-job-id';
/** The agent container's create request (ptw_host/slurm_job.py CREATE_REQUEST). */
export const SLURM_CREATE_REQUEST_FILE = '.supervisor/agent-container.json';
/** The job's own output (sbatch `--output`), next to the supervisor's log. */
export const SLURM_OUTPUT_FILE = 'record/slurm-%j.out';

/** Minutes of job time beyond the agent's budget: the evaluation, the stop sequence, the container start. */
export const SLURM_GRACE_SECONDS = 2 * 60 * 60;

export interface SlurmJobPlan {
  runId: string;
  /** Absolute, on the cluster's shared filesystem. */
  runDir: string;
  scheduler: SlurmScheduler;
  gpuCount: number;
  /** The agent's budget; the job's `--time` is this plus {@link SLURM_GRACE_SECONDS} unless `timeLimitSeconds`. */
  budgetSeconds: number;
  timeLimitSeconds?: number;
  /** Docker runtime: the node's Docker socket. */
  dockerSocket: string;
  /** The agent container's name (run.json's agentContainerId): created by the job. */
  containerName: string;
  /** Apptainer: the `.sif` file; Enroot: the squashfs image or `docker://…` URI. */
  image: string;
  /** The agent's argv (apptainer/enroot only). */
  command: readonly string[];
  /** Non-secret environment for the agent (apptainer/enroot only). */
  env: Readonly<Record<string, string>>;
}

/** `--time` as `D-HH:MM:SS`, rounded up to whole minutes (SLURM rounds up anyway). */
export function slurmTimeLimit(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) throw new AppError('INVALID_INPUT', `a job time of ${seconds} s`);
  const minutes = Math.ceil(seconds / 60);
  const days = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${days > 0 ? `${days}-` : ''}${two(h)}:${two(m)}:00`;
}

/** The `--gres` value for `count` GPUs from the profile's per-GPU spec (`gpu:1`, `gpu:h100:1`). */
export function slurmGres(spec: string | undefined, count: number): string {
  const base = spec ?? 'gpu:1';
  const parts = base.split(':');
  const last = parts[parts.length - 1]!;
  if (/^\d+$/.test(last)) parts[parts.length - 1] = String(count * Number(last));
  else parts.push(String(count));
  return parts.join(':');
}

function directives(plan: SlurmJobPlan): string[] {
  const s = plan.scheduler;
  const time = plan.timeLimitSeconds ?? plan.budgetSeconds + SLURM_GRACE_SECONDS;
  return [
    `#SBATCH --job-name=${`ptw-${plan.runId}`}`,
    `#SBATCH --time=${slurmTimeLimit(time)}`,
    ...(plan.gpuCount > 0 ? [`#SBATCH --gres=${slurmGres(s.gpuGres, plan.gpuCount)}`] : []),
    ...(s.partition ? [`#SBATCH --partition=${s.partition}`] : []),
    ...(s.account ? [`#SBATCH --account=${s.account}`] : []),
    ...(s.qos ? [`#SBATCH --qos=${s.qos}`] : []),
    // sbatch reads #SBATCH lines without a shell: a path with spaces cannot be written there, so it is refused.
    `#SBATCH --chdir=${plan.runDir}`,
    `#SBATCH --output=${plan.runDir}/${SLURM_OUTPUT_FILE}`,
    '#SBATCH --open-mode=append',
    '#SBATCH --no-requeue',
  ];
}

function supervisorBody(plan: SlurmJobPlan, runtime: 'docker' | 'podman'): string[] {
  const q = shellQuote;
  const socketSetup =
    runtime === 'docker'
      ? [`SOCK=${q(plan.dockerSocket)}`]
      : [
          // Rootless Podman's Docker-compatible API, for the supervisor's Docker client; ended with the job.
          'SOCK="${XDG_RUNTIME_DIR:-/tmp}/ptw-podman-$SLURM_JOB_ID.sock"',
          'podman system service --time=0 "unix://$SOCK" &',
          'PODMAN_PID=$!',
          'for _ in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.2; done',
        ];
  const endService = runtime === 'podman' ? ['kill "$PODMAN_PID" 2>/dev/null'] : [];
  return [
    'set -u',
    `RUN_DIR=${q(plan.runDir)}`,
    `PYZ="$RUN_DIR/.supervisor/${HOST_PACKAGE_FILE}"`,
    ...socketSetup,
    'cd -- "$RUN_DIR" || exit 70',
    'echo "ptw: job $SLURM_JOB_ID on $(hostname) GPUs ${SLURM_JOB_GPUS:-none}"',
    // A container that cannot be created (an image missing on this node, no GPU runtime) fails the run, saying where.
    'if ! python3 "$PYZ" slurm-job create --run-dir "$RUN_DIR" --docker-socket "$SOCK"; then',
    '  python3 "$PYZ" slurm-job stop --run-dir "$RUN_DIR" --docker-socket "$SOCK" --wait 0 \\',
    '    --reason "the agent container could not be created on $(hostname); see record/slurm-$SLURM_JOB_ID.out"',
    ...endService.map((l) => `  ${l}`),
    '  exit 71',
    'fi',
    // TERM (scancel, the time limit) reaches the supervisor too, which leaves the containers alone: remove them.
    'on_term() {',
    '  trap - TERM INT',
    '  python3 "$PYZ" slurm-job stop --run-dir "$RUN_DIR" --docker-socket "$SOCK" --reason "$1"',
    ...endService.map((l) => `  ${l}`),
    '  exit 143',
    '}',
    'trap \'on_term "cancelled (scancel or the time limit)"\' TERM INT',
    // The keys go to the supervisor's stdin from a file only the SSH user can read, deleted once it is open.
    `exec 5< ${SLURM_SECRETS_FILE} || exit 72`,
    `rm -f -- ${SLURM_SECRETS_FILE}`,
    `python3 "$PYZ" supervise --run-dir "$RUN_DIR" --docker-socket "$SOCK" --agent-container ${q(plan.containerName)} --secrets-stdin <&5 >> record/supervisor.log 2>&1 &`,
    'SUP=$!',
    'exec 5<&-',
    // `wait` returns early when the trap fires; the trap then exits.
    'wait "$SUP"',
    'code=$?',
    ...endService,
    'exit "$code"',
  ];
}

/** PostTrainBench's run_task.sh invocation, with this run's folders: the agent's home and task, its image. */
function directBody(plan: SlurmJobPlan, runtime: 'apptainer' | 'enroot'): string[] {
  const q = shellQuote;
  const bad = Object.keys(plan.env).find((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
  if (bad !== undefined)
    throw new AppError(
      'INVALID_INPUT',
      `The environment variable name ${JSON.stringify(bad)} is not one a shell takes.`,
    );
  const env = Object.entries(plan.env).map(([k, v]) => `--env ${q(`${k}=${v}`)}`);
  const timeout = `timeout --signal=TERM --kill-after=30s ${Math.ceil(plan.budgetSeconds / 60)}m`;
  const common = [
    'set -u',
    `RUN_DIR=${q(plan.runDir)}`,
    'cd -- "$RUN_DIR" || exit 70',
    'echo "ptw: job $SLURM_JOB_ID on $(hostname) GPUs ${SLURM_JOB_GPUS:-none}"',
    'trap \'kill -TERM "$AGENT" 2>/dev/null; wait "$AGENT"; exit 143\' TERM INT',
  ];
  const cmd = plan.command.map(q).join(' ');
  if (runtime === 'apptainer') {
    return [
      ...common,
      [
        timeout,
        'apptainer exec --nv -c',
        ...env,
        '--bind "$RUN_DIR/ptw:/ptw"',
        '--home "$RUN_DIR/home:/home/agent"',
        '--bind "$RUN_DIR/workspace:/home/agent/workspace"',
        '--pwd /home/agent/workspace',
        '--writable-tmpfs',
        q(plan.image),
        cmd,
        '> record/agent-output.txt 2>&1 &',
      ].join(' \\\n  '),
      'AGENT=$!',
      'wait "$AGENT"',
    ];
  }
  return [
    ...common,
    // srun passes the job's environment into the container (--export=ALL is its default).
    ...Object.entries(plan.env).map(([k, v]) => `export ${k}=${q(v)}`),
    [
      timeout,
      // Enroot through Pyxis: --container-image/--container-mounts are srun's flags on Pyxis clusters.
      'srun --container-image=' + q(plan.image),
      '--container-mounts="$RUN_DIR/workspace:/home/agent/workspace,$RUN_DIR/ptw:/ptw:ro"',
      '--container-workdir=/home/agent/workspace',
      '--no-container-remap-root',
      cmd,
      '> record/agent-output.txt 2>&1 &',
    ].join(' \\\n  '),
    'AGENT=$!',
    'wait "$AGENT"',
  ];
}

/** The whole sbatch script for a run with the profile's runtime. */
export function slurmJobScript(plan: SlurmJobPlan): string {
  if (/[\s"'\\$`]/.test(plan.runDir)) {
    throw new AppError(
      'INVALID_INPUT',
      `The run folder ${plan.runDir} has a space or shell character in it, which #SBATCH lines cannot hold: choose a run root without one.`,
    );
  }
  const runtime: SlurmRuntime = plan.scheduler.runtime;
  const body = runtime === 'docker' || runtime === 'podman' ? supervisorBody(plan, runtime) : directBody(plan, runtime);
  return ['#!/bin/bash', ...directives(plan), `# PostTrain Workbench run ${plan.runId} (${runtime})`, ...body, ''].join(
    '\n',
  );
}
