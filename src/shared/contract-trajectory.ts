import { z } from 'zod';

/**
 * Structured agent steps, the one timeline, and PostTrainBench import (issue 6).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 */

/** What a step is; `raw` is a line no dialect explains (launcher output, an unknown event, broken JSON). */
export const STEP_KINDS = ['message', 'thinking', 'tool', 'shell', 'file', 'error', 'usage', 'system', 'raw'] as const;
export const stepKindSchema = z.enum(STEP_KINDS);
export type StepKind = z.infer<typeof stepKindSchema>;

export const stepUsageSchema = z.object({
  /** Every input token, cached ones included. */
  inputTokens: z.number(),
  /** The part of `inputTokens` read from a prompt cache. */
  cachedInputTokens: z.number(),
  outputTokens: z.number(),
});
export type StepUsage = z.infer<typeof stepUsageSchema>;

/** One thing the agent did, from one line of its JSON stream (or two: a tool call and its result, paired by id). */
export const agentStepSchema = z.object({
  /** Position among all steps of the stream, from 0. */
  index: z.number().int().nonnegative(),
  /** 1-based line of the stream where the step begins. */
  line: z.number().int().positive(),
  /** The line that completed it (a tool result, an item's completion), when another one did. */
  endLine: z.number().int().positive().optional(),
  /** Epoch ms, when the stream, its line prefix or the terminal recording says; null otherwise. */
  t: z.number().nullable(),
  kind: stepKindSchema,
  /** One line for the list. */
  title: z.string(),
  role: z.enum(['assistant', 'user', 'system']).optional(),
  /** Message, thinking or error text; the line itself for a raw step. */
  text: z.string().optional(),
  toolName: z.string().optional(),
  toolId: z.string().optional(),
  input: z.unknown().optional(),
  /** Tool or command output; null while the call has no result (yet, or ever). */
  output: z.string().nullable().optional(),
  isError: z.boolean().optional(),
  /** `in_progress`, `completed`, `failed`… as the agent said. */
  status: z.string().optional(),
  command: z.string().optional(),
  exitCode: z.number().nullable().optional(),
  files: z.array(z.object({ path: z.string(), action: z.string() })).optional(),
  usage: stepUsageSchema.optional(),
  costUsd: z.number().optional(),
  /** For a raw step: why no dialect took it (absent for plain launcher text). */
  problem: z.string().optional(),
  /** In a page of the list, long text, input and output are cut; `trajectory.step` has them whole. */
  truncated: z.boolean().optional(),
});
export type AgentStep = z.infer<typeof agentStepSchema>;

export const stepTotalsSchema = z.object({
  steps: z.number(),
  byKind: z.record(z.string(), z.number()),
  toolCalls: z.number(),
  /** Calls that never got a result. */
  unfinishedCalls: z.number(),
  inputTokens: z.number(),
  cachedInputTokens: z.number(),
  outputTokens: z.number(),
  /** Null when the agent does not report cost (Codex). */
  costUsd: z.number().nullable(),
  /** Lines that were not JSON or not understood (kept as raw steps). */
  rawLines: z.number(),
});
export type StepTotals = z.infer<typeof stepTotalsSchema>;

export const streamDialectSchema = z.enum([
  'claude-stream-json',
  'codex-exec-json',
  'gemini-stream-json',
  'opencode-json',
  'none',
]);

