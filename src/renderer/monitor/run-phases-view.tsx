import type { RunSummary } from '../../shared/contract';
import { useAppStore } from '../store/store-context';
import { runPhases } from './run-phases';

const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const noEvents: readonly Record<string, unknown>[] = [];

/** The run's lifecycle as a row of steps with times; the full story is the Overview tab's timeline. */
export function RunPhasesView({ run }: { run: RunSummary }) {
  const events = useAppStore((s) => (s.runs.detail?.id === run.id ? s.runs.detail.data?.events : undefined));
  const phases = runPhases(run, events ?? noEvents);
  return (
    <ol className="run-phases" aria-label="Run lifecycle" data-testid="run-phases">
      {phases.map((p) => (
        <li
          key={p.id}
          className={`run-phase run-phase-${p.state}`}
          data-testid={`run-phase-${p.id}`}
          data-state={p.state}
        >
          <span className="run-phase-title">{p.title}</span>
          <span className="run-phase-time">{p.t === null ? '' : timeFormat.format(p.t)}</span>
          {p.detail ? (
            <span className="run-phase-detail" title={p.detail}>
              {p.detail}
            </span>
          ) : null}
        </li>
      ))}
    </ol>
  );
}
