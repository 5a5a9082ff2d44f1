import { z } from 'zod';

/**
 * The leaderboard (PostTrainBench's weighted score over every run the app knows) and two runs side by side (issue 14).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file). The scoring is
 * `shared/leaderboard/ptb-score.ts`; these schemas describe what it returns.
 */

export const runVerdictSchema = z.object({
  source: z.enum(['integrity', 'judge', 'none']),
  state: z.enum(['clean', 'flagged', 'unknown', 'unchecked']),
  reasons: z.array(z.string()),
});

export const cellRunSchema = z.object({
  runId: z.string(),
  seed: z.string(),
  value: z.number(),
  fraction: z.number(),
  accuracy: z.number().nullable(),
  /** Why the cell counts the base model's zero-shot score instead of this run's; null when it counts the run. */
  fallback: z.enum(['no-run', 'no-result', 'flagged', 'unverified']).nullable(),
  reasons: z.array(z.string()),
  verdict: runVerdictSchema,
});

export const leaderboardCellSchema = z.object({
  benchmark: z.string(),
  baseModel: z.string(),
  /** Points (accuracy × 100), the mean over seeds. */
  value: z.number(),
  fraction: z.number(),
  std: z.number().nullable(),
  fallbackSeeds: z.number(),
  fallback: z.boolean(),
  flagged: z.boolean(),
  /** 0 at the base model's zero-shot score, 1 at its instruct model's. */
  progress: z.number().nullable(),
  runs: z.array(cellRunSchema),
});
export type LeaderboardCellData = z.infer<typeof leaderboardCellSchema>;

export const leaderboardRowSchema = z.object({
  key: z.string(),
  kind: z.enum(['agent', 'reference']),
  origin: z.enum(['own', 'ptb', 'reference']),
  agent: z.string(),
  model: z.string(),
  budget: z.string(),
  budgetSeconds: z.number().nullable(),
  variant: z.string(),
  label: z.string(),
  score: z.number(),
  std: z.number().nullable(),
  n: z.number(),
  seeds: z.array(z.object({ seed: z.string(), score: z.number(), runs: z.number(), fallbacks: z.number() })),
  benchmarks: z.record(z.string(), z.object({ mean: z.number(), std: z.number().nullable() })),
  /** Keyed `benchmark/baseModel`. */
  cells: z.record(z.string(), leaderboardCellSchema),
  complete: z.boolean(),
  runIds: z.array(z.string()),
  gpuHours: z.number().nullable(),
  costUsd: z.number().nullable(),
  tokens: z.number().nullable(),
  firstAt: z.string().nullable(),
  lastAt: z.string().nullable(),
});
export type LeaderboardRowData = z.infer<typeof leaderboardRowSchema>;

export const leaderboardSchema = z.object({
  /** Benchmark weights derived from the baselines (sum 1). */
  weights: z.record(z.string(), z.number()),
  benchmarks: z.array(z.string()),
  baseModels: z.array(z.string()),
  rows: z.array(leaderboardRowSchema),
  /** Runs left out of the score or scored with a fallback because their input was wrong, with the reason. */
  problems: z.array(z.object({ runId: z.string(), message: z.string() })),
});
export type LeaderboardData = z.infer<typeof leaderboardSchema>;

export const leaderboardFilterSchema = z
  .object({
    benchmarks: z.array(z.string()).optional(),
    /** Catalog ids (`Qwen3-4B-Base`) or Hugging Face ids. */
    baseModels: z.array(z.string()).optional(),
    agents: z.array(z.string()).optional(),
    budgetsSeconds: z.array(z.number()).optional(),
    /** ISO dates (a prefix such as `2026-03` works for `to`). */
    from: z.string().optional(),
    to: z.string().optional(),
  })
  .strict();
export type LeaderboardFilterInput = z.infer<typeof leaderboardFilterSchema>;

export const compareSideSchema = z.object({
  id: z.string(),
  label: z.string(),
  status: z.string(),
  imported: z.string().nullable(),
  /** The run's host and its folder there (null for an imported run, which has none). */
  host: z.string().nullable(),
  hostRunDir: z.string().nullable(),
  agent: z.string(),
  model: z.string(),
  benchmark: z.string(),
  baseModel: z.string(),
  budgetSeconds: z.number().nullable(),
  /** Agent time used (start to stop, or to now for a live run; an imported folder's time_taken.txt). */
  usedSeconds: z.number().nullable(),
  startedAt: z.number().nullable(),
  stoppedAt: z.number().nullable(),
  stopReason: z.string().nullable(),
  /** accuracy × 100 when scored. */
  score: z.number().nullable(),
  /** metrics.json's numeric fields. */
  metrics: z.record(z.string(), z.number()),
  /** Why there is no score, or the input problem with it. */
  resultNote: z.string().nullable(),
  verdict: runVerdictSchema,
  /** The folder's judge files (imported PostTrainBench runs). */
  judgements: z.array(
    z.object({ file: z.string(), check: z.string(), flagged: z.boolean().nullable(), text: z.string() }),
  ),
  gpuCount: z.number(),
  gpuHours: z.number().nullable(),
  gpu: z.object({ samples: z.number(), meanUtilization: z.number().nullable(), maxMemoryMiB: z.number().nullable() }),
  steps: z.object({
    total: z.number(),
    toolCalls: z.number(),
    byKind: z.record(z.string(), z.number()),
    inputTokens: z.number(),
    outputTokens: z.number(),
    costUsd: z.number().nullable(),
  }),
  /** The prompt the agent got, when the local record has it (imported folders' prompt.txt). */
  prompt: z.string().nullable(),
  promptNote: z.string().nullable(),
  finalModel: z
    .object({ exists: z.boolean(), files: z.number(), totalBytes: z.number(), hashed: z.boolean() })
    .nullable(),
});
export type CompareSide = z.infer<typeof compareSideSchema>;

export const runComparisonSchema = z.object({
  a: compareSideSchema,
  b: compareSideSchema,
  /** Same benchmark and base model: the comparison PostTrainBench's cells make. */
  sameCell: z.boolean(),
  /** Metrics both runs report, B − A. */
  metrics: z.array(
    z.object({ name: z.string(), a: z.number().nullable(), b: z.number().nullable(), delta: z.number().nullable() }),
  ),
  /** final_model/ compared file by file by SHA-256, from the manifests the hosts computed (no weights move). */
  finalModels: z
    .object({
      identical: z.boolean(),
      same: z.number(),
      differ: z.number(),
      onlyA: z.array(z.string()),
      onlyB: z.array(z.string()),
    })
    .nullable(),
  notes: z.array(z.string()),
});
export type RunComparison = z.infer<typeof runComparisonSchema>;

export const leaderboardCommands = {
  /** PostTrainBench's weighted score over every run in the local records, ranked, with the reference rows. */
  'leaderboard.get': { input: leaderboardFilterSchema, output: leaderboardSchema },
  /** Two runs side by side: score and metrics, time and budget, GPU, steps, verdicts, prompts, final models. */
  'runs.compare': {
    input: z.object({ a: z.string().min(1), b: z.string().min(1) }).strict(),
    output: runComparisonSchema,
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const leaderboardEvents = {} as const satisfies Record<string, z.ZodType>;
