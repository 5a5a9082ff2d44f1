import { useState } from 'react';
import type { PtbImportResult } from '../../shared/contract-trajectory';
import { PathImport } from '../shell/path-import';
import { useAppStore } from '../store/store-context';

/**
 * "Import PostTrainBench results…" in the Runs screen: a path typed in (`ptw serve` has no native file dialog; the
 * path is read on the machine running the app), imported as runs, then the first one opened. Says what was skipped
 * and why, as `ptw import ptb` does.
 */
export function PtbImportAction() {
  const runCommand = useAppStore((s) => s.queries.run);
  const loadRuns = useAppStore((s) => s.runs.load);
  const selectRun = useAppStore((s) => s.runs.select);
  const [result, setResult] = useState<PtbImportResult | null>(null);

  return (
    <PathImport
      testId="ptb-import"
      openLabel="Import PostTrainBench results…"
      fieldLabel="A result folder, or a results tree holding them (a path on the machine running the app)"
      placeholder="/data/PostTrainBench/results"
      keepOpen
      onImport={async (path) => {
        setResult(null);
        const reply = await runCommand('trajectory.importPtb', { path });
        if (!reply.ok) return reply.error;
        setResult(reply.data);
        await loadRuns();
        const first = reply.data.imported[0];
        if (first) selectRun(first.id);
        return null;
      }}
    >
      {result ? (
        <div className="ptb-import-result" data-testid="ptb-import-result" role="status">
          <p>
            {result.imported.length === 0
              ? 'Nothing imported.'
              : `Imported ${result.imported.length} ${result.imported.length === 1 ? 'run' : 'runs'}.`}
          </p>
          <ul>
            {result.imported.map((r) => (
              <li key={r.id}>
                <span className="cell-mono">{r.folder}</span> → {r.task}, {r.agent}, {r.status}
                {r.score !== null ? ` (${r.score.toFixed(1)})` : ''}, {r.steps} steps
              </li>
            ))}
            {result.skipped.map((s) => (
              <li key={s.folder} className="muted">
                Skipped <span className="cell-mono">{s.folder}</span>: {s.reason}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </PathImport>
  );
}
