import type { EventPayload } from '../../shared/contract';
import { SETUP_STEPS, type SetupReport, type SetupStep } from '../../shared/contract-host-setup';
import type { AppErrorData, Result } from '../../shared/errors';

/**
 * One host's set-up as the panel shows it (pure; the store holds it): each step's state, "n of m" while a build runs,
 * its last log lines as the host printed them, then the report.
 */

export const SETUP_LOG_LINES = 200;

export interface SetupStepView {
  readonly status: 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'not-run';
  readonly done: number | null;
  readonly total: number | null;
  readonly summary: string | null;
  readonly log: readonly string[];
}

export interface SetupRun {
  readonly running: boolean;
  readonly steps: ReadonlyMap<SetupStep, SetupStepView>;
  readonly report: SetupReport | null;
  readonly error: AppErrorData | null;
}

const pendingStep: SetupStepView = { status: 'pending', done: null, total: null, summary: null, log: [] };

export const emptySetupRun: SetupRun = { running: false, steps: new Map(), report: null, error: null };

export function setupStarted(requested: readonly SetupStep[]): SetupRun {
  return {
    running: true,
    steps: new Map(SETUP_STEPS.filter((s) => requested.includes(s)).map((s) => [s, pendingStep])),
    report: null,
    error: null,
  };
}

export function setupProgressReceived(run: SetupRun, event: EventPayload<'hosts.setupProgress'>): SetupRun {
  const before = run.steps.get(event.step) ?? pendingStep;
  const ended = event.status !== 'running';
  const log =
    event.status === 'running' && event.line !== null
      ? [...before.log, ...event.line.split('\n')].slice(-SETUP_LOG_LINES)
      : before.log;
  const step: SetupStepView = {
    status: event.status,
    done: event.done ?? (ended ? null : before.done),
    total: event.total ?? (ended ? null : before.total),
    summary: ended ? event.line : before.summary,
    log,
  };
  return { ...run, steps: new Map(run.steps).set(event.step, step) };
}

export function setupFinished(run: SetupRun, result: Result<SetupReport>): SetupRun {
  if (!result.ok) return { ...run, running: false, error: result.error };
  const steps = new Map(run.steps);
  for (const s of result.data.steps) {
    steps.set(s.step, { status: s.status, done: null, total: null, summary: s.summary, log: s.log });
  }
  return { running: false, steps, report: result.data, error: null };
}

/** 0..1 for a step's bar: n of m while a build says so, full when it ended, empty while pending. */
export function stepFraction(step: SetupStepView): number | null {
  if (step.status === 'done' || step.status === 'skipped') return 1;
  if (step.status === 'running' && step.done !== null && step.total) return Math.min(1, step.done / step.total);
  return null;
}
