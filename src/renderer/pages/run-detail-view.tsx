import { useEffect } from 'react';
import { GpuTabView } from '../monitor/gpu-tab-view';
import { RunMonitorPanel } from '../monitor/run-monitor-panel';
import type { RunDetail, RunSummary } from '../../shared/contract';
import { formatByteSize } from '../../shared/runs/duration';
import { schedulerStatusText } from '../../shared/runs/run-scheduler';
import { runStateSchema } from '../../shared/runs/run-status';
import { HostErrorPanel } from '../common/host-error-panel';
import { liveRunTabs } from '../live/live-run-tabs';
import { formatRelativeTime } from '../common/host-state-text';
import { useAppStore } from '../store/store-context';
import { PtbRecordPanel } from '../steps/ptb-record-panel';
import { StepsTabView } from '../steps/steps-tab-view';
import { BundleExportTab } from '../runs/bundle-actions';
import { ReplayPlayer, ReplayTab } from '../replay/replay-view';
import { CheckpointsTabView } from '../checkpoints/checkpoints-tab-view';
import { DatasetsTabView } from '../datasets/datasets-tab-view';
import { IntegrityTabView } from '../integrity/integrity-tab-view';
import { runClock, runClockText } from '../runs/run-clock';
import { RunControlsView } from '../runs/run-controls-view';
import { RunTabs, type RunTab } from '../common/run-tabs';
import { RunStatusBadge } from '../runs/run-list-view';
import { metricRows } from '../runs/run-metrics';
import { specSummary } from '../runs/run-spec-summary';
import { formatScore, isLiveStatus, stopReasonText } from '../common/run-status-text';
import { offsetText, runTimeline, timelineOrigin } from '../common/run-timeline';
import { ProblemList } from '../shell/problem-list';

const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const formatTime = (ms: number) => timeFormat.format(ms);

/** One run: its clock, controls, spec, lifecycle timeline, metrics and where its files are. */
export function RunDetailView({ run, now }: { run: RunSummary; now: number }) {
  const detail = useAppStore((s) => (s.runs.detail?.id === run.id ? s.runs.detail : null));
  const ensureDetail = useAppStore((s) => s.runs.ensureDetail);
  const reloadDetail = useAppStore((s) => s.runs.reloadDetail);
  const problem = useAppStore((s) => s.runs.problems.get(run.id));

  useEffect(() => ensureDetail(run.id), [ensureDetail, run.id]);

  // The countdown reads the deadline on the host's clock (offset measured at each sync), not a local timer.
  const hostClockOffsetMs = useAppStore((s) => s.monitor.runs.get(run.id)?.hostClockOffsetMs ?? null);
  const clock = runClock(run, now, hostClockOffsetMs);
  const text = runClockText(clock);
  const reason = stopReasonText(run.stopReason);

  return (
    <article className="detail-card run-detail" data-testid="run-detail" aria-labelledby="run-detail-name">
      <header className="run-detail-header">
        <div className="run-detail-title">
          <h2 id="run-detail-name" className="run-detail-name">
            {run.label || run.id}
          </h2>
          <RunStatusBadge status={run.status} testId="run-detail-status" />
        </div>
        <button
          type="button"
          className="button button-quiet"
          data-testid="run-detail-refresh"
          disabled={detail?.loading ?? false}
          onClick={() => void reloadDetail(run.id)}
        >
          {detail?.loading && detail.data ? 'Refreshing…' : 'Refresh'}
        </button>
      </header>
      <p className="run-detail-id cell-mono muted" data-testid="run-detail-id">
        {run.id}
      </p>

      <div className="run-clock" data-testid="run-detail-clock" data-phase={clock.phase}>
        <div className="run-clock-numbers">
          <span className="run-clock-primary">{text.primary}</span>
          {text.secondary ? <span className="muted">{text.secondary}</span> : null}
          {typeof run.score === 'number' ? (
            <span className="run-clock-score" data-testid="run-detail-score">
              score <strong>{formatScore(run.score)}</strong>
            </span>
          ) : null}
        </div>
        {clock.fraction !== null ? (
          <progress
            className={`progress-bar budget-bar budget-bar-wide${clock.overdue ? ' budget-bar-over' : ''}`}
            value={clock.fraction}
            max={1}
            aria-label="Budget used"
          />
        ) : null}
        {reason ? <p className="run-clock-note">Stopped: {reason}</p> : null}
        {run.scheduler ? (
          <p className="run-clock-note" data-testid="run-detail-scheduler" data-state={run.scheduler.state}>
            {schedulerStatusText(run.scheduler)}
          </p>
        ) : null}
        {run.syncError ? (
          <p className="run-clock-note run-clock-note-warn" data-testid="run-detail-sync-error">
            Could not catch up with the host ({run.syncError}); showing the record
            {typeof run.syncedAt === 'number'
              ? ` as of ${formatRelativeTime(new Date(run.syncedAt).toISOString(), now)}`
              : ' as last read'}
            .
          </p>
        ) : null}
        {run.imported ? (
          <p className="run-clock-note" data-testid="run-detail-imported">
            Imported from {run.imported.kind === 'ptb' ? 'PostTrainBench results' : 'a run bundle'} (
            <span className="cell-mono">{run.imported.source}</span>): the record is all there is here; the run’s
            workspace, checkpoints and datasets stayed on {run.host || 'its host'}.
          </p>
        ) : null}
        {run.supervisorAlive === false && !run.imported && isLiveStatus(run.status) && clock.phase !== 'stopped' ? (
          <p className="run-clock-note run-clock-note-warn" data-testid="run-detail-supervisor-stale">
            The host’s supervisor has not been heard from for 20 s: the host may be unreachable. The budget is still
            enforced on the host.
          </p>
        ) : null}
      </div>

      {problem ? <HostErrorPanel error={problem.error} action={problem.action} testId="run-action-error" /> : null}

      <RunControlsView run={run} />

      <RunMonitorPanel run={run} now={now} />

      {detail?.error ? (
        <div className="inline-error" role="alert" data-testid="run-detail-error">
          <span>
            <strong>Could not read the run’s record.</strong> {detail.error.message}
          </span>
          <button type="button" className="button" onClick={() => void reloadDetail(run.id)}>
            Retry
          </button>
        </div>
      ) : null}
      <RunTabs tabs={runTabs} run={run} detail={detail?.data ?? null} now={now} />
    </article>
  );
}

