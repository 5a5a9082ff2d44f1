import type { RunSummary } from '../../shared/contract';
import { asRunStatus } from './run-status-text';

/**
 * How far along its lifecycle a run is. Summaries carry no version, so when a command's reply (say, `runs.stop`)
 * arrives after a `runs.changed` that already showed the run further on, the older word must not win.
 */
export function lifecycleRank(run: RunSummary): number {
  switch (asRunStatus(run.status)) {
    case 'starting':
      return 1;
    case 'running':
      return 2;
    case 'stopping':
      return 3;
    case 'evaluating':
      return 4;
    case 'scored':
    case 'evaluation-failed':
    case 'no-model':
    case 'failed':
      return 5;
    default:
      // unreadable / unknown: no ordering to protect.
      return 0;
  }
}

/**
 * Adds or replaces runs by id with summaries a command returned. A held summary that is further along than the
 * incoming one stays (an event overtook the reply); otherwise the incoming one wins, so an extension's new
 * deadline shows at once.
 */
export function mergeRunSummaries(held: readonly RunSummary[], incoming: readonly RunSummary[]): RunSummary[] {
  const byId = new Map(incoming.map((run) => [run.id, run]));
  const merged = held.map((run) => {
    const next = byId.get(run.id);
    if (!next) return run;
    byId.delete(run.id);
    return lifecycleRank(run) > lifecycleRank(next) ? run : next;
  });
  return [...merged, ...byId.values()];
}

/**
 * Whether a summary says something the detail pane does not show yet, so `runs.get` is worth asking again.
 * Compared field by field: a `runs.changed` list is rebuilt each time, so identity says nothing.
 */
export function summaryMoved(shown: RunSummary, latest: RunSummary): boolean {
  return (
    shown.status !== latest.status ||
    shown.startedAt !== latest.startedAt ||
    shown.deadline !== latest.deadline ||
    shown.stoppedAt !== latest.stoppedAt ||
    shown.stopReason !== latest.stopReason ||
    shown.score !== latest.score
  );
}
