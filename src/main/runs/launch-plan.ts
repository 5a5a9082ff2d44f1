import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { runExperimentSchema, type RunExperiment } from '../../shared/contract-runs';
import type { AgentDefinition } from '../../shared/runs/agent-catalog';
import type { EvaluationPlan, IntegrityPlan, SupervisorPlan } from '../../shared/runs/run-json';
import { canonicalSpec, type RunSpec } from '../../shared/runs/run-spec';
import { findBaseModel } from '../../shared/runs/task-catalog';
import { sandboxPaths } from './agent-container';

/**
 * The pure half of a launch: the run id, run.json, the evaluation plan, the timer the agent runs. Everything here is
 * decided before anything touches the host, so it is unit-tested and shown to the user as it will be recorded.
 */

export const RUN_JSON_SCHEMA = 1;

/** `r-20261123-120000-ab12`: sortable by creation time (UTC), unique by the random suffix. */
export function newRunId(now: Date, suffix: string = randomBytes(4).toString('hex').slice(0, 6)): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `r-${stamp}-${suffix}`;
}

export function specHash(spec: RunSpec): string {
  return createHash('sha256').update(canonicalSpec(spec)).digest('hex');
}

/**
 * `/ptw/timer`: the time left until `/ptw/deadline`, in the shape of PostTrainBench's timer.sh. The deadline file
 * appears when the supervisor starts the agent, so the clock starts with the agent, not when the folder is prepared
 * (a known weak spot of the harness, shared/PTB.md). POSIX sh, since images may have nothing else.
 */
export const TIMER_SCRIPT = `#!/bin/sh
# PostTrain Workbench: time left in this run's budget (the deadline is /ptw/deadline, epoch seconds).
deadline=$(cat /ptw/deadline 2>/dev/null)
if [ -z "$deadline" ]; then echo "the run has not started"; exit 1; fi
left=$((deadline - $(date +%s)))
if [ "$left" -lt 0 ]; then left=0; fi
echo "Remaining time (hours:minutes:seconds):"
printf '%d:%02d:%02d\\n' $((left / 3600)) $((left % 3600 / 60)) $((left % 60))
`;

/** Warnings written into the agent's terminal before the deadline: those that leave at least half the budget. */
export function warningSchedule(budgetSeconds: number): number[] {
  return [3_600, 900, 300, 60].filter((w) => w * 2 <= budgetSeconds);
}

export const DEFAULT_TTY = { cols: 120, rows: 40 } as const;

/** A task as the launcher lays it out, whichever catalog it came from. */
export interface ResolvedTask {
  kind: 'rehearsal' | 'ptb';
  /** How the prompt names the benchmark. */
  displayName: string;
  /** Relative paths in the task folder the agent may not change (bind-mounted read-only). */
  protectedPaths: string[];
  /** What the final evaluation runs, relative to the task folder. */
  evaluationEntry: string;
  /** The benchmark's grader needs these keys (LLM-graded benchmarks); they belong to the evaluator only. */
  requiredApiKeys: string[];
}

/** The evaluator's process limit: vLLM's workers and a tokenizer pool fit many times over; a fork bomb does not. */
export const EVALUATION_PIDS_LIMIT = 4096;

/**
 * The clean evaluation the supervisor runs on final_model (docs/run-folder.md): the task folder's own evaluate.py
 * (never the agent's copy), then smaller max-token settings when an attempt fails, as the harness retries.
 */
export function buildEvaluationPlan(input: {
  task: ResolvedTask;
  image: string;
  gpus: number[];
  runId: string;
  runDir: string;
  user: string;
  memoryBytes?: number | undefined;
  shmBytes: number;
  rootlessDocker?: boolean;
}): EvaluationPlan {
  const rehearsal = input.task.kind === 'rehearsal';
  const attempts = rehearsal
    ? [{ extraArgs: [], timeoutSeconds: 600 }]
    : [
        { extraArgs: [], timeoutSeconds: 4 * 3_600 },
        { extraArgs: ['--max-tokens', '8192'], timeoutSeconds: 4 * 3_600 },
        { extraArgs: ['--max-tokens', '4096'], timeoutSeconds: 4 * 3_600 },
      ];
  return {
    image: input.image,
    workdir: '/eval/task',
    command: [
      'python3',
      input.task.evaluationEntry,
      '--model-path',
      '/eval/final_model',
      '--limit',
      '-1',
      '--json-output-file',
      '/eval/out/metrics.json',
    ],
    attempts,
    deviceRequests:
      input.gpus.length > 0 ? [{ Driver: 'nvidia', DeviceIDs: input.gpus.map(String), Capabilities: [['gpu']] }] : [],
    // An LLM-graded benchmark's evaluator calls its grader's API (its key comes to the supervisor on stdin); every
    // other evaluation runs with the network off.
    networkMode: input.task.requiredApiKeys.length > 0 ? 'bridge' : 'none',
    labels: { 'ptw.run-dir': input.runDir },
    shmSizeBytes: input.shmBytes,
    user: input.user,
    ...(input.memoryBytes !== undefined ? { memoryBytes: input.memoryBytes } : {}),
    pidsLimit: EVALUATION_PIDS_LIMIT,
    ...(input.rootlessDocker ? { rootlessDocker: true } : {}),
  };
}

