import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  slurmGres,
  slurmJobScript,
  slurmTimeLimit,
  type SlurmJobPlan,
} from '../../../../src/main/slurm/slurm-job-script';
import { chooseSlurmGpus } from '../../../../src/main/slurm/slurm-launch';

const plan = (over: Partial<SlurmJobPlan> = {}): SlurmJobPlan => ({
  runId: '20261207-1200-abcd',
  runDir: '/shared/runs/20261207-1200-abcd',
  scheduler: { kind: 'slurm', partition: 'gpu', account: 'lab-7', qos: 'normal', runtime: 'docker' },
  gpuCount: 1,
  budgetSeconds: 10 * 3600,
  dockerSocket: '/var/run/docker.sock',
  containerName: 'ptw-agent-20261207-1200-abcd',
  image: '/shared/containers/standard.sif',
  command: ['bash', '/ptw/solve.sh', "it's"],
  env: { HF_HOME: '/hf-cache', PYTHONNOUSERSITE: '1' },
  ...over,
});

const directives = (script: string): string[] => script.split('\n').filter((l) => l.startsWith('#SBATCH '));

describe('sbatch options', () => {
  it('--time is the budget plus two hours of grace, rounded up to minutes', () => {
    expect(slurmTimeLimit(10 * 3600 + 2 * 3600)).toBe('12:00:00');
    expect(slurmTimeLimit(61)).toBe('00:02:00');
    expect(slurmTimeLimit(25 * 3600)).toBe('1-01:00:00');
    expect(() => slurmTimeLimit(0)).toThrow(/job time/);
  });

  it('--gres scales the per-GPU spec by the GPU count', () => {
    expect(slurmGres(undefined, 1)).toBe('gpu:1');
    expect(slurmGres('gpu:h100:1', 2)).toBe('gpu:h100:2');
    expect(slurmGres('gpu:a100', 2)).toBe('gpu:a100:2');
  });

  it('asks SLURM for the GPUs, the partition, account and QoS of the profile, output into the run folder', () => {
    expect(directives(slurmJobScript(plan()))).toEqual([
      '#SBATCH --job-name=ptw-20261207-1200-abcd',
      '#SBATCH --time=12:00:00',
      '#SBATCH --gres=gpu:1',
      '#SBATCH --partition=gpu',
      '#SBATCH --account=lab-7',
      '#SBATCH --qos=normal',
      '#SBATCH --chdir=/shared/runs/20261207-1200-abcd',
      '#SBATCH --output=/shared/runs/20261207-1200-abcd/record/slurm-%j.out',
      '#SBATCH --open-mode=append',
      '#SBATCH --no-requeue',
    ]);
  });

  it('leaves out what the profile leaves out, and GRES for a CPU-only run', () => {
    const lines = directives(slurmJobScript(plan({ gpuCount: 0, scheduler: { kind: 'slurm', runtime: 'docker' } })));
    expect(lines.some((l) => /--gres|--partition|--account|--qos/.test(l))).toBe(false);
  });

  it('refuses a run folder #SBATCH lines cannot hold', () => {
    expect(() => slurmJobScript(plan({ runDir: '/shared/my runs/x' }))).toThrow(/space or shell character/);
  });

  it('asks for one GPU for a benchmark run and as many as the spec names', () => {
    expect(chooseSlurmGpus({ requested: [], needsGpu: true })).toEqual({ gpus: [0], sampleGpus: true });
    expect(chooseSlurmGpus({ requested: [3, 5], needsGpu: true })).toEqual({ gpus: [0, 1], sampleGpus: true });
    expect(chooseSlurmGpus({ requested: [], needsGpu: false })).toEqual({ gpus: [], sampleGpus: false });
  });
});

