import { useId, useState, type FormEvent } from 'react';
import type { PtbImportResult } from '../../shared/contract-trajectory';
import type { AppErrorData } from '../../shared/errors';
import { useAppStore, useAppStoreApi } from '../store/store-context';

/**
 * "Import PostTrainBench results…" in the Runs screen: a path typed in (`ptw serve` has no native file dialog; the
 * path is read on the machine running the app), imported as runs, then the first one opened. Says what was skipped
 * and why, as `ptw import ptb` does.
 */
export function PtbImportAction() {
  const client = useAppStoreApi().client;
  const loadRuns = useAppStore((s) => s.runs.load);
  const selectRun = useAppStore((s) => s.runs.select);
  const [open, setOpen] = useState(false);
  const [target, setTarget] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<PtbImportResult | null>(null);
  const [error, setError] = useState<AppErrorData | null>(null);
  const fieldId = useId();

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (target.trim() === '' || busy) return;
    setBusy(true);
    setError(null);
    setResult(null);
    const reply = await client.call('trajectory.importPtb', { path: target.trim() });
    setBusy(false);
    if (!reply.ok) return setError(reply.error);
    setResult(reply.data);
    await loadRuns();
    const first = reply.data.imported[0];
    if (first) selectRun(first.id);
  };

  return (
    <div className="ptb-import">
      <button
        type="button"
        className="button"
        aria-expanded={open}
        data-testid="ptb-import-open"
        onClick={() => setOpen((v) => !v)}
      >
        Import PostTrainBench results…
      </button>
      {open ? (
        <form className="ptb-import-panel" data-testid="ptb-import-panel" onSubmit={(e) => void submit(e)}>
          <label htmlFor={fieldId} className="ptb-import-label">
            A result folder, or a results tree holding them (a path on the machine running the app)
          </label>
          <div className="ptb-import-row">
            <input
              id={fieldId}
              className="input cell-mono"
              data-testid="ptb-import-path"
              value={target}
              placeholder="/data/PostTrainBench/results"
              spellCheck={false}
              onChange={(e) => setTarget(e.target.value)}
            />
            <button
              type="submit"
              className="button button-primary"
              disabled={busy || target.trim() === ''}
              data-testid="ptb-import-submit"
            >
              {busy ? 'Importing…' : 'Import'}
            </button>
          </div>
          {error ? (
            <p className="inline-error" role="alert" data-testid="ptb-import-error">
              {error.message}
            </p>
          ) : null}
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
        </form>
      ) : null}
    </div>
  );
}
