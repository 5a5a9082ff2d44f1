import { useState, type FormEvent } from 'react';
import type { AppErrorData } from '../../shared/errors';
import { useAppStore } from '../store/store-context';
import {
  defaultDockerSocket,
  defaultRunRoot,
  emptyAddHostForm,
  suggestHostName,
  validateAddHostForm,
  type AddHostField,
  type AddHostFieldErrors,
  type AddHostFormValues,
} from './add-host-form';
import { TextField, type TextFieldSpec } from '../shell/form-field';
import { HostErrorPanel } from '../common/host-error-panel';

/** The form's text fields as they read; the Docker socket and run folder hints name where they are. */
const addHostTextFields: Record<AddHostField, TextFieldSpec> = {
  name: {
    testId: 'add-host-name',
    label: 'Name',
    hint: 'A short name for lists and the CLI, e.g. gpu1.',
    spellCheck: false,
    placeholder: 'gpu1',
  },
  target: {
    testId: 'add-host-target',
    label: 'SSH address',
    hint: '[user@]host[:port], as you would give it to ssh.',
    mono: true,
    spellCheck: false,
    placeholder: 'ana@gpu1.lab.example.org',
  },
  identityFile: {
    testId: 'add-host-identity',
    label: 'Identity file',
    optional: true,
    hint: "Private key to use; empty means the ssh-agent's keys and the default ones.",
    mono: true,
    spellCheck: false,
    placeholder: '~/.ssh/id_ed25519',
  },
  jump: {
    testId: 'add-host-jump',
    label: 'ProxyJump',
    optional: true,
    hint: 'Jump hosts, outermost first, separated by commas; empty connects directly.',
    mono: true,
    spellCheck: false,
    placeholder: 'bastion.lab.example.org',
  },
  dockerSocket: {
    testId: 'add-host-docker-socket',
    label: 'Docker socket',
    optional: true,
    mono: true,
    spellCheck: false,
    placeholder: defaultDockerSocket,
  },
  runRoot: {
    testId: 'add-host-run-root',
    label: 'Run folders',
    optional: true,
    mono: true,
    spellCheck: false,
    placeholder: defaultRunRoot,
  },
};

/** Add (or replace) a host by hand: over SSH, or this machine's own Docker. */
export function AddHostFormView({ onCancel }: { onCancel: () => void }) {
  const add = useAppStore((s) => s.hosts.add);
  const existing = useAppStore((s) => s.hosts.items);
  const [values, setValues] = useState<AddHostFormValues>(emptyAddHostForm);
  // The name follows the address until the user types one.
  const [nameEdited, setNameEdited] = useState(false);
  const [errors, setErrors] = useState<AddHostFieldErrors>({});
  const [submitted, setSubmitted] = useState(false);
  const [saving, setSaving] = useState(false);
  const [failure, setFailure] = useState<AppErrorData | null>(null);

  const set = (field: AddHostField, value: string) => {
    const next = { ...values, [field]: value };
    if (field === 'target' && !nameEdited) next.name = suggestHostName(value);
    if (field === 'name') setNameEdited(value !== '');
    setValues(next);
    // After a first submit, errors follow the typing so a fixed field stops being red at once.
    if (submitted) {
      const check = validateAddHostForm(next);
      setErrors(check.ok ? {} : check.errors);
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    const check = validateAddHostForm(values);
    if (!check.ok) {
      setErrors(check.errors);
      return;
    }
    setErrors({});
    setSaving(true);
    setFailure(null);
    const result = await add(check.input);
    setSaving(false);
    if (!result.ok) setFailure(result.error);
  };

  const replaces = existing.some((h) => h.name === values.name.trim());
  /** A text field's props from the table, bound to this form's value, error and setter. */
  const field = (name: AddHostField, hint?: string) => ({
    ...addHostTextFields[name],
    ...(hint === undefined ? {} : { hint }),
    error: errors[name],
    value: values[name],
    onChange: (value: string) => set(name, value),
  });
  const ssh = values.kind === 'ssh';

  return (
    <form className="form-card" data-testid="add-host-form" noValidate onSubmit={(e) => void submit(e)}>
      <h2 className="form-title">Add a host</h2>
      <fieldset className="kind-choice">
        <legend className="field-label">Where runs go</legend>
        <KindOption
          testId="add-host-kind-ssh"
          checked={ssh}
          onSelect={() => setValues({ ...values, kind: 'ssh' })}
          title="A GPU host over SSH"
          hint="Docker on the host is reached through the SSH connection."
        />
        <KindOption
          testId="add-host-kind-local"
          checked={!ssh}
          onSelect={() => setValues({ ...values, kind: 'local' })}
          title="This machine (local Docker)"
          hint="No SSH: runs use the Docker daemon on this computer."
        />
      </fieldset>

      <div className="form-grid">
        <TextField
          {...field('name')}
          note={replaces ? `A host named ${values.name.trim()} exists; adding replaces it.` : undefined}
        />
        {ssh ? (
          <>
            <TextField {...field('target')} />
            <TextField {...field('identityFile')} />
            <TextField {...field('jump')} />
          </>
        ) : null}
        <TextField
          {...field('dockerSocket', ssh ? 'The Docker socket on the host.' : 'The Docker socket on this machine.')}
        />
        <TextField
          {...field('runRoot', ssh ? 'Where run folders go on the host.' : 'Where run folders go on this machine.')}
        />
      </div>

      {failure ? <HostErrorPanel error={failure} action="Adding the host" testId="add-host-error" /> : null}

      <div className="form-actions">
        <button type="button" className="button" data-testid="add-host-cancel" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" data-testid="add-host-submit" disabled={saving}>
          {saving ? 'Adding…' : replaces ? 'Replace host' : 'Add host'}
        </button>
      </div>
    </form>
  );
}

function KindOption({
  testId,
  checked,
  onSelect,
  title,
  hint,
}: {
  testId: string;
  checked: boolean;
  onSelect: () => void;
  title: string;
  hint: string;
}) {
  return (
    <label className={`choice-card${checked ? ' choice-card-checked' : ''}`}>
      <input type="radio" name="add-host-kind" data-testid={testId} checked={checked} onChange={onSelect} />
      <span className="choice-card-text">
        <span className="choice-card-title">{title}</span>
        <span className="choice-card-hint">{hint}</span>
      </span>
    </label>
  );
}
