import { useId } from 'react';
import { AGENTS, isAgentId, type AgentDefinition } from '../../shared/runs/agent-catalog';
import { FormField, SelectField, TextField } from '../shell/form-field';
import { agentChanged, type TaskOption } from './launch-form';
import { secretNamesToCheck } from './launch-keys';
import { LaunchSection, type LaunchEditor } from './launch-section';
import { launchTextField } from './launch-text-fields';
import { KeyStatusPanel } from './key-status-panel';

const agentChoices = AGENTS.map((a) => ({ value: a.id, label: a.label }));

/** Agent: which one, its model (or a custom agent's command line), and whether its key is stored. */
export function LaunchAgentSection({
  editor,
  agent,
  task,
  shell,
}: {
  editor: LaunchEditor;
  agent: AgentDefinition;
  task: TaskOption | null;
  shell: 'electron' | 'serve';
}) {
  const { form, errors, update, set } = editor;
  return (
    <LaunchSection title="Agent">
      <div className="form-grid">
        <SelectField
          testId="launch-agent"
          label="Agent"
          error={errors.agent}
          hint={null}
          value={form.agent}
          onChange={(id) => {
            if (isAgentId(id)) update((v) => agentChanged(v, id));
          }}
          choices={agentChoices}
        />
        {form.agent !== 'rehearsal' ? (
          <ModelField
            value={form.model}
            error={errors.model}
            suggestions={agent.exampleModels}
            required={agent.modelRequired}
            onChange={(model) => set('model', model)}
          />
        ) : null}
      </div>
      {form.agent === 'custom' ? <TextField {...launchTextField(editor, 'command')} /> : null}
      <KeyStatusPanel agent={agent} names={secretNamesToCheck(agent, task)} task={task} shell={shell} />
    </LaunchSection>
  );
}

/** The model id, with the agent's examples offered as suggestions. */
function ModelField({
  value,
  error,
  suggestions,
  required,
  onChange,
}: {
  value: string;
  error: string | undefined;
  suggestions: readonly string[];
  required: boolean;
  onChange: (value: string) => void;
}) {
  const listId = useId();
  return (
    <FormField
      testId="launch-model"
      label="Model"
      optional={!required}
      error={error}
      hint={
        suggestions.length > 0 ? `The provider’s model id, e.g. ${suggestions.join(', ')}.` : 'The provider’s model id.'
      }
    >
      {(props) => (
        <>
          <input
            {...props}
            className="input input-mono"
            list={listId}
            value={value}
            autoComplete="off"
            spellCheck={false}
            placeholder={suggestions[0] ?? ''}
            onChange={(e) => onChange(e.target.value)}
          />
          <datalist id={listId}>
            {suggestions.map((m) => (
              <option key={m} value={m} />
            ))}
          </datalist>
        </>
      )}
    </FormField>
  );
}
