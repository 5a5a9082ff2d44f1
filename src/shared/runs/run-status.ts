import { z } from 'zod';
import { integrityFlagSchema, integrityKindSchema, integrityVerdictSchema } from '../contract-integrity';

/**
 * What the host supervisor writes about a run (docs/run-folder.md): `state.json`, replaced atomically on every
 * change, and `record/events.jsonl`, append-only lifecycle events. The app reads both to rebuild a run's story
 * after a crash or from an imported bundle.
 */

export const RUN_STATUSES = [
  'starting',
  'running',
  'stopping',
  'evaluating',
  'scored',
  'evaluation-failed',
  'no-model',
  'failed',
] as const;
export const runStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof runStatusSchema>;

/** Statuses after which nothing more happens to the run. */
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['scored', 'evaluation-failed', 'no-model', 'failed'];

export function isFinalRunStatus(status: RunStatus): boolean {
  return FINAL_RUN_STATUSES.includes(status);
}

/**
 * Why the agent stopped: its deadline, on its own, the user's stop (SIGTERM, then SIGKILL), the user's kill, or (a
 * scripted run) the supervisor's stop of an agent still running 30 s after the scripted model's problem.
 */
export const stopReasonSchema = z.enum(['budget', 'agent-exited', 'user-stop', 'killed', 'model-problem']);
export type StopReason = z.infer<typeof stopReasonSchema>;

/** How the evaluation ended; the same words as the final statuses. */
export const evaluationOutcomeSchema = z.enum(['scored', 'evaluation-failed', 'no-model']);
export type EvaluationOutcome = z.infer<typeof evaluationOutcomeSchema>;

/**
 * `metrics.json` as the evaluator writes it: a flat object with `accuracy` (0..1) and usually `stderr`; some
 * benchmarks (HealthBench) add nested breakdowns, kept as they are.
 */
export const evaluationMetricsSchema = z.looseObject({
  accuracy: z.number(),
  stderr: z.number().optional(),
});
export type EvaluationMetrics = z.infer<typeof evaluationMetricsSchema>;

const epochMs = z.number().nonnegative();

const integrityVerdictWordSchema = integrityVerdictSchema.shape.verdict;

export const runStateSchema = z.object({
  status: runStatusSchema,
  supervisorPid: z.number().int().nullable().default(null),
  /** The run folder format the supervisor writes (ptw_host/run_folder.py SUPERVISOR_VERSION). */
  supervisorVersion: z.number().int().optional(),
  /** Refreshed every 5 s while the supervisor lives. */
  heartbeatAt: epochMs,
  agentContainerId: z.string().nullable().default(null),
  startedAt: epochMs.nullable().default(null),
  deadline: epochMs.nullable().default(null),
  /** `warnSecondsBefore` entries already announced. */
  warningsSent: z.array(z.number()).default([]),
  stoppedAt: epochMs.nullable().default(null),
  stopReason: stopReasonSchema.nullable().default(null),
  exitCode: z.number().int().nullable().default(null),
  evaluation: z
    .object({
      attempts: z.number().int().nonnegative().default(0),
      outcome: evaluationOutcomeSchema.nullable().default(null),
      metrics: evaluationMetricsSchema.nullable().default(null),
    })
    .default({ attempts: 0, outcome: null, metrics: null }),
  /** With `failed`: why the supervisor could not start the agent. */
  error: z.string().nullable().optional(),
  /**
   * The supervisor's integrity passes (ptw_host/integrity_watch.py; absent for a run.json that plans none): the
   * last pass's verdict (null when it failed), when it started, how many ran, and when the final pass ended. The
   * score waits for that: `integrity-final` comes before `evaluation-finished` and the final status.
   */
  integrity: z
    .object({
      verdict: integrityVerdictWordSchema.nullable(),
      checkedAt: epochMs,
      passes: z.number().int().nonnegative(),
      finalAt: epochMs.optional(),
    })
    .optional(),
});
export type RunState = z.infer<typeof runStateSchema>;

/** Heartbeats come every 5 s; four missed ones mean the supervisor is gone (or the host's clock is off). */
export const SUPERVISOR_STALE_AFTER_MS = 20_000;

/** True while the state says the supervisor is working and its heartbeat is fresh. */
export function isSupervisorAlive(state: RunState, now: number, staleAfterMs = SUPERVISOR_STALE_AFTER_MS): boolean {
  return !isFinalRunStatus(state.status) && now - state.heartbeatAt < staleAfterMs;
}

// --- events.jsonl -------------------------------------------------------------------------------------------

function event<T extends string, S extends z.ZodRawShape>(type: T, shape: S) {
  return z.object({ t: epochMs, type: z.literal(type), ...shape });
}

export const interventionActionSchema = z.enum(['stop', 'kill', 'extend', 'peek-shell']);

/** What `supervisor-error` says about terminal output lost while no supervisor ran (resume). */
const outputGapSchema = z.object({ from: epochMs.nullable(), to: epochMs });

/**
 * Every event the supervisor appends (docs/run-folder.md, "Events"), with every field it writes: the host package's
 * tests check its events against the JSON Schema made from this (test/host/run-folder.schema.json). `request` names
 * the control file an event answers.
 */
