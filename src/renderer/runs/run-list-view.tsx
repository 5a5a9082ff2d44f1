import type { RunSummary } from '../../shared/contract';
import { GpuSparkline } from '../common/gpu-sparkline';
import { useAppStore } from '../store/store-context';
import { runClock, runClockText } from './run-clock';
import { sortRunsNewestFirst } from '../common/run-order';
import { formatScore, runNote, runStatusLabel, runStatusTone } from '../common/run-status-text';

/** The runs as a list of buttons, newest first; the selected one is marked `aria-current`. */
export function RunList({
  runs,
  selected,
  now,
  onSelect,
  checked,
  onCheck,
}: {
  runs: readonly RunSummary[];
  selected: string | null;
  now: number;
  onSelect: (id: string) => void;
  /** Comparing: the runs picked (two at most), and how a checkbox toggles one. */
  checked?: readonly string[];
  onCheck?: (id: string) => void;
}) {
  return (
    <ul className="stack-list run-list" aria-label="Runs" data-testid="run-list">
      {sortRunsNewestFirst(runs).map((run) => (
        <li key={run.id}>
          {onCheck ? (
            <input
              type="checkbox"
              className="run-compare-check"
              data-testid={`run-compare-check-${run.id}`}
              aria-label={`Compare ${run.label || run.id}`}
              checked={checked?.includes(run.id) ?? false}
              onChange={() => onCheck(run.id)}
            />
          ) : null}
          <RunRow run={run} current={run.id === selected} now={now} onSelect={onSelect} />
        </li>
      ))}
    </ul>
  );
}

function RunRow({
  run,
  current,
  now,
  onSelect,
}: {
  run: RunSummary;
  current: boolean;
  now: number;
  onSelect: (id: string) => void;
}) {
  const monitor = useAppStore((s) => s.monitor.runs.get(run.id));
  const clock = runClock(run, now, monitor?.hostClockOffsetMs ?? null);
  const text = runClockText(clock);
  const note = runNote(run);
  // A rehearsal's task and agent are both `rehearsal`: say it once.
  const context = [...new Set([run.host, run.task, run.agent])].filter((part) => part !== '');
  return (
    <button
      type="button"
      className="run-row"
      data-testid={`run-row-${run.id}`}
      aria-current={current ? 'true' : undefined}
      onClick={() => onSelect(run.id)}
    >
      <span className="run-row-head">
        <span className="run-row-label">{run.label || run.id}</span>
        {typeof run.score === 'number' ? (
          <span className="run-score" data-testid={`run-score-${run.id}`} title="metrics.json accuracy × 100">
            {formatScore(run.score)}
          </span>
        ) : null}
        <RunStatusBadge status={run.status} testId={`run-status-${run.id}`} />
      </span>
      {context.length > 0 ? <span className="run-row-context">{context.join(' · ')}</span> : null}
      <span className="run-row-clock" data-testid={`run-clock-${run.id}`} data-phase={clock.phase}>
        {clock.fraction !== null ? (
          <progress
            className={`progress-bar budget-bar${clock.overdue ? ' budget-bar-over' : ''}`}
            value={clock.fraction}
            max={1}
            aria-label="Budget used"
          />
        ) : null}
        <span className="run-row-time">
          <span className="run-row-primary">{text.primary}</span>
          {text.secondary ? <span className="muted"> · {text.secondary}</span> : null}
        </span>
        {monitor && monitor.spark.length > 0 ? (
          <GpuSparkline values={monitor.spark} testId={`run-spark-${run.id}`} />
        ) : null}
      </span>
      {monitor?.idle.idle ? (
        <span className="run-row-note run-row-note-warn" data-testid={`run-idle-${run.id}`}>
          GPU idle for {Math.floor(monitor.idle.quietMs / 60_000)} min
        </span>
      ) : null}
      {note ? (
        <span className={`run-row-note run-row-note-${note.tone}`} data-testid={`run-note-${run.id}`}>
          {note.text}
        </span>
      ) : null}
    </button>
  );
}

export function RunStatusBadge({ status, testId }: { status: string; testId?: string }) {
  const tone = runStatusTone(status);
  return (
    <span className={`run-status run-status-${tone}`} data-testid={testId} data-status={status}>
      {tone === 'live' ? <span className="run-status-pulse" aria-hidden="true" /> : null}
      {runStatusLabel(status)}
    </span>
  );
}
