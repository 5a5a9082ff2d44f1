import { z } from 'zod';

/**
 * Experiments (issue 17): a run matrix from a YAML file (src/shared/experiments/matrix-file.ts) queued over the GPUs
 * of several hosts, each host's queue drained by its own dispatcher (resources/host/ptw_host/dispatcher.py). Spread
 * into the one contract in `contract.ts`; import nothing from there (it imports this file).
 */

export const matrixProblemSchema = z.object({ line: z.number(), path: z.string(), message: z.string() });

/**
 * A cell's status: `queued` (waiting in its host's queue), `withdrawn` (taken back by `stop`), one of the run
 * statuses (src/shared/runs/run-status.ts: starting, running, stopping, evaluating, scored, evaluation-failed,
 * no-model, failed), `stranded` (queued on a host that cannot be reached now), or `unknown` when its host could not
 * be asked and never answered about it. A started run on a host that cannot be reached shows its last status.
 */
export const experimentCellSchema = z.object({
  key: z.string(),
  task: z.string(),
  agent: z.string(),
  model: z.string(),
  seed: z.number(),
  host: z.string(),
  /** The run of the current attempt (a retry's id is the first's with `r<n>` added). */
  runId: z.string(),
  status: z.string(),
  /** Accuracy × 100 once scored. */
  score: z.number().nullable().optional(),
  /** Why it failed, or why its host is paused while it waits. */
  reason: z.string().nullable().optional(),
  /** Epoch ms: the agent's start and deadline, for progress. */
  startedAt: z.number().nullable().optional(),
  deadline: z.number().nullable().optional(),
  attempts: z
    .array(
      z.object({
        runId: z.string(),
        status: z.string().nullable(),
        outcome: z.string().nullable(),
        reason: z.string().nullable(),
      }),
    )
    .default([]),
  flagged: z.boolean().nullable().optional(),
  /** The hosts it was queued on before it moved (never started there), oldest first. */
  moves: z.array(z.object({ from: z.string(), fromRunId: z.string(), to: z.string(), at: z.string() })).optional(),
});
export type ExperimentCell = z.infer<typeof experimentCellSchema>;

export const experimentHostSchema = z.object({
  name: z.string(),
  /** Why its dispatcher paused (a full disk, a lost GPU), null when draining. */
  paused: z.string().nullable(),
  /** Why the host could not be asked just now, null when it answered. */
  error: z.string().nullable(),
});

export const experimentSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  stopped: z.boolean(),
  runs: z.number(),
  gpuHours: z.number(),
  hosts: z.array(z.string()),
});
export type ExperimentSummary = z.infer<typeof experimentSummarySchema>;

export const experimentDetailSchema = experimentSummarySchema.extend({
  budgetSeconds: z.number(),
  tasks: z.array(z.string()),
  agents: z.array(z.object({ agent: z.string(), model: z.string() })),
  seeds: z.array(z.number()),
  hostStates: z.array(experimentHostSchema),
  cells: z.array(experimentCellSchema),
});
export type ExperimentDetail = z.infer<typeof experimentDetailSchema>;

/** What one rebalancing pass did: the cells it moved (same key, new host and run id), and why others stayed. */
export const experimentRebalanceSchema = z.object({
  moved: z.array(
    z.object({ key: z.string(), from: z.string(), fromRunId: z.string(), to: z.string(), runId: z.string() }),
  ),
  notes: z.array(z.string()),
  /** Its runs still queued (not started) on the hosts that answered. */
  queued: z.number(),
});
export type ExperimentRebalance = z.infer<typeof experimentRebalanceSchema>;

export const experimentPreviewSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    name: z.string(),
    runs: z.number(),
    gpuHours: z.number(),
    tasks: z.array(z.string()),
    agents: z.array(z.object({ agent: z.string(), model: z.string() })),
    seeds: z.array(z.number()),
    hosts: z.array(z.string()),
  }),
  z.object({ ok: z.literal(false), problems: z.array(matrixProblemSchema) }),
]);
export type ExperimentPreview = z.infer<typeof experimentPreviewSchema>;

const matrixText = z.string().max(1_000_000, 'a matrix file is under 1 MB');
const idInput = z.object({ id: z.string().min(1).max(100) }).strict();

export const experimentsCommands = {
  /** Checks a matrix file against the hosts set up here; the run count and GPU-hours, or every problem by line. */
  'experiments.preview': { input: z.object({ text: matrixText }).strict(), output: experimentPreviewSchema },
  /** Validates, splits the runs over the hosts by free GPUs, queues them there and starts the dispatchers. */
  'experiments.start': {
    input: z.object({ text: matrixText, file: z.string().max(4096).optional() }).strict(),
    output: z.object({ id: z.string() }),
  },
  'experiments.list': { input: z.object({}).strict(), output: z.array(experimentSummarySchema) },
  /** The experiment with every cell's state, read from its hosts' queues and run folders. */
  'experiments.get': { input: idInput, output: experimentDetailSchema },
  /** Takes back the queued runs and stops the running ones. */
  'experiments.stop': { input: idInput, output: experimentDetailSchema },
  /**
   * Moves queued, not started runs from hosts with more queued than free GPUs to hosts of the matrix with free GPUs
   * and nothing queued (the app also does it every minute while it is open); never starts a run twice.
   */
  'experiments.rebalance': { input: idInput, output: experimentRebalanceSchema },
  /** Queues the taken-back runs again, lifts the hosts' pauses and starts the dispatchers. */
  'experiments.resume': { input: idInput, output: experimentDetailSchema },
} as const;

export const experimentsEvents = {
  /** An experiment was started, stopped or resumed, or a look at its hosts found cells changed. */
  'experiments.changed': z.object({ id: z.string() }),
} as const;