/** What a PostTrainBench result folder said beyond the trace (shown above the steps of an imported run). */
export const ptbRecordSchema = z.object({
  source: z.string(),
  folder: z.string(),
  agentConfig: z.string(),
  /** The agent as the method folder names it (`codex_non_api_high`, `cursor_cli`). */
  method: z.string().optional(),
  /** The file the steps come from (`solve_out.txt`, another `solve_out*.txt`, or `solve_parsed.txt`), null: none. */
  trace: z.string().nullable().optional(),
  /** Where the start and stop times come from: the trace's timestamps, or nothing that says. */
  timesFrom: z.enum(['trace', 'none']).optional(),
  timeTaken: z.string().nullable(),
  timeTakenSeconds: z.number().nullable(),
  metrics: z.record(z.string(), z.unknown()).nullable(),
  diagnostics: z.record(z.string(), z.string()),
  judgements: z.array(
    z.object({
      file: z.string(),
      /** `contamination`, `disallowed_model`, `disallowed_api_usage`…, or the file's name when it has no verdict. */
      check: z.string(),
      flagged: z.boolean().nullable(),
      /** The judge's justification as written ('' when it gave none). */
      text: z.string(),
      /** Why no verdict could be read from the file. */
      problem: z.string().optional(),
    }),
  ),
  /** error.log's first meaningful line and what it means (`Terminated`: the time limit; `Killed`: out of memory). */
  errorCause: z.string().nullable(),
  files: z.array(z.string()),
  finalModel: z.object({ exists: z.boolean(), files: z.number(), totalBytes: z.number() }),
  problems: z.array(z.string()),
  /** Keys removed from the app's copy (the agent's key as this app knows it, and API-key shapes); the source folder is untouched. */
  redacted: z.number().default(0),
});
export type PtbRecord = z.infer<typeof ptbRecordSchema>;

const runId = z.string().min(1);

export const stepsPageSchema = z.object({
  dialect: streamDialectSchema,
  /** Steps that match the filter. */
  total: z.number(),
  offset: z.number(),
  steps: z.array(agentStepSchema),
  /** Over all steps, whatever the filter. */
  totals: stepTotalsSchema,
  /** Whether any step has a time. */
  timed: z.boolean(),
  /** For an imported PostTrainBench run. */
  ptb: ptbRecordSchema.nullable(),
});
export type StepsPage = z.infer<typeof stepsPageSchema>;

export const runTimelineSchema = z.object({
  /** The agent's start (epoch ms), else the first thing recorded; null when nothing has a time. */
  start: z.number().nullable(),
  end: z.number().nullable(),
  deadline: z.number().nullable(),
  /** Whether the run has a terminal recording (terminal.cast) to seek. */
  hasTerminal: z.boolean(),
  /** Every step, compactly: where the scrubber draws it. */
  steps: z.array(z.object({ index: z.number(), t: z.number().nullable(), kind: stepKindSchema })),
  /** GPU samples (mean over the run's GPUs), at most 2000 points. */
  gpu: z.array(z.object({ t: z.number(), utilization: z.number(), memoryUsedMiB: z.number() })),
  /** events.jsonl (lifecycle and interventions), parsed; the renderer words them as the Overview's timeline does. */
  events: z.array(z.record(z.string(), z.unknown())),
  /** Budget warnings (also among `events`), for the scrubber's budget lane. */
  warnings: z.array(z.object({ t: z.number(), secondsLeft: z.number() })),
});
export type RunTimelineData = z.infer<typeof runTimelineSchema>;

export const ptbImportResultSchema = z.object({
  imported: z.array(
    z.object({
      id: z.string(),
      folder: z.string(),
      task: z.string(),
      agent: z.string(),
      status: z.string(),
      score: z.number().nullable(),
      steps: z.number(),
    }),
  ),
  skipped: z.array(z.object({ folder: z.string(), reason: z.string() })),
});
export type PtbImportResult = z.infer<typeof ptbImportResultSchema>;

export const trajectoryCommands = {
  /** The run's agent stream as steps (paged), with totals; filtered by kind when `kinds` is given. */
  'trajectory.steps': {
    input: z
      .object({
        id: runId,
        offset: z.number().int().nonnegative().default(0),
        limit: z.number().int().positive().max(5000).default(1000),
        kinds: z.array(stepKindSchema).optional(),
      })
      .strict(),
    output: stepsPageSchema,
  },
  /** One step whole (a page of the list cuts long text and output). */
  'trajectory.step': {
    input: z.object({ id: runId, index: z.number().int().nonnegative() }).strict(),
    output: agentStepSchema,
  },
  /** Everything the one scrubber shows: step marks, GPU samples, lifecycle / intervention events, budget marks. */
  'trajectory.timeline': { input: z.object({ id: runId }).strict(), output: runTimelineSchema },
  /** Imports a PostTrainBench result folder, or every result folder under a results tree, as runs. */
  'trajectory.importPtb': {
    input: z.object({ path: z.string().min(1, 'name a result folder or a results tree') }).strict(),
    output: ptbImportResultSchema,
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const trajectoryEvents = {} as const satisfies Record<string, z.ZodType>;