export const runEventSchema = z.discriminatedUnion('type', [
  event('supervisor-started', {
    pid: z.number().int().optional(),
    version: z.number().int().optional(),
    resumed: z.boolean().optional(),
    /** The Docker Engine API version the supervisor negotiated. */
    apiVersion: z.string().optional(),
    previousStatus: z.string().nullable().optional(),
    previousHeartbeatAt: epochMs.nullable().optional(),
  }),
  event('agent-started', { deadline: epochMs, startedAt: epochMs.optional(), containerId: z.string().optional() }),
  event('warning', { secondsLeft: z.number(), deadline: epochMs.optional() }),
  event('resize', {
    cols: z.number().int().positive(),
    rows: z.number().int().positive(),
    by: z.string().optional(),
    request: z.string().optional(),
  }),
  event('intervention', {
    action: interventionActionSchema,
    /** Who asked: the app, the CLI, a user name. */
    by: z.string(),
    request: z.string().optional(),
    newDeadline: epochMs.optional(),
    seconds: z.number().optional(),
  }),
  event('stopping', { reason: stopReasonSchema, signal: z.string() }),
  event('agent-stopped', { reason: stopReasonSchema, exitCode: z.number().int().nullable() }),
  event('gpu-sampling', {
    available: z.boolean(),
    error: z.string().nullable().optional(),
    gpuIndices: z.array(z.number().int()).optional(),
  }),
  event('evaluation-started', { attempts: z.number().int().optional() }),
  event('evaluation-attempt', {
    n: z.number().int().positive(),
    exitCode: z.number().int().nullable(),
    timedOut: z.boolean(),
    /** Path of the attempt's log, relative to the run folder (`eval/attempt-1.log`). */
    log: z.string(),
    error: z.string().optional(),
  }),
  event('evaluation-finished', { outcome: evaluationOutcomeSchema, metrics: evaluationMetricsSchema.nullable() }),
  /** A scripted run's model stopped its replay (docs/model-script.md, "Problems"): the turn and why. */
  event('model-endpoint-problem', { turn: z.number().int().positive(), message: z.string() }),
  event('supervisor-error', {
    message: z.string(),
    request: z.string().optional(),
    outputGap: outputGapSchema.optional(),
  }),
  /** A live integrity pass ended (ptw_host/integrity_watch.py): its verdict (null and `error` when it failed). */
  event('integrity-pass', {
    verdict: integrityVerdictWordSchema.nullable(),
    newFlags: z.number().int().nonnegative(),
    seconds: z.number().nonnegative(),
    error: z.string().optional(),
  }),
  /** The final integrity pass ended: always before `evaluation-finished` (the score waits for it). */
  event('integrity-final', {
    verdict: integrityVerdictWordSchema.nullable(),
    newFlags: z.number().int().nonnegative(),
    seconds: z.number().nonnegative(),
    error: z.string().optional(),
  }),
  /**
   * A flag a pass reported for the first time (`flag`: its flagKey), with `evidenceAt`, when its evidence appeared
   * (the evidence file's mtime or the trace line's time, host clock; the pass's time when it carries none).
   */
  event('integrity-flag', {
    flag: z.string(),
    kind: integrityKindSchema,
    severity: integrityFlagSchema.shape.severity,
    summary: z.string(),
    evidenceAt: epochMs,
  }),
  /** Set-id bits cleared and device nodes removed from the agent's folders after it stopped (names capped). */
  event('sandbox-sanitized', {
    folder: z.string(),
    count: z.number().int().nonnegative(),
    cleared: z.array(z.string()),
    removed: z.array(z.string()),
    errors: z.array(z.string()),
  }),
]);
export type RunEvent = z.infer<typeof runEventSchema>;
export type RunEventType = RunEvent['type'];

export interface JsonlProblem {
  /** The file (or stream) the text came from, as the caller named it. */
  source: string;
  /** 1-based. */
  line: number;
  message: string;
  /** The offending line, cut to 200 characters. */
  text: string;
}

export interface ParsedEvents {
  events: RunEvent[];
  problems: JsonlProblem[];
  /**
   * An unfinished last line (no newline yet, not valid JSON): the supervisor is still writing it. A tailing reader
   * prepends it to the next chunk; it is not reported as a problem.
   */
  partialTail: string;
}

/**
 * The lines of an append-only record's text, numbered from 1, without the empty string after a final newline;
 * `last` marks the last line when the text does not end with one (a write still in progress, perhaps).
 */
export function recordLines(text: string): Array<{ raw: string; number: number; last: boolean }> {
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  const unterminated = !text.endsWith('\n');
  return lines.map((raw, i) => ({ raw, number: i + 1, last: unterminated && i === lines.length - 1 }));
}

function shorten(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * Parses events.jsonl text. A malformed line (not JSON, not an object, an unknown type, a missing field) becomes a
 * problem with its line number and the rest are kept, so one bad write never hides a run's history.
 */
export function parseEventsJsonl(text: string, source: string): ParsedEvents {
  const events: RunEvent[] = [];
  const problems: JsonlProblem[] = [];
  let partialTail = '';
  for (const { raw, number, last } of recordLines(text)) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      if (last) {
        partialTail = raw;
        continue;
      }
      problems.push({ source, line: number, message: `not JSON (${(err as Error).message})`, text: shorten(line) });
      continue;
    }
    const parsed = runEventSchema.safeParse(value);
    if (parsed.success) {
      events.push(parsed.data);
      continue;
    }
    const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
    const known = runEventSchema.options.some((option) => option.shape.type.value === type);
    const message =
      typeof value !== 'object' || value === null || Array.isArray(value)
        ? 'not a JSON object'
        : !known
          ? `unknown event type ${JSON.stringify(type)} (written by a newer supervisor?)`
          : `${String(type)} event: ${parsed.error.issues
              .map((issue) => `${issue.path.join('.') || 'event'}: ${issue.message}`)
              .join('; ')}`;
    problems.push({ source, line: number, message, text: shorten(line) });
  }
  return { events, problems, partialTail };
}
