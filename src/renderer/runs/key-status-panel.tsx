import { useCallback, useEffect, useId, useState } from 'react';
import type { AppErrorData, Result } from '../../shared/errors';
import type { AgentDefinition } from '../../shared/runs/agent-catalog';
import { KeyIcon } from '../shell/icons';
import { RichText } from '../shell/rich-text';
import type { SecretsStatus } from '../store/slices/runs-slice';
import { useAppStore } from '../store/store-context';
import type { TaskOption } from './launch-form';
import {
  agentHasKey,
  credentialStatuses,
  secretEnvName,
  type CredentialStatus,
  type SecretStatus,
} from './launch-keys';

/**
 * Which of the agent's keys (and the task's grader keys) the secret store has, and where from; never their values.
 * With a keychain (the desktop app) a missing key can be stored here; otherwise the panel says which variable to set.
 */
export function KeyStatusPanel({
  agent,
  names,
  task,
  shell,
}: {
  agent: AgentDefinition;
  /** Every name to check: the agent's credentials and the task's grader keys. */
  names: readonly string[];
  task: TaskOption | null;
  shell: 'electron' | 'serve';
}) {
  const secretsStatus = useAppStore((s) => s.runs.secretsStatus);
  const key = names.join(',');
  const [loaded, setLoaded] = useState<{ key: string; result: Result<SecretsStatus> } | null>(null);

  const refresh = useCallback(async () => {
    const result = await secretsStatus(key === '' ? [] : key.split(','));
    setLoaded({ key, result });
  }, [secretsStatus, key]);

  useEffect(() => {
    if (key === '') return;
    let current = true;
    void secretsStatus(key.split(',')).then((result) => {
      if (current) setLoaded({ key, result });
    });
    return () => {
      current = false;
    };
  }, [secretsStatus, key]);

  if (names.length === 0) {
    return (
      <p className="key-panel key-panel-none muted" data-testid="launch-keys">
        {agent.id === 'rehearsal'
          ? 'The rehearsal agent is a script: it needs no API key.'
          : 'This agent needs no key from the workbench.'}
      </p>
    );
  }

  const result = loaded?.key === key ? loaded.result : null;
  const secrets: readonly SecretStatus[] | null = result?.ok ? result.data.secrets : null;
  const writable = result?.ok ? result.data.writable : false;
  const statuses = credentialStatuses(agent, secrets);
  const hasKey = agentHasKey(agent, statuses);
  const graderKeys = task?.requiredApiKeys ?? [];
  const sources = new Map((secrets ?? []).map((s) => [s.name, s.source]));

  return (
    <div className="key-panel" data-testid="launch-keys" data-ready={result ? String(hasKey) : 'unknown'}>
      <p className="key-panel-title">
        <KeyIcon />
        <span>
          {agent.credentials.length === 1
            ? `${agent.label} reads its key from ${agent.credentials[0]?.env}.`
            : `${agent.label} takes any one of these.`}{' '}
          <span className="muted">Keys go into the agent’s container only, never into the run folder.</span>
        </span>
      </p>
      {result && !result.ok ? (
        <p className="field-error" data-testid="launch-keys-error">
          Could not check the keys: {result.error.message}
        </p>
      ) : null}
      <ul className="key-list">
        {statuses.map((status) => (
          <CredentialRow
            key={status.credential.env}
            status={status}
            checked={result?.ok ?? false}
            // Once one credential is there, the others are alternatives, not gaps to fill.
            offerInput={!hasKey}
            writable={writable}
            shell={shell}
            onStored={refresh}
          />
        ))}
        {graderKeys.map((name) => (
          <GraderKeyRow
            key={name}
            name={name}
            source={sources.get(name) ?? null}
            checked={result?.ok ?? false}
            writable={writable}
            shell={shell}
            onStored={refresh}
          />
        ))}
      </ul>
      {agent.credentialFiles.length > 0 ? (
        <p className="muted key-panel-files">
          Or {agent.credentialFiles.map((f) => f.label).join(', or ')}: not managed here yet.
        </p>
      ) : null}
    </div>
  );
}

function sourceText(found: NonNullable<CredentialStatus['found']>, env: string): string {
  if (found.source === 'environment') return `set, from ${secretEnvName(found.name)}`;
  return found.name === env ? 'set, in the keychain' : `set, in the keychain as ${found.name}`;
}

