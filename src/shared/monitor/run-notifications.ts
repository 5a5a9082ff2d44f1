/**
 * Which desktop notifications a change in the runs calls for: the agent finished, the run failed, it was
 * evaluated, its GPUs went idle, the supervisor warned that its budget runs out. Pure, so "one per transition, never spam" is tested rather than hoped for:
 *
 * - a run seen for the first time is a baseline (opening the app shows no history of notifications);
 * - each notification has a key, and a key is never sent twice (a reconnect replaying the same list is silent);
 * - an idle alert is keyed by when the quiet stretch began, so the GPUs going busy and idle again alerts again.
 */

export const RUN_NOTIFICATION_KINDS = [
  'finished',
  'failed',
  'evaluated',
  'gpu-idle',
  'budget-warning',
  'integrity-flag',
] as const;
export type RunNotificationKind = (typeof RUN_NOTIFICATION_KINDS)[number];

/** What the notifier needs to know of a run: its summary's facts and its GPU idle status. */
export interface RunWatchFacts {
  readonly id: string;
  readonly label: string;
  readonly status: string;
  readonly stoppedAt: number | null;
  readonly stopReason: string | null;
  readonly score: number | null;
  readonly error: string | null;
  /** Null when not known (the monitor has not reported on this run yet). */
  readonly gpuIdle: { readonly idle: boolean; readonly since: number | null; readonly quietMs: number } | null;
  /** The latest budget warning the supervisor wrote into the agent's terminal (the monitor's), if any. */
  readonly budgetWarning?: { readonly t: number; readonly secondsLeft: number } | null;
}

export interface RunNotification {
  /** Unique per transition; also the Notification API's `tag`, so two windows showing it collapse into one. */
  readonly key: string;
  readonly kind: RunNotificationKind;
  readonly runId: string;
  readonly title: string;
  readonly body: string;
}

const FAILED = new Set(['failed', 'evaluation-failed', 'no-model']);
/** The agent is no longer working once the run is in one of these. */
const AGENT_DONE = new Set(['stopping', 'evaluating', 'scored', 'evaluation-failed', 'no-model']);

const reasons: Record<string, string> = {
  budget: 'its budget was used up',
  'agent-exited': 'it finished on its own',
  'user-stop': 'stopped by request',
  killed: 'killed by request',
  'model-problem': 'the scripted model stopped its replay',
};

function agentDone(facts: RunWatchFacts): boolean {
  return facts.stoppedAt !== null || AGENT_DONE.has(facts.status);
}

function name(facts: RunWatchFacts): string {
  return facts.label || facts.id;
}

function budgetLeft(seconds: number): string {
  return seconds >= 120 ? `${Math.round(seconds / 60)} minutes` : `${Math.max(0, Math.round(seconds))} seconds`;
}

function minutes(ms: number): string {
  const m = Math.floor(ms / 60_000);
  return m === 1 ? '1 minute' : `${m} minutes`;
}

/** The notifications `current` calls for, given what was seen before and what was already sent. */
export function runNotifications(
  previous: ReadonlyMap<string, RunWatchFacts>,
  current: readonly RunWatchFacts[],
  sent: ReadonlySet<string>,
): RunNotification[] {
  const out: RunNotification[] = [];
  const add = (n: RunNotification): void => {
    if (!sent.has(n.key) && !out.some((o) => o.key === n.key)) out.push(n);
  };
  for (const now of current) {
    const before = previous.get(now.id);
    if (!before) continue;
    if (!agentDone(before) && agentDone(now) && now.status !== 'failed') {
      const why = now.stopReason ? (reasons[now.stopReason] ?? now.stopReason) : null;
      add({
        key: `${now.id}:finished`,
        kind: 'finished',
        runId: now.id,
        title: `Run finished: ${name(now)}`,
        body: `The agent stopped${why ? `: ${why}` : ''}.${now.status === 'stopping' || now.status === 'evaluating' ? ' The evaluation follows.' : ''}`,
      });
    }
    if (!FAILED.has(before.status) && FAILED.has(now.status)) {
      const body =
        now.status === 'failed'
          ? `The agent could not be started${now.error ? `: ${now.error}` : '.'}`
          : now.status === 'no-model'
            ? 'There was no model in final_model/ to evaluate.'
            : 'No evaluation attempt produced metrics.';
      add({ key: `${now.id}:failed`, kind: 'failed', runId: now.id, title: `Run failed: ${name(now)}`, body });
    }
    if (before.status !== 'scored' && now.status === 'scored') {
      add({
        key: `${now.id}:evaluated`,
        kind: 'evaluated',
        runId: now.id,
        title: `Run evaluated: ${name(now)}`,
        body: now.score === null ? 'The evaluation finished.' : `Score ${now.score.toFixed(1)}.`,
      });
    }
    const warning = now.budgetWarning;
    if (warning && warning.t !== before.budgetWarning?.t && !agentDone(now)) {
      add({
        key: `${now.id}:budget-warning:${warning.t}`,
        kind: 'budget-warning',
        runId: now.id,
        title: `Budget warning: ${name(now)}`,
        body: `${budgetLeft(warning.secondsLeft)} of the agent's budget left.`,
      });
    }
    const idle = now.gpuIdle;
    if (idle?.idle && !before.gpuIdle?.idle && !agentDone(now)) {
      add({
        key: `${now.id}:gpu-idle:${idle.since ?? 0}`,
        kind: 'gpu-idle',
        runId: now.id,
        title: `GPU idle: ${name(now)}`,
        body: `The run's GPUs have been idle for ${minutes(idle.quietMs)} while its budget runs.`,
      });
    }
  }
  return out;
}
