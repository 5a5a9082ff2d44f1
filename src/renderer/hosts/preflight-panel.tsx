import type { PreflightCheck } from '../../shared/hosts';
import { RichText } from '../shell/rich-text';
import { CheckStatusIcon } from './check-status-icon';
import { formatDuration, formatRelativeTime, overallLabel } from '../common/host-state-text';
import { checkTally, preflightOverall, preflightProgress, type PreflightRun } from '../common/preflight-run';

const timestampFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** The preflight checklist: live while a check runs, the last report otherwise. */
export function PreflightPanel({ run, now }: { run: PreflightRun; now: number }) {
  const overall = preflightOverall(run);
  const progress = preflightProgress(run);
  const report = run.running ? null : run.report;
  const tookMs =
    report?.finishedAt !== undefined ? Date.parse(report.finishedAt) - Date.parse(report.startedAt) : Number.NaN;
  return (
    <section className="preflight" aria-labelledby="preflight-heading" aria-busy={run.running}>
      <header className="preflight-header">
        <h3 id="preflight-heading" className="subsection-title">
          Preflight
        </h3>
        {overall ? (
          <span className={`overall overall-${overall}`} data-testid="preflight-overall" data-status={overall}>
            {overallLabel(overall)}
          </span>
        ) : null}
      </header>

      {run.running ? (
        <div className="preflight-progress" role="status" data-testid="preflight-progress">
          {progress.totalKnown && progress.total > 0 ? (
            <progress className="progress-bar" value={progress.done} max={progress.total} aria-label="Checks done" />
          ) : (
            <progress className="progress-bar" aria-label="Checks running" />
          )}
          <span className="preflight-progress-text">
            {run.checks.length === 0
              ? 'Connecting…'
              : progress.totalKnown && progress.total > 0
                ? `${progress.done} of ${progress.total} checks done`
                : `${progress.done} ${progress.done === 1 ? 'check' : 'checks'} done…`}
          </span>
        </div>
      ) : null}

      {report?.finishedAt !== undefined ? (
        <p className="preflight-meta muted" data-testid="preflight-finished">
          Checked{' '}
          <time dateTime={report.finishedAt} title={timestampFormat.format(Date.parse(report.finishedAt))}>
            {formatRelativeTime(report.finishedAt, now)}
          </time>
          {Number.isNaN(tookMs) ? '' : `, took ${formatDuration(tookMs)}`}
          {report.checks.length > 0 ? ` · ${checkTally(report.checks)}` : ''}
          {report.gpus.length > 0
            ? ` · free GPUs: ${report.freeGpus.length > 0 ? report.freeGpus.join(', ') : 'none'}`
            : ''}
        </p>
      ) : null}

      {run.checks.length > 0 ? (
        <ol className="checklist" data-testid="preflight-checklist">
          {run.checks.map((check) => (
            <CheckRow key={check.id} check={check} />
          ))}
        </ol>
      ) : !run.running && run.loaded ? (
        <p className="preflight-empty muted" data-testid="preflight-empty">
          Not checked yet. Preflight checks SSH, Docker, the GPUs and the NVIDIA container runtime, so a run does not
          fail an hour in.
        </p>
      ) : null}
    </section>
  );
}

function CheckRow({ check }: { check: PreflightCheck }) {
  const showFix = check.fix && (check.status === 'warn' || check.status === 'fail');
  return (
    <li
      className={`check check-${check.status}`}
      data-testid={`preflight-check-${check.id}`}
      data-status={check.status}
    >
      <CheckStatusIcon status={check.status} />
      <div className="check-body">
        <div className="check-head">
          <span className="check-title">{check.title}</span>
          {check.durationMs !== undefined ? (
            <span className="check-duration">{formatDuration(check.durationMs)}</span>
          ) : null}
        </div>
        {check.summary ? <p className="check-summary">{check.summary}</p> : null}
        {check.details.length > 0 ? (
          <ul className="check-details">
            {check.details.map((line, i) => (
              <li key={i}>{line}</li>
            ))}
          </ul>
        ) : null}
        {showFix ? (
          <p className="check-fix" data-testid={`preflight-fix-${check.id}`}>
            <span className="check-fix-label">Fix</span>
            <span>
              <RichText text={check.fix ?? ''} />
            </span>
          </p>
        ) : null}
      </div>
    </li>
  );
}