/** The run's tabs, left to right: each feature adds its entry here and keeps its view in its own file. */
const runTabs: readonly RunTab[] = [
  {
    id: 'overview',
    label: 'Overview',
    render: ({ detail }) =>
      detail ? <RunRecord detail={detail} /> : <p className="muted">The run’s record has not been read yet.</p>,
  },
  { id: 'gpu', label: 'GPU', render: (props) => <GpuTabView {...props} /> },
  ...liveRunTabs,
  {
    id: 'steps',
    label: 'Steps',
    render: (props) => (
      <StepsTabView
        {...props}
        terminalPlayer={(run) => <ReplayPlayer runId={run.id} runStartedAt={run.startedAt ?? null} />}
      />
    ),
  },
  { id: 'replay', label: 'Replay', render: (props) => <ReplayTab {...props} /> },
  // Checkpoints and datasets are read where they are, on the run's host: an imported run has none.
  {
    id: 'checkpoints',
    label: 'Checkpoints',
    available: (run) => !run.imported,
    render: (props) => <CheckpointsTabView {...props} />,
  },
  {
    id: 'datasets',
    label: 'Datasets',
    available: (run) => !run.imported,
    render: (props) => <DatasetsTabView {...props} />,
  },
  { id: 'integrity', label: 'Integrity', render: (props) => <IntegrityTabView {...props} /> },
  { id: 'export', label: 'Export', render: (props) => <BundleExportTab {...props} /> },
];

