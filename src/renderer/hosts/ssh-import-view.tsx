import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import type { SshConfigPreview } from '../../shared/contract';
import type { AppErrorData, Result } from '../../shared/errors';
import { RichText } from '../shell/rich-text';
import { useAppStore } from '../store/store-context';
import { HostErrorPanel } from '../common/host-error-panel';
import { formatJumpSpec, formatSshTarget } from './host-target';
import {
  importButtonLabel,
  importSelectAll,
  importSelectionToggled,
  initialImportSelection,
  problemLocation,
  selectedAliases,
  type ImportSelection,
} from './ssh-import-selection';
import { ProblemList } from '../shell/problem-list';

/** Reads an ssh_config, lists its concrete Host entries with checkboxes, and imports the ticked ones. */
export function SshImportView({ onCancel }: { onCancel: () => void }) {
  const previewSshConfig = useAppStore((s) => s.hosts.previewSshConfig);
  const importSshConfig = useAppStore((s) => s.hosts.importSshConfig);
  const fileId = useId();
  const [file, setFile] = useState('');
  const [preview, setPreview] = useState<SshConfigPreview | null>(null);
  const [selection, setSelection] = useState<ImportSelection>(new Set());
  // Starts true: the default file is read as soon as the panel opens.
  const [reading, setReading] = useState(true);
  const [importing, setImporting] = useState(false);
  const [failure, setFailure] = useState<{ action: string; error: AppErrorData } | null>(null);

  const showPreview = useCallback((result: Result<SshConfigPreview>) => {
    setReading(false);
    if (result.ok) {
      setPreview(result.data);
      setSelection(initialImportSelection(result.data));
    } else {
      setPreview(null);
      setFailure({ action: 'Reading the ssh config', error: result.error });
    }
  }, []);

  // Show the default file's hosts straight away; another file is one field away.
  useEffect(() => {
    let current = true;
    void previewSshConfig().then((result) => {
      if (current) showPreview(result);
    });
    return () => {
      current = false;
    };
  }, [previewSshConfig, showPreview]);

  const submitRead = async (event: FormEvent) => {
    event.preventDefault();
    setReading(true);
    setFailure(null);
    const path = file.trim();
    showPreview(await previewSshConfig(path === '' ? undefined : path));
  };

  const aliases = preview ? selectedAliases(preview, selection) : [];
  const runImport = async () => {
    if (!preview || aliases.length === 0) return;
    setImporting(true);
    setFailure(null);
    // The file the preview read, so the import takes exactly what was shown.
    const result = await importSshConfig(preview.file, aliases);
    setImporting(false);
    if (!result.ok) setFailure({ action: 'Importing hosts', error: result.error });
  };

  const existing = new Set(preview?.existing ?? []);

  return (
    <div className="form-card" data-testid="import-panel">
      <h2 className="form-title">Import from ~/.ssh/config</h2>
      <form className="import-file-row" noValidate onSubmit={(e) => void submitRead(e)}>
        <div className="field">
          <label className="field-label" htmlFor={fileId}>
            File
          </label>
          <input
            id={fileId}
            className="input input-mono"
            data-testid="import-file"
            value={file}
            placeholder={preview?.file ?? '~/.ssh/config'}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setFile(e.target.value)}
          />
        </div>
        <button type="submit" className="button" data-testid="import-preview" disabled={reading}>
          {reading ? 'Reading…' : 'Read file'}
        </button>
      </form>

      {failure ? <HostErrorPanel error={failure.error} action={failure.action} testId="import-error" /> : null}

      {preview ? (
        <>
          <p className="import-found muted" data-testid="import-found">
            {preview.candidates.length === 0
              ? `No Host entries to import in ${preview.file} (wildcard patterns like Host * are not hosts).`
              : `${preview.candidates.length} ${preview.candidates.length === 1 ? 'host' : 'hosts'} in ${preview.file}`}
          </p>

          {preview.problems.length > 0 ? (
            <ProblemList
              testId="import-problems"
              title={
                preview.problems.length === 1
                  ? '1 problem in the file'
                  : `${preview.problems.length} problems in the file`
              }
              problems={preview.problems.map((p) => ({
                where: problemLocation(p),
                message: <RichText text={p.message} />,
              }))}
            />
          ) : null}

          {preview.notImported.length > 0 ? (
            <ProblemList
              testId="import-not-imported"
              title="Not imported"
              problems={preview.notImported.map((p) => ({ where: problemLocation(p), message: p.message }))}
            />
          ) : null}

          {preview.candidates.length > 0 ? (
            <>
              <div className="import-select-row">
                <button
                  type="button"
                  className="button button-quiet"
                  data-testid="import-select-all"
                  onClick={() => setSelection(importSelectAll(preview))}
                >
                  Select all
                </button>
                <button
                  type="button"
                  className="button button-quiet"
                  data-testid="import-select-none"
                  onClick={() => setSelection(new Set())}
                >
                  Select none
                </button>
              </div>
              <ul className="import-candidates" data-testid="import-candidates">
                {preview.candidates.map((c) => (
                  <li key={c.alias}>
                    <label className="import-candidate">
                      <input
                        type="checkbox"
                        data-testid={`import-candidate-${c.alias}`}
                        checked={selection.has(c.alias)}
                        onChange={(e) => setSelection(importSelectionToggled(selection, c.alias, e.target.checked))}
                      />
                      <span className="import-candidate-text">
                        <span className="import-candidate-head">
                          <span className="cell-strong">{c.alias}</span>
                          {existing.has(c.alias) ? (
                            <span className="badge badge-warn" data-testid={`import-replaces-${c.alias}`}>
                              replaces existing
                            </span>
                          ) : null}
                        </span>
                        <span className="cell-mono">
                          {formatSshTarget({
                            host: c.hostname,
                            ...(c.user === undefined ? {} : { user: c.user }),
                            ...(c.port === undefined ? {} : { port: c.port }),
                          })}
                        </span>
                        <span className="cell-sub">
                          {c.proxyJump.length > 0 ? `via ${formatJumpSpec(c.proxyJump)} · ` : ''}
                          {c.identityFiles.length > 0 ? `key ${c.identityFiles.join(', ')} · ` : ''}
                          {c.source}
                        </span>
                      </span>
                    </label>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </>
      ) : null}

      <div className="form-actions">
        <button type="button" className="button" data-testid="import-cancel" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="button"
          className="button button-primary"
          data-testid="import-submit"
          disabled={!preview || aliases.length === 0 || importing}
          onClick={() => void runImport()}
        >
          {importing ? 'Importing…' : preview ? importButtonLabel(preview, selection) : 'Import'}
        </button>
      </div>
    </div>
  );
}
