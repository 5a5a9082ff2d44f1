import { useId, useState, type FormEvent, type ReactNode } from 'react';
import type { AppErrorData } from '../../shared/errors';

/**
 * A button that opens a small form for a path on the machine running the app (`ptw serve` has no native file
 * dialog), as the Runs screen's import actions use. `onImport` returns the error to show, or null when done (the
 * form then closes unless `keepOpen`). Test ids are `<testId>-open`, `-panel`, `-path`, `-submit`, `-error`.
 */
export function PathImport(props: {
  testId: string;
  openLabel: string;
  fieldLabel: ReactNode;
  placeholder: string;
  onImport: (path: string) => Promise<AppErrorData | null>;
  /** Keep the form open after a success, e.g. to show `children` (what was imported). */
  keepOpen?: boolean;
  /** Shown under the field (a result). */
  children?: ReactNode;
}) {
  const [open, setOpen] = useState(false);
  const [target, setTarget] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppErrorData | null>(null);
  const fieldId = useId();
  const id = props.testId;

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (target.trim() === '' || busy) return;
    setBusy(true);
    setError(null);
    const failed = await props.onImport(target.trim());
    setBusy(false);
    setError(failed);
    if (!failed && !props.keepOpen) {
      setOpen(false);
      setTarget('');
    }
  };

  return (
    <div className="path-import">
      <button
        type="button"
        className="button"
        aria-expanded={open}
        data-testid={`${id}-open`}
        onClick={() => setOpen((v) => !v)}
      >
        {props.openLabel}
      </button>
      {open ? (
        <form className="path-import-panel" data-testid={`${id}-panel`} onSubmit={(e) => void submit(e)}>
          <label htmlFor={fieldId} className="path-field-label">
            {props.fieldLabel}
          </label>
          <div className="path-field-row">
            <input
              id={fieldId}
              className="input cell-mono"
              data-testid={`${id}-path`}
              value={target}
              placeholder={props.placeholder}
              spellCheck={false}
              onChange={(e) => setTarget(e.target.value)}
            />
            <button
              type="submit"
              className="button button-primary"
              disabled={busy || target.trim() === ''}
              data-testid={`${id}-submit`}
            >
              {busy ? 'Importing…' : 'Import'}
            </button>
          </div>
          {error ? (
            <p className="inline-error" role="alert" data-testid={`${id}-error`}>
              {error.message}
            </p>
          ) : null}
          {props.children}
        </form>
      ) : null}
    </div>
  );
}
