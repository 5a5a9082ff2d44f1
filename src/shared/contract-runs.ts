import { z } from 'zod';
import { ptbRecordSchema } from './contract-trajectory';
import { runSchedulerSchema } from './runs/run-scheduler';

/**
 * Runs: launch, the local mirror of every run (list, detail, rediscovery on the hosts), control requests, and
 * following a run to its end. Spread into the one contract in `contract.ts`; import nothing from there (it imports
 * this file).
 */

/** The experiment a run was queued by (run.json `experiment`, written when the experiment queued it). */
export const runExperimentSchema = z.object({ id: z.string(), name: z.string() });
export type RunExperiment = z.infer<typeof runExperimentSchema>;

export const runSummarySchema = z.object({
  id: z.string(),
  label: z.string(),
  host: z.string(),
  /** A RunStatus from src/shared/runs/run-status.ts, or `unreadable` / `unknown` when the record cannot say. */
  status: z.string(),
  createdAt: z.string(),
  /** e.g. `gsm8k · Qwen3-4B-Base` or `rehearsal`. */
  task: z.string().default(''),
  /** e.g. `claude-code · claude-opus-4-6`. */
  agent: z.string().default(''),
  /** The parts of `task` and `agent` apart, for the run list's filters: `gsm8k` (or the task kind, `rehearsal`). */
  benchmark: z.string().optional(),
  /** The base model's short id (`Qwen3-4B-Base`); absent for a task without one. */
  baseModel: z.string().optional(),
  /** The agent's id (`claude-code`) and model (`claude-opus-4-6`, absent when the agent names none). */
  agentId: z.string().optional(),
  agentModel: z.string().optional(),
  /** What the agent CLI said its version was in the run's image, when the launcher asked (scripted rehearsals). */
  agentVersion: z.string().optional(),
  /** The integrity verdict (ours, else an imported PostTrainBench judge's): true flagged, false clean, null unchecked. */
  flagged: z.boolean().nullable().optional(),
  budgetSeconds: z.number().optional(),
  /** Epoch ms, from the host's supervisor (the source of truth for the countdown). */
  startedAt: z.number().nullable().optional(),
  deadline: z.number().nullable().optional(),
  stoppedAt: z.number().nullable().optional(),
  stopReason: z.string().nullable().optional(),
  /** How long the agent ran, for an imported run whose source says so (time_taken) even when it has no start time. */
  ranSeconds: z.number().nullable().optional(),
  /** metrics.json `accuracy` × 100, once scored. */
  score: z.number().nullable().optional(),
  /** Whether the host's supervisor has been heard from in the last 20 s (live runs only). */
  supervisorAlive: z.boolean().optional(),
  /** Why the run failed to start (state.json `error`), when it did. */
  error: z.string().nullable().optional(),
  /** When the local record last caught up with the host (epoch ms). */
  syncedAt: z.number().nullable().optional(),
  /** Why the last catch-up with the host failed (e.g. the host is unreachable); null when it worked. */
  syncError: z.string().nullable().optional(),
  /**
   * Set when the run came from a file (a run bundle, a PostTrainBench result), not a host: `host` is where it ran,
   * and nothing (workspace, checkpoints, datasets) can be read there.
   */
  imported: z
    .object({ kind: z.enum(['bundle', 'ptb']), source: z.string() })
    .nullable()
    .optional(),
  /** A run that is a batch job (SLURM): what the scheduler last said (docs/slurm.md). */
  scheduler: runSchedulerSchema.optional(),
  /** The experiment that queued the run (the Runs list's experiment filter and grouping); absent for a lone run. */
  experiment: runExperimentSchema.optional(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

/** `final-model-manifest.json`: the agent's final_model/ as found on the host (the weights stay there). */
export const finalModelManifestSchema = z.object({
  schema: z.literal(1),
  /** Absolute path of final_model/ on the host. */
  root: z.string(),
  computedAt: z.number(),
  exists: z.boolean(),
  /** Why there is nothing to list (no folder, a symlink out of the workspace…). */
  reason: z.string().nullable().optional(),
  files: z.array(z.object({ path: z.string(), size: z.number(), sha256: z.string() })),
  /** Links are listed, never followed (a link out of the workspace would hash a host file of the agent's choice). */
  symlinks: z.array(z.object({ path: z.string(), target: z.string() })).default([]),
  totalBytes: z.number(),
});
export type FinalModelManifest = z.infer<typeof finalModelManifestSchema>;

export const runDetailSchema = z.object({
  summary: runSummarySchema,
  /** The validated run spec as stored in run.json (no secrets). */
  spec: z.unknown(),
  /** state.json as last read from the host, when there is one. */
  state: z.unknown().nullable(),
  /** events.jsonl, parsed; malformed lines are in `problems`, never dropped silently. */
  events: z.array(z.record(z.string(), z.unknown())),
  problems: z.array(z.object({ source: z.string(), line: z.number(), message: z.string() })),
  metrics: z.record(z.string(), z.unknown()).nullable(),
  /** Where the run lives on the host and in the local mirror. */
  hostRunDir: z.string(),
  localDir: z.string(),
  /** The final_model/ manifest, once the run has ended and it was computed on the host. */
  finalModel: finalModelManifestSchema.nullable().optional(),
  /** What an imported PostTrainBench folder said (verdicts with justifications, time taken, the trace used). */
  ptb: ptbRecordSchema.nullable().optional(),
  /** The agent's stream as the Steps view parses it; null when the run has none (yet). */
  trajectory: z
    .object({
      dialect: z.string().nullable(),
      steps: z.number(),
      toolCalls: z.number(),
      /** Lines no dialect explains: 0 when the stream parsed whole. */
      unknownEvents: z.number(),
    })
    .nullable()
    .optional(),
});
export type RunDetail = z.infer<typeof runDetailSchema>;

/** What rediscovery found on one host, or why it could not ask it. */
export const discoveryReportSchema = z.object({
  host: z.string(),
  /** The host could not be reached or read; nothing else is set. */
  error: z.string().optional(),
  /** Absolute run root on the host. */
  runRoot: z.string().optional(),
  /** Every run found there, by id. */
  found: z.array(z.string()).default([]),
  /** Runs that had no local record and now have one. */
  mirrored: z.array(z.string()).default([]),
  /** Runs whose supervisor was (re)started. */
  restarted: z.array(z.string()).default([]),
  /** Agent containers removed because their launch never finished (they hold the agent's key). */
  removedContainers: z.array(z.string()).default([]),
  problems: z.array(z.string()).default([]),
});
export type DiscoveryReportData = z.infer<typeof discoveryReportSchema>;

const empty = z.object({}).strict();
const runId = z.object({ id: z.string().min(1) }).strict();

export const runsCommands = {
  'runs.list': { input: empty, output: z.array(runSummarySchema) },
  /**
   * Validates the spec, prepares the run folder on the host, creates the sandbox and starts the host supervisor.
   * `warnings`: what the launch had to do without (e.g. a disk limit the host's storage driver refused).
   */
  'runs.start': {
    input: z.object({ spec: z.unknown() }).strict(),
    output: runSummarySchema.extend({ warnings: z.array(z.string()).optional() }),
  },
  /**
   * The run's record: spec, state, lifecycle events, metrics (synced from the host first when it is reachable,
   * unless `sync` is false).
   */
  'runs.get': {
    input: z.object({ id: z.string().min(1), sync: z.boolean().optional() }).strict(),
    output: runDetailSchema,
  },
  /** Finds the runs on every host (mirroring new ones, restarting dead supervisors), then catches up live ones. */
  'runs.discover': { input: empty, output: z.array(discoveryReportSchema) },
  /**
   * Waits until the run has ended and its record is complete (TIMEOUT after `timeoutMs`). With `output`, the run's
   * terminal output from the beginning comes to the caller as `runs.followOutput` events meanwhile; notes (the host
   * went away, came back) as `runs.followNote`.
   */
  'runs.follow': {
    input: z
      .object({
        id: z.string().min(1),
        output: z.boolean().optional(),
        timeoutMs: z.number().int().positive().optional(),
      })
      .strict(),
    output: runSummarySchema,
  },
  'runs.stop': { input: runId, output: runSummarySchema },
  'runs.kill': { input: runId, output: runSummarySchema },
  'runs.extend': {
    input: z
      .object({
        id: z.string(),
        seconds: z
          .number()
          .int()
          .positive()
          .max(7 * 24 * 3600),
      })
      .strict(),
    output: runSummarySchema,
  },
} as const;

export const runsEvents = {
  /** The run list changed (a run started, changed status, was synced). */
  'runs.changed': z.array(runSummarySchema),
  /** Terminal output of a run being followed (`runs.follow` with `output`), to the peer that follows it only. */
  'runs.followOutput': z.object({ id: z.string(), data: z.string() }),
  /** Something the follower should know while waiting (the host went away, came back), to that peer only. */
  'runs.followNote': z.object({ id: z.string(), text: z.string() }),
} as const;
