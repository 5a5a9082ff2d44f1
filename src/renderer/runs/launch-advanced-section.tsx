import { TextField } from '../shell/form-field';
import { envRowAdded, envRowChanged, envRowRemoved, type EnvRow, type LaunchField } from './launch-form';
import type { LaunchEditor } from './launch-section';
import { launchTextField } from './launch-text-fields';

/** Fields inside "Advanced": an error there opens it. */
export const advancedFields: readonly LaunchField[] = ['cpus', 'memory', 'pids', 'network', 'env', 'label'];

/** Advanced, folded: resource limits, the network switch, extra environment and a label. */
export function LaunchAdvancedSection({
  editor,
  open,
  onToggle,
}: {
  editor: LaunchEditor;
  open: boolean;
  onToggle: (open: boolean) => void;
}) {
  const { form, set } = editor;
  return (
    <details
      className="launch-advanced"
      data-testid="launch-advanced"
      open={open}
      onToggle={(e) => onToggle(e.currentTarget.open)}
    >
      <summary>Advanced: limits, network, environment, label</summary>
      <div className="form-grid form-grid-3">
        <TextField {...launchTextField(editor, 'cpus')} />
        <TextField {...launchTextField(editor, 'memory')} />
        <TextField {...launchTextField(editor, 'pids')} />
      </div>
      <label className="toggle-row">
        <input
          type="checkbox"
          data-testid="launch-network"
          checked={form.network}
          onChange={(e) => set('network', e.target.checked)}
        />
        <span>
          <span className="field-label">Network</span>
          <span className="field-help-inline">
            {form.network
              ? 'On: the agent reaches its model API, Hugging Face and pip (PostTrainBench leaves it open).'
              : 'Off: no network at all, so an API-based agent cannot reach its model.'}
          </span>
        </span>
      </label>
      <EnvRows editor={editor} />
      <TextField {...launchTextField(editor, 'label')} />
    </details>
  );
}

/** Extra environment variables for the agent's container, as name = value rows. */
function EnvRows({ editor }: { editor: LaunchEditor }) {
  const { form, errors, update } = editor;
  return (
    <div className={`field${errors.env ? ' field-invalid' : ''}`}>
      <span className="field-label">Extra environment</span>
      {form.env.length > 0 ? (
        <ul className="env-rows">
          {form.env.map((row, i) => (
            <EnvRowInputs
              key={row.id}
              row={row}
              index={i}
              onChange={(change) => update((v) => envRowChanged(v, row.id, change))}
              onRemove={() => update((v) => envRowRemoved(v, row.id))}
            />
          ))}
        </ul>
      ) : null}
      <div className="env-add">
        <button type="button" className="button" data-testid="launch-env-add" onClick={() => update(envRowAdded)}>
          Add variable
        </button>
      </div>
      <p className="field-help">
        {errors.env ? (
          <span className="field-error" data-testid="launch-env-error">
            {errors.env}
          </span>
        ) : (
          'Not for keys: those come from the secret store and go to the agent’s container only.'
        )}
      </p>
    </div>
  );
}

function EnvRowInputs({
  row,
  index,
  onChange,
  onRemove,
}: {
  row: EnvRow;
  index: number;
  onChange: (change: Partial<Omit<EnvRow, 'id'>>) => void;
  onRemove: () => void;
}) {
  const n = index + 1;
  const part = (key: 'name' | 'value', placeholder?: string) => (
    <input
      className="input input-mono"
      aria-label={`Variable ${n} ${key}`}
      data-testid={`launch-env-${key}-${index}`}
      value={row[key]}
      autoComplete="off"
      spellCheck={false}
      placeholder={placeholder}
      onChange={(e) => onChange({ [key]: e.target.value })}
    />
  );
  return (
    <li className="env-row">
      {part('name', 'WANDB_PROJECT')}
      <span className="env-equals" aria-hidden="true">
        =
      </span>
      {part('value')}
      <button
        type="button"
        className="button button-quiet"
        data-testid={`launch-env-remove-${index}`}
        aria-label={`Remove variable ${n}`}
        onClick={onRemove}
      >
        Remove
      </button>
    </li>
  );
}
