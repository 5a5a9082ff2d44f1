import type { RunSummary } from '../../shared/contract';
import { formatCountdown, formatDuration, remainingMs } from '../../shared/runs/duration';
import { hostNow } from '../../shared/monitor/host-clock';
import { isLiveStatus } from '../common/run-status-text';

/**
 * A run's time, derived at `now` from the facts the host's supervisor reported (startedAt, deadline, stoppedAt,
 * all epoch ms on the host's clock). Nothing here is stored: the view recomputes it on every tick.
 */
export interface RunClock {
  /** `waiting`: the agent has not started (or never did); `running`: it is working; `stopped`: it has stopped. */
  readonly phase: 'waiting' | 'running' | 'stopped';
  readonly elapsedMs: number | null;
  /** While running: time to the deadline, never negative. */
  readonly remainingMs: number | null;
  /** The whole budget: deadline − start once known (extensions included), else the planned budget. */
  readonly budgetMs: number | null;
  /** elapsed / budget, 0..1, for the progress bar. */
  readonly fraction: number | null;
  /** Running past the deadline: the supervisor is stopping it, or its clock and ours disagree. */
  readonly overdue: boolean;
}

function finite(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * `now` is this machine's clock; `hostClockOffsetMs` (host minus ours, measured at each sync) turns it into the
 * host's, on which the supervisor stamped the start and the deadline. Without it the two clocks are taken to agree.
 */
export function runClock(run: RunSummary, localNow: number, hostClockOffsetMs: number | null = null): RunClock {
  const now = hostNow(localNow, hostClockOffsetMs);
  const started = finite(run.startedAt) ? run.startedAt : null;
  const deadline = finite(run.deadline) ? run.deadline : null;
  const stopped = finite(run.stoppedAt) ? run.stoppedAt : null;
  const budgetMs =
    started !== null && deadline !== null && deadline > started
      ? deadline - started
      : run.budgetSeconds !== undefined
        ? run.budgetSeconds * 1000
        : null;
  const fraction = (elapsed: number | null): number | null =>
    elapsed === null || budgetMs === null || budgetMs <= 0 ? null : Math.min(1, Math.max(0, elapsed / budgetMs));

  if (started === null) {
    // An imported run may know how long it ran (time_taken) without knowing when it started.
    const ran = finite(run.ranSeconds) && !isLiveStatus(run.status) ? run.ranSeconds * 1000 : null;
    if (ran !== null) {
      return { phase: 'stopped', elapsedMs: ran, remainingMs: null, budgetMs, fraction: fraction(ran), overdue: false };
    }
    return { phase: 'waiting', elapsedMs: null, remainingMs: null, budgetMs, fraction: null, overdue: false };
  }
  if (stopped !== null || !isLiveStatus(run.status)) {
    const elapsed = stopped !== null ? Math.max(0, stopped - started) : null;
    return {
      phase: 'stopped',
      elapsedMs: elapsed,
      remainingMs: null,
      budgetMs,
      fraction: fraction(elapsed),
      overdue: false,
    };
  }
  const elapsed = Math.max(0, now - started);
  const end = deadline ?? (budgetMs === null ? null : started + budgetMs);
  return {
    phase: 'running',
    elapsedMs: elapsed,
    // Capped at the whole budget: a host clock a little ahead of ours must not show more time than was given.
    remainingMs: end === null ? null : Math.min(remainingMs(end, now), Math.max(0, end - started)),
    budgetMs,
    fraction: fraction(elapsed),
    overdue: end !== null && now > end,
  };
}

/** Whether the clock's text changes every second (a live run whose agent is working). */
export function clockTicks(run: RunSummary): boolean {
  return isLiveStatus(run.status) && finite(run.startedAt) && !finite(run.stoppedAt);
}

export interface RunClockText {
  /** The number to read first: "1:23:45 left", "ran 9:59:58", "not started". */
  readonly primary: string;
  /** Context: "2:00:00 of 10h", "of 10h budget". */
  readonly secondary: string;
}

/** Elapsed time rounds down (formatCountdown rounds up, as a countdown should), so the two add up to the budget. */
function elapsedText(ms: number): string {
  return formatCountdown(Math.floor(ms / 1000) * 1000);
}

export function runClockText(clock: RunClock): RunClockText {
  const of = clock.budgetMs === null ? '' : `of ${formatDuration(clock.budgetMs / 1000)}`;
  switch (clock.phase) {
    case 'waiting':
      return { primary: 'not started', secondary: clock.budgetMs === null ? '' : `${of} budget` };
    case 'running':
      return {
        primary: clock.overdue
          ? 'at the deadline'
          : clock.remainingMs === null
            ? `${elapsedText(clock.elapsedMs ?? 0)} elapsed`
            : `${formatCountdown(clock.remainingMs)} left`,
        secondary: [elapsedText(clock.elapsedMs ?? 0), of].filter(Boolean).join(' '),
      };
    case 'stopped':
      return {
        primary: clock.elapsedMs === null ? 'stopped' : `ran ${elapsedText(clock.elapsedMs)}`,
        secondary: of,
      };
  }
}