function RunRecord({ detail }: { detail: RunDetail }) {
  const spec = specSummary(detail.spec, {
    imported: detail.summary.imported?.kind ?? null,
    agentVersion: detail.summary.agentVersion,
  });
  const timeline = runTimeline({ createdAt: detail.summary.createdAt, events: detail.events, formatTime });
  const origin = timelineOrigin(timeline);
  const metrics = metricRows(detail.metrics);
  const state = runStateSchema.safeParse(detail.state);
  const failure = detail.summary.error ?? (state.success ? state.data.error : null);
  const finalModel = detail.finalModel ?? null;
  return (
    <>
      {failure ? (
        <div className="inline-error" role="alert" data-testid="run-detail-failure">
          <span>
            <strong>The agent could not be started.</strong> {failure}
          </span>
        </div>
      ) : null}

      <section className="run-section" aria-labelledby="run-spec-heading">
        <h3 id="run-spec-heading" className="subsection-title">
          Spec
        </h3>
        {spec.ok ? (
          <dl className="host-facts run-facts" data-testid="run-detail-spec">
            {spec.rows.map((row) => (
              <FactRow key={row.label} label={row.label} value={row.value} mono={row.mono} />
            ))}
          </dl>
        ) : (
          <p className="muted" data-testid="run-detail-spec-unreadable">
            This version cannot read the stored spec ({spec.reason}).
          </p>
        )}
      </section>

      {detail.ptb ? <PtbRecordPanel record={detail.ptb} testId="run-detail-ptb" /> : null}

      <section className="run-section" aria-labelledby="run-timeline-heading">
        <h3 id="run-timeline-heading" className="subsection-title">
          Timeline
        </h3>
        {timeline.length > 0 ? (
          <ol className="timeline" data-testid="run-timeline">
            {timeline.map((entry) => (
              <li
                key={entry.key}
                className={`timeline-entry timeline-${entry.tone}`}
                data-testid={`timeline-${entry.kind}`}
              >
                <span className="timeline-dot" aria-hidden="true" />
                <time
                  className="timeline-time"
                  dateTime={new Date(entry.t).toISOString()}
                  title={dateTimeFormat.format(entry.t)}
                >
                  {formatTime(entry.t)}
                </time>
                <span className="timeline-offset">{origin === null ? '' : offsetText(entry.t, origin)}</span>
                <span className="timeline-body">
                  <span className="timeline-title">{entry.title}</span>
                  {entry.detail ? <span className="timeline-detail">{entry.detail}</span> : null}
                </span>
              </li>
            ))}
          </ol>
        ) : (
          <p className="muted">Nothing recorded yet.</p>
        )}
      </section>

      {metrics.length > 0 ? (
        <section className="run-section" aria-labelledby="run-metrics-heading">
          <h3 id="run-metrics-heading" className="subsection-title">
            Metrics
          </h3>
          <dl className="host-facts run-facts" data-testid="run-detail-metrics">
            {metrics.map((row) => (
              <FactRow key={row.label} label={row.label} value={row.value} mono />
            ))}
          </dl>
        </section>
      ) : null}

      {finalModel ? (
        <section className="run-section" aria-labelledby="run-final-model-heading">
          <h3 id="run-final-model-heading" className="subsection-title">
            Final model
          </h3>
          <p className="run-final-model" data-testid="run-detail-final-model">
            {finalModel.exists
              ? `${finalModel.files.length} ${finalModel.files.length === 1 ? 'file' : 'files'}, ${formatByteSize(finalModel.totalBytes)}${
                  finalModel.symlinks.length > 0 ? `, ${finalModel.symlinks.length} links (not followed)` : ''
                }`
              : `Nothing to evaluate${finalModel.reason ? `: ${finalModel.reason}` : ''}.`}{' '}
            <span className="cell-mono muted">{finalModel.root}</span>
          </p>
        </section>
      ) : null}

      <section className="run-section" aria-labelledby="run-where-heading">
        <h3 id="run-where-heading" className="subsection-title">
          Where it lives
        </h3>
        <dl className="host-facts run-facts" data-testid="run-detail-where">
          <FactRow
            label={detail.summary.host ? `Host folder (${detail.summary.host})` : 'Host folder'}
            value={detail.hostRunDir}
            mono
            selectable
          />
          <FactRow label="Local mirror" value={detail.localDir} mono selectable />
        </dl>
      </section>

      {detail.problems.length > 0 ? (
        <ProblemList
          testId="run-detail-problems"
          title={
            detail.problems.length === 1
              ? '1 line of the record could not be read'
              : `${detail.problems.length} lines of the record could not be read`
          }
          problems={detail.problems.map((p) => ({ where: `${p.source}:${p.line}`, message: p.message }))}
        />
      ) : null}
    </>
  );
}

function FactRow({
  label,
  value,
  mono = false,
  selectable = false,
}: {
  label: string;
  value: string;
  mono?: boolean;
  selectable?: boolean;
}) {
  const className = [mono ? 'cell-mono' : '', selectable ? 'selectable' : ''].filter(Boolean).join(' ');
  return (
    <>
      <dt>{label}</dt>
      <dd className={className || undefined}>{value}</dd>
    </>
  );
}
