import { z } from 'zod';

/**
 * run.json's `supervisor` section (docs/run-folder.md): what the launcher plans and the host supervisor reads
 * (resources/host/ptw_host/run_config.py). Declared once here; the launcher builds it (src/main/runs/launch-plan.ts)
 * and the host package's tests check run.json files against the JSON Schema made from it.
 */

/** The clean evaluation the supervisor runs on final_model. */
export const evaluationPlanSchema = z.object({
  image: z.string().min(1),
  workdir: z.string(),
  command: z.array(z.string()).min(1),
  attempts: z.array(z.object({ extraArgs: z.array(z.string()), timeoutSeconds: z.number().positive() })).min(1),
  deviceRequests: z.array(z.unknown()),
  networkMode: z.string(),
  labels: z.record(z.string(), z.string()),
  shmSizeBytes: z.number().int().positive().optional(),
  /** `uid:gid`: the sandbox's unprivileged user (sandbox-policy.ts); the evaluator never runs as root. */
  user: z.string().regex(/^\d{1,10}:\d{1,10}$/),
  /** The memory limit the agent had (no swap beyond it); none when the host's memory is unknown. */
  memoryBytes: z.number().int().positive().optional(),
  pidsLimit: z.number().int().positive(),
  /** The host's Docker is rootless: `user` may be 0:0, which is the unprivileged SSH user outside. */
  rootlessDocker: z.boolean().optional(),
});
export type EvaluationPlan = z.infer<typeof evaluationPlanSchema>;

export const supervisorPlanSchema = z.object({
  agentContainerId: z.string().min(1),
  budgetSeconds: z.number().positive(),
  graceSeconds: z.number().nonnegative(),
  /** Seconds before the deadline at which the agent's terminal gets a warning. */
  warnSecondsBefore: z.array(z.number().positive()),
  gpuIndices: z.array(z.number().int()),
  sampleGpus: z.boolean(),
  tty: z.object({ cols: z.number().int().min(1).max(10_000), rows: z.number().int().min(1).max(10_000) }),
  evaluation: evaluationPlanSchema,
});
export type SupervisorPlan = z.infer<typeof supervisorPlanSchema>;
