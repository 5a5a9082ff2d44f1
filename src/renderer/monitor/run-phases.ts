import type { RunSummary } from '../../shared/contract';
import { formatDuration } from '../../shared/runs/duration';
import { stopReasonText } from '../common/run-status-text';

/**
 * A run's lifecycle as a row of steps for the top of its view: launched → running (with the budget warnings the
 * agent got) → stopped (why) → evaluating → scored / failed, each with its time once reached. Derived from the
 * summary and the lifecycle events (events.jsonl as `runs.get` returns it), so it follows the run live.
 */

export type PhaseState = 'done' | 'current' | 'pending' | 'failed' | 'skipped';

export interface RunPhase {
  readonly id: 'launched' | 'running' | 'stopped' | 'evaluating' | 'outcome';
  readonly title: string;
  /** Epoch ms (host clock) when reached, if it was. */
  readonly t: number | null;
  readonly detail: string;
  readonly state: PhaseState;
}

function firstOf(events: readonly Record<string, unknown>[], type: string): Record<string, unknown> | undefined {
  return events.find((e) => e.type === type && typeof e.t === 'number');
}

function lastOf(events: readonly Record<string, unknown>[], type: string): Record<string, unknown> | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === type && typeof e.t === 'number') return e;
  }
  return undefined;
}

const time = (e: Record<string, unknown> | undefined): number | null => (typeof e?.t === 'number' ? e.t : null);

export function runPhases(run: RunSummary, events: readonly Record<string, unknown>[]): RunPhase[] {
  const status = run.status;
  const created = Date.parse(run.createdAt);
  const started = firstOf(events, 'agent-started');
  const stopped = lastOf(events, 'agent-stopped');
  const evaluating = firstOf(events, 'evaluation-started');
  const finished = lastOf(events, 'evaluation-finished');
  const warnings = events.filter((e) => e.type === 'warning' && typeof e.secondsLeft === 'number');
  const startFailed = status === 'failed';

  const startedAt = time(started) ?? run.startedAt ?? null;
  const stoppedAt = time(stopped) ?? run.stoppedAt ?? null;
  const agentDone =
    stoppedAt !== null || ['stopping', 'evaluating', 'scored', 'evaluation-failed', 'no-model'].includes(status);
  const running: PhaseState = startFailed ? 'failed' : agentDone ? 'done' : startedAt !== null ? 'current' : 'pending';
  const warningText =
    warnings.length === 0
      ? ''
      : `warned: ${warnings.map((w) => `${formatDuration(w.secondsLeft as number)} left`).join(', ')}`;

  const reason = stopReasonText(
    (typeof stopped?.reason === 'string' ? stopped.reason : null) ?? run.stopReason ?? null,
  );
  const outcomeReached = ['evaluating', 'scored', 'evaluation-failed', 'no-model'].includes(status);
  // Once the run is evaluated the agent has stopped, whether or not the record says when (an imported run).
  const stoppedState: PhaseState = startFailed
    ? 'skipped'
    : stoppedAt !== null || outcomeReached
      ? 'done'
      : status === 'stopping'
        ? 'current'
        : 'pending';

  const evaluatingAt = time(evaluating);
  const outcomeKnown = ['scored', 'evaluation-failed', 'no-model'].includes(status);
  const evaluatingState: PhaseState = startFailed
    ? 'skipped'
    : status === 'evaluating'
      ? 'current'
      : outcomeKnown
        ? evaluatingAt === null
          ? 'skipped'
          : 'done'
        : 'pending';

  const outcome: RunPhase = startFailed
    ? { id: 'outcome', title: 'Failed to start', t: null, detail: run.error ?? '', state: 'failed' }
    : status === 'scored'
      ? {
          id: 'outcome',
          title: typeof run.score === 'number' ? `Scored ${run.score.toFixed(1)}` : 'Scored',
          t: time(finished),
          detail: '',
          state: 'done',
        }
      : status === 'evaluation-failed'
        ? { id: 'outcome', title: 'Evaluation failed', t: time(finished), detail: '', state: 'failed' }
        : status === 'no-model'
          ? { id: 'outcome', title: 'No model', t: time(finished), detail: 'final_model/ empty', state: 'failed' }
          : { id: 'outcome', title: 'Scored', t: null, detail: '', state: 'pending' };

  return [
    {
      id: 'launched',
      title: 'Launched',
      t: Number.isNaN(created) ? null : created,
      detail: '',
      state: 'done',
    },
    { id: 'running', title: 'Running', t: startedAt, detail: warningText, state: running },
    {
      id: 'stopped',
      title: 'Stopped',
      t: stoppedAt,
      detail: stoppedState === 'done' || stoppedState === 'current' ? (reason ?? '') : '',
      state: stoppedState,
    },
    { id: 'evaluating', title: 'Evaluating', t: evaluatingAt, detail: '', state: evaluatingState },
    outcome,
  ];
}
