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

/**
 * The integrity passes the supervisor runs (issue 13; resources/host/ptw_host/integrity_watch.py): one every
 * `intervalSeconds` while the agent works and a final one before the score is published, over the workspace and the
 * trace, with the references the host profile names (resolved to absolute host paths by the launcher).
 */
export const integrityPlanSchema = z.object({
  intervalSeconds: z.number().positive(),
  benchmark: z.string().optional(),
  baseModel: z.string().optional(),
  /** Test set files to use whatever the folders hold (a path relative to the run folder: the rehearsal's task/test.jsonl). */
  testSetFiles: z.array(z.string()).optional(),
  /** Folders of `<benchmark>.jsonl|parquet` test sets, first found wins (the profile's, then `<runRoot>/benchmarks`). */
  testSetsDirs: z.array(z.string()),
  /** Hugging Face caches holding the base and instruct models (and test sets' datasets). */
  hfCaches: z.array(z.string()),
  /** The PostTrainBench checkout: clean task files, and test data where the task ships it. */
  ptbCheckout: z.string().optional(),
  /** Key variables that are the agent's own (reading another is flagged). */
  ownKeys: z.array(z.string()),
  /** `ORG/BASE=ORG/INSTRUCT` pairs the user added (PTW_HOME/integrity-models.json). */
  pairs: z.array(z.string()),
});
export type IntegrityPlan = z.infer<typeof integrityPlanSchema>;

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
  /** Absent in a run.json from before the supervisor ran the integrity passes (the app checks those on request). */
  integrity: integrityPlanSchema.optional(),
});
export type SupervisorPlan = z.infer<typeof supervisorPlanSchema>;
