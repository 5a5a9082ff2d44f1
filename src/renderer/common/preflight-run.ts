import type { HostSummary } from '../../shared/contract';
import type { Result } from '../../shared/errors';
import type { CheckStatus, PreflightCheck, PreflightReport } from '../../shared/hosts';

/**
 * What the detail pane knows about one host's preflight: the last finished report, and while a check
 * runs, the checks as `hosts.preflightProgress` reports them. A check may be started here (this
 * window called `hosts.check`) or elsewhere (another window, the CLI): then progress events arrive
 * without a call, and the run ends when `hosts.changed` shows a newer last check.
 */
export interface PreflightRun {
  /** True once `hosts.lastCheck` or `hosts.check` has answered (null report: never checked). */
  readonly loaded: boolean;
  readonly running: boolean;
  /** This window is waiting on `hosts.check` for this host. */
  readonly ownCall: boolean;
  /** While running: the checks so far, in the order they first arrived. Otherwise the report's. */
  readonly checks: readonly PreflightCheck[];
  /** The last finished report (kept while a new run is going, for its check count). */
  readonly report: PreflightReport | null;
}

export const emptyPreflightRun: PreflightRun = {
  loaded: false,
  running: false,
  ownCall: false,
  checks: [],
  report: null,
};

const finishedStatuses: ReadonlySet<CheckStatus> = new Set(['pass', 'warn', 'fail', 'skip']);

export function isCheckFinished(check: PreflightCheck): boolean {
  return finishedStatuses.has(check.status);
}

/** This window called `hosts.check`: the list starts empty and fills from progress events. */
export function preflightStarted(run: PreflightRun): PreflightRun {
  return { ...run, running: true, ownCall: true, checks: [] };
}

/** Merges one progress event: a check seen before is replaced in place, a new one goes last. */
export function preflightProgressReceived(run: PreflightRun, check: PreflightCheck): PreflightRun {
  // Progress with no run going: someone else started a check on this host.
  const base = run.running ? run : { ...run, running: true, ownCall: false, checks: [] };
  const at = base.checks.findIndex((c) => c.id === check.id);
  const checks = at < 0 ? [...base.checks, check] : base.checks.map((c, i) => (i === at ? check : c));
  return { ...base, checks };
}

/**
 * The reply to this window's `hosts.check`. A report replaces the live list (it is the final word);
 * a failure (could not connect, host key refused) keeps what arrived so far and leaves the last report.
 */
export function preflightFinished(run: PreflightRun, result: Result<PreflightReport>): PreflightRun {
  if (result.ok) {
    return { loaded: true, running: false, ownCall: false, checks: result.data.checks, report: result.data };
  }
  const checks = run.checks.map((c) => (isCheckFinished(c) ? c : { ...c, status: 'skip' as const }));
  return { ...run, loaded: true, running: false, ownCall: false, checks };
}

/**
 * The reply to `hosts.lastCheck`. It never interrupts this window's own run; it ends a run started
 * elsewhere once it brings a report newer than the one held.
 */
export function lastCheckReceived(run: PreflightRun, report: PreflightReport | null): PreflightRun {
  if (run.running && run.ownCall) return run;
  if (run.running) {
    if (!report || report.finishedAt === undefined || report.finishedAt === run.report?.finishedAt) return run;
  }
  return { loaded: true, running: false, ownCall: false, checks: report?.checks ?? [], report };
}

export interface PreflightProgress {
  readonly done: number;
  /** Checks expected: those seen so far, or as many as the last report had if that is more. */
  readonly total: number;
  /** False when the total is only what has been seen (first run, no pending list from main). */
  readonly totalKnown: boolean;
}

export function preflightProgress(run: PreflightRun): PreflightProgress {
  const done = run.checks.filter(isCheckFinished).length;
  const previous = run.report?.checks.length ?? 0;
  // Main may announce all checks up front as `pending`; then the count is exact.
  const announced = run.checks.some((c) => c.status === 'pending');
  const total = Math.max(run.checks.length, previous);
  return { done, total, totalKnown: announced || previous > 0 || !run.running };
}

/** The status the pane shows at the top: the report's overall, `running` while going, null if never checked. */
export function preflightOverall(run: PreflightRun): CheckStatus | null {
  if (run.running) return 'running';
  if (run.report) return run.report.overall;
  return null;
}

/**
 * Hosts whose shown preflight is out of date after a `hosts.changed`: the summary's last check differs
 * from the report held (a check finished elsewhere). Only hosts already shown or seen running are
 * reloaded, and never while this window waits on its own call (its reply brings the report).
 */
export function stalePreflights(runs: ReadonlyMap<string, PreflightRun>, hosts: readonly HostSummary[]): string[] {
  const stale: string[] = [];
  for (const host of hosts) {
    const run = runs.get(host.name);
    if (!run || (run.running && run.ownCall) || (!run.loaded && !run.running)) continue;
    const held = run.report?.finishedAt;
    const latest = host.lastCheck?.finishedAt;
    if (latest !== undefined && latest !== held) stale.push(host.name);
  }
  return stale;
}

/** "1 failed · 2 warnings · 4 passed · 1 skipped": the finished checks by outcome, worst first. */
export function checkTally(checks: readonly PreflightCheck[]): string {
  const count = (status: CheckStatus) => checks.filter((c) => c.status === status).length;
  const parts: string[] = [];
  const failed = count('fail');
  const warned = count('warn');
  if (failed > 0) parts.push(`${failed} failed`);
  if (warned > 0) parts.push(`${warned} ${warned === 1 ? 'warning' : 'warnings'}`);
  if (count('pass') > 0) parts.push(`${count('pass')} passed`);
  if (count('skip') > 0) parts.push(`${count('skip')} skipped`);
  return parts.join(' · ');
}