/** What run.json records about how the run was launched (never a secret value). */
export interface LaunchRecord {
  host: string;
  image: string;
  /** Image id from `docker inspect`, so a retagged image is noticed. */
  imageId: string | null;
  gpus: number[];
  command: string[];
  /** Non-secret environment as it went into the container. */
  env: Record<string, string>;
  /** Names of the variables that carried the agent's key (values: never). */
  secretNames: string[];
  /** Names of the grader keys the evaluator gets (LLM-graded benchmarks; values: never). */
  evaluationSecretNames: string[];
  protectedPaths: string[];
  network: boolean;
  task: { kind: ResolvedTask['kind']; displayName: string; evaluationEntry: string };
  promptSha256: string;
  appVersion: string;
  /** What the agent CLI said its version was in the image (`claude --version`), when the launcher asked. */
  agentVersion?: string;
  warnings: string[];
  /** Who the agent and the evaluator ran as, and their limits (never root; docs/run-folder.md). */
  sandbox: {
    user: string;
    memoryBytes: number | null;
    shmBytes: number;
    limitsFrom: { memory: 'spec' | 'host' | 'none'; shm: 'spec' | 'host' };
  };
}

export interface RunJsonInput {
  runId: string;
  createdAt: Date;
  spec: RunSpec;
  agentContainerId: string;
  budgetSeconds: number;
  gpus: number[];
  sampleGpus: boolean;
  evaluation: EvaluationPlan;
  integrity?: IntegrityPlan | undefined;
  launch: LaunchRecord;
}

export function buildRunJson(input: RunJsonInput): RunJson {
  return {
    schema: RUN_JSON_SCHEMA,
    id: input.runId,
    createdAt: input.createdAt.toISOString(),
    spec: input.spec,
    specHash: specHash(input.spec),
    supervisor: {
      agentContainerId: input.agentContainerId,
      budgetSeconds: input.budgetSeconds,
      graceSeconds: 30,
      warnSecondsBefore: warningSchedule(input.budgetSeconds),
      gpuIndices: input.gpus,
      sampleGpus: input.sampleGpus,
      tty: { ...DEFAULT_TTY },
      evaluation: input.evaluation,
      ...(input.integrity ? { integrity: input.integrity } : {}),
    },
    launch: input.launch,
  };
}

/** run.json as the app reads it back (its own, or one another app instance wrote); unknown fields are kept. */
export const runJsonSchema = z.looseObject({
  schema: z.number(),
  id: z.string(),
  createdAt: z.string(),
  spec: z.looseObject({
    host: z.string().optional(),
    task: z.looseObject({ kind: z.string(), benchmark: z.string().optional(), baseModel: z.string().optional() }),
    agent: z.looseObject({ id: z.string(), model: z.string().optional() }),
    budgetSeconds: z.number().optional(),
    label: z.string().optional(),
  }),
  specHash: z.string().optional(),
  supervisor: z.looseObject({
    agentContainerId: z.string().nullable().optional(),
    budgetSeconds: z.number(),
  }),
  launch: z
    .looseObject({
      host: z.string().optional(),
      secretNames: z.array(z.string()).default([]),
      evaluationSecretNames: z.array(z.string()).default([]),
      agentVersion: z.string().optional(),
    })
    .optional(),
  /** Set by an experiment's queue; one that does not read as { id, name } is ignored, not the whole run.json. */
  experiment: runExperimentSchema.optional().catch(undefined),
});
export type ParsedRunJson = z.output<typeof runJsonSchema>;

/** run.json as the launcher writes it (docs/run-folder.md). */
export interface RunJson {
  schema: number;
  id: string;
  createdAt: string;
  spec: RunSpec;
  specHash: string;
  supervisor: SupervisorPlan;
  launch: LaunchRecord;
  /** The experiment that queued the run (src/main/experiments/host-queue.ts); absent for a run launched alone. */
  experiment?: RunExperiment;
}

/** `gsm8k · Qwen3-4B-Base`, or `rehearsal`. */
export function taskLabel(task: ParsedRunJson['spec']['task']): string {
  if (task.kind !== 'ptb') return task.kind;
  return `${task.benchmark ?? '?'} · ${shortBaseModel(task.baseModel ?? '')}`;
}

/** `Qwen/Qwen3-4B-Base` → `Qwen3-4B-Base` (the catalog's id, else the name after the organisation). */
export function shortBaseModel(model: string): string {
  return findBaseModel(model)?.id ?? model.split('/').pop() ?? model;
}

/** `claude-code · claude-opus-4-6`, or `rehearsal`. */
export function agentLabel(agent: ParsedRunJson['spec']['agent']): string {
  const model = agent.model?.trim() ?? '';
  return model && model !== agent.id ? `${agent.id} · ${model}` : agent.id;
}

/**
 * The agent's environment, in the order that decides who wins: the user's extra env, then the agent's fixed env (so
 * a run cannot switch an agent's sandbox mode back on), then the key. Only the last part is secret.
 */
export function agentEnvironment(
  spec: RunSpec,
  agent: AgentDefinition,
  secret: { env: string; value: string } | null,
): { env: Record<string, string>; secretEnv: Record<string, string> } {
  return {
    env: { ...spec.env, ...agent.env },
    secretEnv: secret ? { [secret.env]: secret.value } : {},
  };
}

export const PROMPT_PATH = `${sandboxPaths.ptw}/prompt.txt`;
