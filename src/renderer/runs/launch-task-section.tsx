import type { CatalogTask } from '../../shared/contract';
import type { Result } from '../../shared/errors';
import { BASE_MODELS } from '../../shared/runs/task-catalog';
import { SelectField } from '../shell/form-field';
import { RichText } from '../shell/rich-text';
import type { TaskOption } from './launch-form';
import { LaunchSection, type LaunchEditor } from './launch-section';

const baseModelChoices = BASE_MODELS.map((m) => ({ value: m.id, label: m.hfId }));

/** Task: a benchmark of the host's catalog (with its base model) or the rehearsal; a note when the catalog falls short. */
export function LaunchTaskSection({
  editor,
  tasks,
  task,
  catalog,
}: {
  editor: LaunchEditor;
  tasks: readonly TaskOption[];
  task: TaskOption | null;
  /** The host's catalog as read; null while it loads. */
  catalog: Result<CatalogTask[]> | null;
}) {
  const { form, errors, set } = editor;
  return (
    <LaunchSection title="Task">
      <div className="form-grid">
        <SelectField
          testId="launch-task"
          label="Task"
          error={errors.task}
          hint={
            task?.kind === 'rehearsal'
              ? 'The built-in dry run: no base model, CPU only.'
              : 'A task folder of the host’s PostTrainBench checkout.'
          }
          value={task?.key ?? ''}
          onChange={(key) => set('task', key)}
          choices={tasks.map((t) => ({
            value: t.key,
            label: t.kind === 'rehearsal' ? t.label : `${t.label} (${t.benchmark})`,
          }))}
        />
        {task?.kind === 'ptb' ? (
          <SelectField
            testId="launch-base-model"
            label="Base model"
            error={errors.baseModel}
            hint="The agent fine-tunes this model; its instruct release is off limits."
            value={form.baseModel}
            onChange={(id) => set('baseModel', id)}
            choices={baseModelChoices}
          />
        ) : null}
      </div>
      {catalog?.ok && !tasks.some((t) => t.kind === 'ptb') ? (
        <p className="import-problems launch-note" data-testid="launch-catalog-note">
          <RichText
            text={`No PostTrainBench checkout is set for ${form.host}, so only the rehearsal is offered. Add one with \`ptw host add ${form.host} … --ptb-checkout PATH\`.`}
          />
        </p>
      ) : null}
      {catalog && !catalog.ok ? (
        <p className="import-problems launch-note" data-testid="launch-catalog-note">
          Could not read the host’s task list ({catalog.error.message}); showing PostTrainBench’s benchmarks, which must
          exist in the host’s checkout.
        </p>
      ) : null}
    </LaunchSection>
  );
}
