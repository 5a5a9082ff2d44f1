import { useState } from 'react';
import type { RunSummary } from '../../shared/contract';
import { runControls } from '../common/run-status-text';
import { useAppStore } from '../store/store-context';

/**
 * What can be done to the runs ticked in the table: stop the live ones (`runs.stop` each), export each as a bundle
 * (`bundle.export`, written where the app runs), compare two (the comparison view). Says what happened, run by run.
 */
export function RunSelectionBar({
  picked,
  onCompare,
  onClear,
}: {
  picked: readonly RunSummary[];
  onCompare: (a: string, b: string) => void;
  onClear: () => void;
}) {
  const stop = useAppStore((s) => s.runs.stop);
  const runCommand = useAppStore((s) => s.queries.run);
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<string[]>([]);
  const stoppable = picked.filter((run) => runControls(run.status).stop);

  const each = async (runs: readonly RunSummary[], act: (run: RunSummary) => Promise<string>): Promise<void> => {
    setBusy(true);
    setReport([]);
    const lines: string[] = [];
    // One at a time: a stop waits for the supervisor's answer, an export writes a file; neither gains from a crowd.
    for (const run of runs) lines.push(await act(run));
    setReport(lines);
    setBusy(false);
  };

  const stopAll = () =>
    each(stoppable, async (run) => {
      const result = await stop(run.id);
      return result.ok ? `${run.id}: stopping` : `${run.id}: ${result.error.message}`;
    });
  const exportAll = () =>
    each(picked, async (run) => {
      const result = await runCommand('bundle.export', { id: run.id });
      return result.ok ? `${run.id}: ${result.data.file}` : `${run.id}: ${result.error.message}`;
    });

  return (
    <div className="run-selection" data-testid="run-selection">
      <span className="run-selection-count" data-testid="run-selection-count">
        {picked.length} ticked
      </span>
      <button
        type="button"
        className="button button-small"
        data-testid="run-selection-compare"
        disabled={picked.length !== 2 || busy}
        title={picked.length === 2 ? undefined : 'Tick exactly two runs to compare them'}
        onClick={() => onCompare(picked[0]!.id, picked[1]!.id)}
      >
        Compare two
      </button>
      <button
        type="button"
        className="button button-small"
        data-testid="run-selection-stop"
        disabled={stoppable.length === 0 || busy}
        onClick={() => void stopAll()}
      >
        Stop {stoppable.length > 0 ? stoppable.length : ''}
      </button>
      <button
        type="button"
        className="button button-small"
        data-testid="run-selection-export"
        disabled={busy}
        onClick={() => void exportAll()}
      >
        Export bundles
      </button>
      <button type="button" className="button button-small" data-testid="run-selection-clear" onClick={onClear}>
        Clear
      </button>
      {report.length > 0 ? (
        <ul className="run-selection-report" data-testid="run-selection-report">
          {report.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
