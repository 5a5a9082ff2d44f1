import { formatDuration } from '../../shared/runs/duration';
import { RUN_STATUSES, isFinalRunStatus, type RunStatus } from '../../shared/runs/run-status';

/**
 * Words and colours for the facts a run summary carries (status, stop reason, score). A summary's status is a
 * string: a RunStatus, or `unreadable` / `unknown` when main could not read the record.
 */

export function asRunStatus(status: string): RunStatus | null {
  return (RUN_STATUSES as readonly string[]).includes(status) ? (status as RunStatus) : null;
}

/** Whether the run is still going on the host (the supervisor has more to do). */
export function isLiveStatus(status: string): boolean {
  const known = asRunStatus(status);
  return known !== null && !isFinalRunStatus(known);
}

/** The badge's colour class. */
export type RunTone = 'live' | 'pending' | 'ok' | 'warn' | 'fail' | 'idle';

const tones: Record<RunStatus, RunTone> = {
  starting: 'pending',
  running: 'live',
  stopping: 'pending',
  evaluating: 'pending',
  scored: 'ok',
  'evaluation-failed': 'fail',
  'no-model': 'warn',
  failed: 'fail',
};

export function runStatusTone(status: string): RunTone {
  const known = asRunStatus(status);
  return known ? tones[known] : 'idle';
}

const labels: Partial<Record<string, string>> = {
  'evaluation-failed': 'evaluation failed',
  'no-model': 'no model',
  starting: 'starting…',
  stopping: 'stopping…',
  evaluating: 'evaluating…',
};

export function runStatusLabel(status: string): string {
  return labels[status] ?? (status === '' ? 'unknown' : status);
}

const stopReasons: Record<string, string> = {
  budget: 'budget used up',
  'agent-exited': 'agent finished on its own',
  'user-stop': 'stopped by request',
  killed: 'killed by request',
  'model-problem': 'the scripted model stopped its replay',
};

/** Why the agent stopped, in words; unknown reasons are shown as they came. */
export function stopReasonText(reason: string | null | undefined): string | null {
  if (!reason) return null;
  return stopReasons[reason] ?? reason;
}

/** A score (accuracy × 100) with one decimal, as the leaderboard shows it. */
export function formatScore(score: number): string {
  return score.toFixed(1);
}

/** Which controls a run offers in its status. */
export interface RunControls {
  readonly stop: boolean;
  readonly kill: boolean;
  readonly extend: boolean;
}

export function runControls(status: string): RunControls {
  switch (asRunStatus(status)) {
    case 'starting':
      return { stop: true, kill: true, extend: false };
    case 'running':
      return { stop: true, kill: true, extend: true };
    case 'stopping':
      // A stop waits out the grace period; a kill ends it at once.
      return { stop: false, kill: true, extend: false };
    default:
      return { stop: false, kill: false, extend: false };
  }
}

/** "10h budget", "1h30m budget"; null when the summary does not say. */
export function budgetText(budgetSeconds: number | undefined): string | null {
  return budgetSeconds === undefined ? null : `${formatDuration(budgetSeconds)} budget`;
}

export interface RunNote {
  readonly text: string;
  readonly tone: 'warn' | 'fail' | 'muted';
}

/** The one line under a run in the list: what most needs saying, worst first. */
export function runNote(run: {
  status: string;
  stopReason?: string | null | undefined;
  supervisorAlive?: boolean | undefined;
  error?: string | null | undefined;
  syncError?: string | null | undefined;
}): RunNote | null {
  if (run.error) return { text: run.error, tone: 'fail' };
  if (isLiveStatus(run.status) && run.supervisorAlive === false) {
    return { text: 'supervisor not heard from for 20 s', tone: 'warn' };
  }
  if (run.syncError) return { text: `not synced: ${run.syncError}`, tone: 'warn' };
  const reason = stopReasonText(run.stopReason);
  return reason ? { text: reason, tone: 'muted' } : null;
}