function CredentialRow({
  status,
  checked,
  offerInput,
  writable,
  shell,
  onStored,
}: {
  status: CredentialStatus;
  checked: boolean;
  offerInput: boolean;
  writable: boolean;
  shell: 'electron' | 'serve';
  onStored: () => Promise<void>;
}) {
  const { credential, found, storeName } = status;
  return (
    <li className="key-row" data-testid={`launch-key-${credential.env}`} data-found={found ? found.source : 'none'}>
      <span
        className={`check-dot ${found ? 'check-dot-pass' : checked && offerInput ? 'check-dot-warn' : ''}`}
        aria-hidden="true"
      />
      <div className="key-row-body">
        <span className="key-row-head">
          <span className="key-row-label">{credential.label}</span>
          {found ? <code>{credential.env}</code> : null}
          <span className={found ? 'key-found' : 'muted'}>
            {found ? sourceText(found, credential.env) : checked ? 'not set' : 'checking…'}
          </span>
        </span>
        {!found && checked && offerInput ? (
          writable ? (
            <StoreKeyForm name={storeName} label={credential.label} onStored={onStored} />
          ) : (
            <SetEnvInstruction name={storeName} shell={shell} />
          )
        ) : null}
      </div>
    </li>
  );
}

function GraderKeyRow({
  name,
  source,
  checked,
  writable,
  shell,
  onStored,
}: {
  name: string;
  source: 'environment' | 'keychain' | null;
  checked: boolean;
  writable: boolean;
  shell: 'electron' | 'serve';
  onStored: () => Promise<void>;
}) {
  return (
    <li className="key-row" data-testid={`launch-key-${name}`} data-found={source ?? 'none'}>
      <span className={`check-dot ${source ? 'check-dot-pass' : checked ? 'check-dot-warn' : ''}`} aria-hidden="true" />
      <div className="key-row-body">
        <span className="key-row-head">
          <span className="key-row-label">Grader key (evaluator only)</span>
          <code>{name}</code>
          <span className={source ? 'key-found' : 'muted'}>
            {source
              ? sourceText({ name, source }, name)
              : checked
                ? 'not set: the benchmark cannot be scored'
                : 'checking…'}
          </span>
        </span>
        {!source && checked ? (
          writable ? (
            <StoreKeyForm name={name} label={name} onStored={onStored} />
          ) : (
            <SetEnvInstruction name={name} shell={shell} />
          )
        ) : null}
      </div>
    </li>
  );
}

function SetEnvInstruction({ name, shell }: { name: string; shell: 'electron' | 'serve' }) {
  // Serve mode has no OS keychain to store into; the variable is read when `ptw` starts.
  const where = shell === 'serve' ? '`ptw serve`' : 'the app';
  return (
    <p className="key-instruction" data-testid={`launch-key-instruction-${name}`}>
      <RichText text={`Set \`${secretEnvName(name)}\` in the environment of ${where}, then restart it.`} />
    </p>
  );
}

function StoreKeyForm({ name, label, onStored }: { name: string; label: string; onStored: () => Promise<void> }) {
  const setSecret = useAppStore((s) => s.runs.setSecret);
  const id = useId();
  const [value, setValue] = useState('');
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<AppErrorData | null>(null);

  // Not a <form>: it sits inside the launch form, and forms do not nest.
  const save = async (event?: { preventDefault(): void }) => {
    event?.preventDefault();
    if (value === '') return;
    setSaving(true);
    setError(null);
    const result = await setSecret(name, value);
    setSaving(false);
    if (result.ok) {
      // The value leaves this component's state as soon as it is stored.
      setValue('');
      await onStored();
    } else {
      setError(result.error);
    }
  };

  return (
    <div className="key-store">
      <label className="visually-hidden" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        type="password"
        className="input input-mono"
        data-testid={`launch-key-input-${name}`}
        value={value}
        autoComplete="off"
        spellCheck={false}
        placeholder={`paste the ${label}`}
        onChange={(e) => setValue(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') void save(e);
        }}
      />
      <button
        type="button"
        className="button"
        data-testid={`launch-key-save-${name}`}
        disabled={saving || value === ''}
        onClick={() => void save()}
      >
        {saving ? 'Saving…' : 'Save in keychain'}
      </button>
      {error ? (
        <p className="field-error key-store-error" data-testid={`launch-key-error-${name}`}>
          {error.message}
        </p>
      ) : null}
    </div>
  );
}
