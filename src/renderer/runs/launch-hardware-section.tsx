import { TextField } from '../shell/form-field';
import {
  budgetEcho,
  effectiveGpus,
  effectiveImage,
  gpuOptions,
  gpuToggled,
  type GpuOption,
  type LaunchContext,
} from './launch-form';
import { LaunchSection, type LaunchEditor } from './launch-section';
import { launchTextField } from './launch-text-fields';

/** Budget and hardware: the agent's time, the image, and the GPUs of the host's last preflight. */
export function LaunchHardwareSection({ editor, ctx }: { editor: LaunchEditor; ctx: LaunchContext }) {
  const { form } = editor;
  const echo = budgetEcho(form.budget);
  const image = effectiveImage(form, ctx);
  const imageHint = form.image === null && image !== '' ? 'The host’s first required image.' : undefined;
  return (
    <LaunchSection title="Budget and hardware">
      <div className="form-grid">
        <TextField {...launchTextField(editor, 'budget', echo ? <BudgetEcho echo={echo} /> : undefined)} />
        <TextField {...launchTextField(editor, 'image', imageHint)} value={image} />
      </div>
      <GpuChoice editor={editor} ctx={ctx} />
    </LaunchSection>
  );
}

function BudgetEcho({ echo }: { echo: string }) {
  return <span data-testid="launch-budget-echo">{echo} of agent time; the evaluation comes after.</span>;
}

/** The host's GPUs to tick; none ticked lets the launcher take the first free one. */
function GpuChoice({ editor, ctx }: { editor: LaunchEditor; ctx: LaunchContext }) {
  const { form, errors, update } = editor;
  const gpus = gpuOptions(ctx.report);
  const ticked = new Set(effectiveGpus(form, ctx));
  return (
    <fieldset className="gpu-choice" data-testid="launch-gpus" aria-describedby="launch-gpus-help">
      <legend className="field-label">GPUs</legend>
      {gpus.length > 0 ? (
        <ul className="gpu-list">
          {gpus.map((g) => (
            <li key={g.index}>
              <GpuCheckbox
                gpu={g}
                checked={ticked.has(g.index)}
                onChange={(on) => update((v) => gpuToggled(v, ctx, g.index, on))}
              />
            </li>
          ))}
        </ul>
      ) : null}
      <p className="field-help" id="launch-gpus-help">
        {errors.gpus ? (
          <span className="field-error" data-testid="launch-gpus-error">
            {errors.gpus}
          </span>
        ) : gpus.length === 0 ? (
          'No GPUs known for this host yet (run preflight to list them); the launcher takes the first free one.'
        ) : ticked.size === 0 ? (
          'None ticked: the launcher takes the first free GPU.'
        ) : (
          'From the last preflight; busy GPUs had a compute process on them then.'
        )}
      </p>
    </fieldset>
  );
}

function GpuCheckbox({
  gpu,
  checked,
  onChange,
}: {
  gpu: GpuOption;
  checked: boolean;
  onChange: (on: boolean) => void;
}) {
  return (
    <label className={`choice-card gpu-option${checked ? ' choice-card-checked' : ''}`}>
      <input
        type="checkbox"
        data-testid={`launch-gpu-${gpu.index}`}
        checked={checked}
        onChange={(e) => onChange(e.target.checked)}
      />
      <span className="choice-card-text">
        <span className="choice-card-title gpu-option-name">
          GPU {gpu.index} · {gpu.name.replace(/^NVIDIA /, '')}
        </span>
        <span className="choice-card-hint">
          {Math.round(gpu.memoryMiB / 1024)} GiB ·{' '}
          <span className={gpu.free ? 'gpu-free' : 'gpu-busy'}>{gpu.free ? 'free' : 'busy'}</span>
        </span>
      </span>
    </label>
  );
}