describe('the Docker job body', () => {
  const script = slurmJobScript(plan());

  it('is valid bash', () => {
    const checked = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    expect(checked.stderr).toBe('');
    expect(checked.status).toBe(0);
  });

  it('creates the container on the node, then runs the same supervisor with the keys on stdin', () => {
    const create = script.indexOf('slurm-job create --run-dir "$RUN_DIR" --docker-socket "$SOCK"');
    const supervise = script.indexOf(
      'supervise --run-dir "$RUN_DIR" --docker-socket "$SOCK" --agent-container ptw-agent-20261207-1200-abcd --secrets-stdin <&5',
    );
    expect(create).toBeGreaterThan(0);
    expect(supervise).toBeGreaterThan(create);
    expect(script).toContain('SOCK=/var/run/docker.sock');
    // The keys' file is deleted once open, before the supervisor runs.
    expect(script.indexOf('rm -f -- .supervisor/secrets.json')).toBeLessThan(supervise);
    expect(script).not.toMatch(/\bsudo\b/);
  });

  it('fails the run, saying where to look, when the container cannot be created on the node', () => {
    expect(script).toMatch(
      /if ! python3 "\$PYZ" slurm-job create [^\n]*; then\n {2}python3 "\$PYZ" slurm-job stop [^\n]*\n {4}--reason "the agent container could not be created on \$\(hostname\); see record\/slurm-\$SLURM_JOB_ID.out"\n {2}exit 71\nfi/,
    );
  });

  it('traps TERM: scancel and the time limit remove the run containers', () => {
    expect(script).toMatch(/trap 'on_term [^']*' TERM INT/);
    expect(script).toContain('slurm-job stop --run-dir "$RUN_DIR" --docker-socket "$SOCK"');
    // The trap is set before the supervisor starts (a TERM in between must not leave a container).
    expect(script.indexOf('trap ')).toBeLessThan(script.indexOf(' supervise '));
  });

  it('Podman: starts its Docker-compatible API for the job and stops it at the end', () => {
    const podman = slurmJobScript(plan({ scheduler: { kind: 'slurm', runtime: 'podman' } }));
    expect(podman).toContain('podman system service --time=0 "unix://$SOCK" &');
    expect(podman).toContain('kill "$PODMAN_PID"');
    expect(spawnSync('bash', ['-n'], { input: podman }).status).toBe(0);
  });
});

describe('the Apptainer job body, against PostTrainBench run_task.sh', () => {
  const runTask = readFileSync(
    path.join(__dirname, '../../../fixtures/posttrainbench/checkout/src/run_task.sh'),
    'utf8',
  );
  // solve_task(): `timeout --signal=TERM --kill-after=30s "…m" \ apptainer exec \ --nv \ -c \ …`
  const solve = runTask.slice(
    runTask.indexOf('solve_task() {'),
    runTask.indexOf('\n}', runTask.indexOf('solve_task() {')),
  );
  const ptbFlags = [...solve.matchAll(/^\s+(--?[a-z-]+)/gm)].map((m) => m[1]!);
  const script = slurmJobScript(plan({ scheduler: { kind: 'slurm', runtime: 'apptainer' } }));

  it('uses the same timeout wrapper and apptainer exec flags as PostTrainBench', () => {
    expect(solve).toContain('timeout --signal=TERM --kill-after=30s');
    expect(script).toContain(`timeout --signal=TERM --kill-after=30s ${10 * 60}m`);
    expect(new Set(ptbFlags)).toEqual(
      new Set(['--nv', '-c', '--env', '--bind', '--home', '--pwd', '--writable-tmpfs']),
    );
    for (const flag of ptbFlags) expect(script).toMatch(new RegExp(`(^|\\s)${flag}(\\s|$)`, 'm'));
    expect(script).toContain('apptainer exec --nv -c');
  });

  it('passes the agent its environment, home, workspace and image, quoted', () => {
    expect(script).toContain('--env HF_HOME=/hf-cache');
    expect(script).toContain('--home "$RUN_DIR/home:/home/agent"');
    expect(script).toContain("/shared/containers/standard.sif \\\n  bash /ptw/solve.sh 'it'\\''s'");
    expect(spawnSync('bash', ['-n'], { input: script }).status).toBe(0);
  });

  it('Enroot (Pyxis): srun --container-image with the run folder mounted', () => {
    const enroot = slurmJobScript(
      plan({ scheduler: { kind: 'slurm', runtime: 'enroot' }, image: 'docker://ptb/standard' }),
    );
    expect(enroot).toContain('srun --container-image=docker://ptb/standard');
    expect(enroot).toContain('--container-mounts="$RUN_DIR/workspace:/home/agent/workspace,$RUN_DIR/ptw:/ptw:ro"');
    expect(enroot).toContain('export HF_HOME=/hf-cache');
    expect(spawnSync('bash', ['-n'], { input: enroot }).status).toBe(0);
  });
});
