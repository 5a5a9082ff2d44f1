import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode, type RefObject } from 'react';
import type { HostKeyPrompt, PassphrasePrompt } from '../../shared/hosts';
import { KeyIcon, LockIcon } from '../shell/icons';
import { useAppStore } from '../store/store-context';
import { currentPrompt, keyFileSuffix } from '../common/host-prompts';

/**
 * The questions main asks while connecting, mounted at the app root so they appear over any section.
 * One at a time; a new prompt id remounts the dialog so focus starts fresh.
 */
export function HostPromptDialogs() {
  const prompt = useAppStore((s) => currentPrompt(s.prompts));
  if (!prompt) return null;
  return prompt.kind === 'hostKey' ? (
    <HostKeyDialog key={prompt.promptId} prompt={prompt} />
  ) : (
    <PassphraseDialog key={prompt.promptId} prompt={prompt} />
  );
}

/**
 * A native modal `<dialog>`: the browser makes the rest of the page inert and keeps Tab inside it,
 * and Escape fires `cancel`, which we turn into the safe answer instead of just hiding the question.
 */
function ModalDialog({
  testId,
  className,
  labelledBy,
  describedBy,
  initialFocus,
  onEscape,
  children,
}: {
  testId: string;
  className: string;
  labelledBy: string;
  describedBy: string;
  initialFocus: RefObject<HTMLElement | null>;
  onEscape: () => void;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const unmounting = useRef(false);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    unmounting.current = false;
    if (!dialog.open) dialog.showModal();
    initialFocus.current?.focus();
    return () => {
      unmounting.current = true;
      if (dialog.open) dialog.close();
    };
  }, [initialFocus]);
  return (
    <dialog
      ref={ref}
      className={`modal ${className}`}
      data-testid={testId}
      aria-labelledby={labelledBy}
      aria-describedby={describedBy}
      onCancel={(event) => {
        event.preventDefault();
        onEscape();
      }}
      // The browser may close a modal itself (a second Escape ignores preventDefault): that too is the safe answer,
      // or the question would stay queued behind a dialog no one can see.
      onClose={() => {
        // Not when we closed it ourselves (unmounting, or StrictMode's remount, which has reopened it by now).
        if (!unmounting.current && !ref.current?.open) onEscape();
      }}
    >
      {children}
    </dialog>
  );
}

function HostKeyDialog({ prompt }: { prompt: HostKeyPrompt }) {
  const answer = useAppStore((s) => s.prompts.answerHostKey);
  const answering = useAppStore((s) => s.prompts.answering === prompt.promptId);
  const titleId = useId();
  const bodyId = useId();
  // Enter on the first focused button refuses: accepting a key is always a deliberate choice.
  const refuseRef = useRef<HTMLButtonElement>(null);
  const viaJump = prompt.address !== prompt.host;
  return (
    <ModalDialog
      testId="host-key-dialog"
      className="modal-host-key"
      labelledBy={titleId}
      describedBy={bodyId}
      initialFocus={refuseRef}
      onEscape={() => void answer(prompt.promptId, 'refuse')}
    >
      <div className="modal-head">
        <span className="modal-icon">
          <KeyIcon />
        </span>
        <h2 id={titleId} className="modal-title">
          Unknown host key
        </h2>
      </div>
      <div id={bodyId} className="modal-body">
        <p>
          The authenticity of host <strong>{prompt.host}</strong>
          {viaJump ? (
            <>
              {' '}
              (<span className="cell-mono">{prompt.address}</span>)
            </>
          ) : null}{' '}
          can’t be established. This is the first connection to it from this workbench.
        </p>
        <dl className="key-facts">
          <dt>Key type</dt>
          <dd className="cell-mono" data-testid="host-key-type">
            {prompt.keyType}
          </dd>
          <dt>Fingerprint</dt>
          <dd>
            <code className="fingerprint" data-testid="host-key-fingerprint">
              {prompt.fingerprint}
            </code>
          </dd>
        </dl>
        <p className="muted">
          Accept only if this matches the fingerprint the host’s administrator gives you; on the host,{' '}
          <code>ssh-keygen -lf /etc/ssh/ssh_host_{keyFileSuffix(prompt.keyType)}_key.pub</code> prints it.
        </p>
      </div>
      <div className="modal-actions">
        <button
          ref={refuseRef}
          type="button"
          className="button"
          data-testid="host-key-refuse"
          disabled={answering}
          onClick={() => void answer(prompt.promptId, 'refuse')}
        >
          Refuse
        </button>
        <span className="modal-actions-spacer" />
        <button
          type="button"
          className="button"
          data-testid="host-key-accept-once"
          disabled={answering}
          onClick={() => void answer(prompt.promptId, 'once')}
        >
          Accept once
        </button>
        <button
          type="button"
          className="button button-primary"
          data-testid="host-key-accept-always"
          disabled={answering}
          onClick={() => void answer(prompt.promptId, 'always')}
        >
          Accept and remember
        </button>
      </div>
    </ModalDialog>
  );
}

function PassphraseDialog({ prompt }: { prompt: PassphrasePrompt }) {
  const answer = useAppStore((s) => s.prompts.answerPassphrase);
  const answering = useAppStore((s) => s.prompts.answering === prompt.promptId);
  const titleId = useId();
  const bodyId = useId();
  const inputId = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  // Held only in this component, only until it is sent.
  const [passphrase, setPassphrase] = useState('');

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = passphrase;
    setPassphrase('');
    void answer(prompt.promptId, value);
  };

  return (
    <ModalDialog
      testId="passphrase-dialog"
      className="modal-passphrase"
      labelledBy={titleId}
      describedBy={bodyId}
      initialFocus={inputRef}
      onEscape={() => void answer(prompt.promptId, undefined)}
    >
      <form noValidate onSubmit={submit}>
        <div className="modal-head">
          <span className="modal-icon">
            <LockIcon />
          </span>
          <h2 id={titleId} className="modal-title">
            Key passphrase
          </h2>
        </div>
        <div id={bodyId} className="modal-body">
          <p>
            Connecting to <strong>{prompt.host}</strong> with the encrypted key{' '}
            <code className="cell-mono">{prompt.keyPath}</code>.
          </p>
          {prompt.retry ? (
            <p className="field-error" data-testid="passphrase-retry" role="alert">
              Wrong passphrase. Try again, or skip this key.
            </p>
          ) : null}
        </div>
        <div className="field">
          <label className="field-label" htmlFor={inputId}>
            Passphrase
          </label>
          <input
            ref={inputRef}
            id={inputId}
            type="password"
            className="input"
            data-testid="passphrase-input"
            autoComplete="off"
            value={passphrase}
            aria-invalid={prompt.retry}
            onChange={(e) => setPassphrase(e.target.value)}
          />
          <p className="field-help">Used in memory for this connection only; never saved.</p>
        </div>
        <div className="modal-actions">
          <button
            type="button"
            className="button"
            data-testid="passphrase-skip"
            disabled={answering}
            onClick={() => void answer(prompt.promptId, undefined)}
          >
            Skip this key
          </button>
          <span className="modal-actions-spacer" />
          <button
            type="submit"
            className="button button-primary"
            data-testid="passphrase-submit"
            disabled={answering || passphrase === ''}
          >
            Unlock
          </button>
        </div>
      </form>
    </ModalDialog>
  );
}
