import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode, type RefObject } from 'react';
import type { HostKeyPrompt, PassphrasePrompt } from '../../shared/hosts';
import { FormField } from '../shell/form-field';
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
  icon,
  title,
  body,
  onSubmit,
  initialFocus,
  onEscape,
  children,
}: {
  testId: string;
  className: string;
  icon: ReactNode;
  title: string;
  /** What the dialog says (its accessible description). */
  body: ReactNode;
  /** Makes the dialog's content a form. */
  onSubmit?: (event: FormEvent) => void;
  initialFocus: RefObject<HTMLElement | null>;
  onEscape: () => void;
  /** Below the body: fields, then the actions. */
  children: ReactNode;
}) {
  const titleId = useId();
  const bodyId = useId();
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
  const content = (
    <>
      <div className="modal-head">
        <span className="modal-icon">{icon}</span>
        <h2 id={titleId} className="modal-title">
          {title}
        </h2>
      </div>
      <div id={bodyId} className="modal-body">
        {body}
      </div>
      {children}
    </>
  );
  return (
    <dialog
      ref={ref}
      className={`modal ${className}`}
      data-testid={testId}
      aria-labelledby={titleId}
      aria-describedby={bodyId}
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
      {onSubmit ? (
        <form noValidate onSubmit={onSubmit}>
          {content}
        </form>
      ) : (
        content
      )}
    </dialog>
  );
}

function HostKeyDialog({ prompt }: { prompt: HostKeyPrompt }) {
  const answer = useAppStore((s) => s.prompts.answerHostKey);
  const answering = useAppStore((s) => s.prompts.answering === prompt.promptId);
  // Enter on the first focused button refuses: accepting a key is always a deliberate choice.
  const refuseRef = useRef<HTMLButtonElement>(null);
  const viaJump = prompt.address !== prompt.host;
  return (
    <ModalDialog
      testId="host-key-dialog"
      className="modal-host-key"
      icon={<KeyIcon />}
      title="Unknown host key"
      body={
        <>
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
        </>
      }
      initialFocus={refuseRef}
      onEscape={() => void answer(prompt.promptId, 'refuse')}
    >
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
        {acceptButtons.map(({ trust, testId, text, className }) => (
          <button
            key={trust}
            type="button"
            className={className}
            data-testid={testId}
            disabled={answering}
            onClick={() => void answer(prompt.promptId, trust)}
          >
            {text}
          </button>
        ))}
      </div>
    </ModalDialog>
  );
}

const acceptButtons = [
  { trust: 'once', testId: 'host-key-accept-once', text: 'Accept once', className: 'button' },
  {
    trust: 'always',
    testId: 'host-key-accept-always',
    text: 'Accept and remember',
    className: 'button button-primary',
  },
] as const;

function PassphraseDialog({ prompt }: { prompt: PassphrasePrompt }) {
  const answer = useAppStore((s) => s.prompts.answerPassphrase);
  const answering = useAppStore((s) => s.prompts.answering === prompt.promptId);
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
      icon={<LockIcon />}
      title="Key passphrase"
      body={
        <>
          <p>
            Connecting to <strong>{prompt.host}</strong> with the encrypted key{' '}
            <code className="cell-mono">{prompt.keyPath}</code>.
          </p>
          {prompt.retry ? (
            <p className="field-error" data-testid="passphrase-retry" role="alert">
              Wrong passphrase. Try again, or skip this key.
            </p>
          ) : null}
        </>
      }
      onSubmit={submit}
      initialFocus={inputRef}
      onEscape={() => void answer(prompt.promptId, undefined)}
    >
      <FormField
        testId="passphrase-input"
        label="Passphrase"
        hint="Used in memory for this connection only; never saved."
      >
        {(props) => (
          <input
            {...props}
            ref={inputRef}
            type="password"
            className="input"
            autoComplete="off"
            value={passphrase}
            aria-invalid={prompt.retry}
            onChange={(e) => setPassphrase(e.target.value)}
          />
        )}
      </FormField>
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
    </ModalDialog>
  );
}
