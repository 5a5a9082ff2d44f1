import { useId, useState, type FormEvent } from 'react';
import { BUNDLE_EXTENSION, type BundleExportResult, type BundleImportResult } from '../../shared/contract-bundle';
import type { AppErrorData } from '../../shared/errors';
import { formatByteSize } from '../../shared/runs/duration';
import type { RunTabProps } from '../common/run-tabs';
import { useAppStore } from '../store/store-context';
import { PathImport } from '../shell/path-import';

/**
 * Run bundles in the UI: export a run as one file (a download over `ptw serve`, or a file written on the machine
 * running the app: the browser has no save dialog for it), import one (a path on that machine), and open the example
 * run the app ships. The formats and checks are main's (runs/run-bundle.ts); this only asks and says what happened.
 */

/** The run view's Export tab. */
export function BundleExportTab({ run }: RunTabProps) {
  const runCommand = useAppStore((s) => s.queries.run);
  const serve = useAppStore((s) => s.app.shell.kind === 'serve');
  const [target, setTarget] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<BundleExportResult | null>(null);
  const [error, setError] = useState<AppErrorData | null>(null);
  const fieldId = useId();

  // A download link works once (a ticket, never the token): asked for on each click, then followed.
  const download = async (): Promise<void> => {
    setError(null);
    const reply = await runCommand('bundle.downloadTicket', { id: run.id });
    if (!reply.ok) return setError(reply.error);
    const link = document.createElement('a');
    link.href = reply.data.path;
    link.download = `${run.id}${BUNDLE_EXTENSION}`;
    link.rel = 'noopener';
    document.body.append(link);
    link.click();
    link.remove();
  };

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    setResult(null);
    const file = target.trim();
    const reply = await runCommand('bundle.export', file ? { id: run.id, file } : { id: run.id });
    setBusy(false);
    if (reply.ok) setResult(reply.data);
    else setError(reply.error);
  };

  return (
    <section className="bundle-export" data-testid="bundle-export" aria-labelledby="bundle-export-heading">
      <h3 id="bundle-export-heading" className="subsection-title">
        Export this run as one file
      </h3>
      <p className="muted">
        A <code>{BUNDLE_EXTENSION}</code> bundle holds the run’s record (terminal recording, agent stream, events, GPU
        samples, evaluation, the final model’s file list) with a manifest of SHA-256 hashes. Agent and grader keys are
        redacted again on the way out. Anyone with the app can open it with <strong>Import bundle…</strong> or{' '}
        <code>ptw bundle import</code>; the terminal recording also plays in <code>asciinema play</code>.
      </p>
      {serve ? (
        <p>
          <button
            type="button"
            className="button button-primary"
            data-testid="bundle-download"
            onClick={() => void download()}
          >
            Download bundle
          </button>
        </p>
      ) : null}
      <form className="bundle-form" onSubmit={(e) => void submit(e)}>
        <label htmlFor={fieldId} className="path-field-label">
          {serve ? 'Or write it to a file on the machine running the app' : 'Write it to a file'} (empty: your Downloads
          folder)
        </label>
        <div className="path-field-row">
          <input
            id={fieldId}
            className="input cell-mono"
            data-testid="bundle-export-path"
            value={target}
            placeholder={`~/Downloads/${run.id}${BUNDLE_EXTENSION}`}
            spellCheck={false}
            onChange={(e) => setTarget(e.target.value)}
          />
          <button
            type="submit"
            className={`button${serve ? '' : ' button-primary'}`}
            disabled={busy}
            data-testid="bundle-export-submit"
          >
            {busy ? 'Exporting…' : 'Export…'}
          </button>
        </div>
      </form>
      {error ? (
        <p className="inline-error" role="alert" data-testid="bundle-export-error">
          {error.message}
        </p>
      ) : null}
      {result ? (
        <dl className="host-facts run-facts" data-testid="bundle-export-result" role="status">
          <dt>Written</dt>
          <dd className="cell-mono selectable">{result.file}</dd>
          <dt>Size</dt>
          <dd>
            {formatByteSize(result.bytes)}, {result.files} files
          </dd>
          <dt>SHA-256</dt>
          <dd className="cell-mono selectable">{result.sha256}</dd>
          <dt>Redacted</dt>
          <dd>
            {result.redactedSecretNames.length
              ? result.redactedSecretNames.join(', ')
              : 'nothing to redact (no key of this run’s agent or grader is set here)'}
          </dd>
        </dl>
      ) : null}
    </section>
  );
}

/** After an import: the list reloaded and the run opened. */
function useOpenImported(): (result: BundleImportResult) => Promise<void> {
  const loadRuns = useAppStore((s) => s.runs.load);
  const selectRun = useAppStore((s) => s.runs.select);
  return async (result) => {
    await loadRuns();
    selectRun(result.id);
  };
}

/** "Import bundle…" in the Runs screen's header. */
export function BundleImportAction() {
  const runCommand = useAppStore((s) => s.queries.run);
  const openImported = useOpenImported();
  return (
    <PathImport
      testId="bundle-import"
      openLabel="Import bundle…"
      fieldLabel={
        <>
          A run bundle (<code>{BUNDLE_EXTENSION}</code>): a path on the machine running the app
        </>
      }
      placeholder={`~/Downloads/r-20261123-120000-ab12${BUNDLE_EXTENSION}`}
      onImport={async (file) => {
        const reply = await runCommand('bundle.import', { file });
        if (!reply.ok) return reply.error;
        await openImported(reply.data);
        return null;
      }}
    />
  );
}

/** "Open the example run" in the Runs screen's empty state: every inspection view, before adding a host. */
export function ExampleRunButton() {
  const runCommand = useAppStore((s) => s.queries.run);
  const openImported = useOpenImported();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppErrorData | null>(null);
  const openExample = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    const reply = await runCommand('bundle.importExample', {});
    setBusy(false);
    if (!reply.ok) return setError(reply.error);
    await openImported(reply.data);
  };
  return (
    <>
      <button
        type="button"
        className="button button-with-icon"
        data-testid="open-example-run"
        title="A rehearsal the app recorded: explore every view of a run before adding a host"
        disabled={busy}
        onClick={() => void openExample()}
      >
        {busy ? 'Opening…' : 'Open the example run'}
      </button>
      {error ? (
        <p className="inline-error" role="alert" data-testid="open-example-error">
          {error.message}
        </p>
      ) : null}
    </>
  );
}
