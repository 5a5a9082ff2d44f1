import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { CatalogTask } from '../../shared/contract';
import type { AppErrorData, Result } from '../../shared/errors';
import { AGENTS, getAgent, isAgentId } from '../../shared/runs/agent-catalog';
import { BASE_MODELS } from '../../shared/runs/task-catalog';
import { HostErrorPanel } from '../hosts/host-error-panel';
import { sortHostsByName } from '../hosts/host-order';
import { lastCheckText } from '../hosts/host-state-text';
import { FormField } from '../shell/form-field';
import { RichText } from '../shell/rich-text';
import { useNow } from '../shell/use-now';
import type { LaunchIntent } from '../store/slices/runs-slice';
import { useAppStore } from '../store/store-context';
import {
  agentChanged,
  budgetEcho,
  chosenTask,
  effectiveGpus,
  effectiveImage,
  envRowAdded,
  envRowChanged,
  envRowRemoved,
  gpuOptions,
  gpuToggled,
  hostChanged,
  initialLaunchForm,
  launchErrorTitle,
  secretNamesToCheck,
  taskOptions,
  validateLaunchForm,
  validateRehearsal,
  type LaunchContext,
  type LaunchField,
  type LaunchFieldErrors,
  type LaunchFormValues,
} from './launch-form';
import { KeyStatusPanel } from './key-status-panel';

const fieldTestIds: Record<Exclude<LaunchField, 'form'>, string> = {
  host: 'launch-host',
  task: 'launch-task',
  baseModel: 'launch-base-model',
  agent: 'launch-agent',
  model: 'launch-model',
  command: 'launch-command',
  budget: 'launch-budget',
  gpus: 'launch-gpus',
  image: 'launch-image',
  cpus: 'launch-cpus',
  memory: 'launch-memory',
  pids: 'launch-pids',
  network: 'launch-network',
  env: 'launch-env',
  label: 'launch-label',
};

/** Fields inside "Advanced": an error there opens it. */
const advancedFields: readonly LaunchField[] = ['cpus', 'memory', 'pids', 'network', 'env', 'label'];

type Loaded<T> = { readonly key: string; readonly result: Result<T> } | null;

/** The launch pane: host, task, agent and key, budget, GPUs, image, limits; plus the built-in rehearsal. */
export function LaunchFormView({ intent, onCancel }: { intent: LaunchIntent; onCancel: () => void }) {
  const hosts = useAppStore((s) => s.hosts.items);
  const shell = useAppStore((s) => s.app.shell.kind);
  const ensureLastCheck = useAppStore((s) => s.hosts.ensureLastCheck);
  const selectHost = useAppStore((s) => s.hosts.select);
  const setSection = useAppStore((s) => s.nav.setSection);
  const showHostsPane = useAppStore((s) => s.hosts.showPane);
  const catalogTasks = useAppStore((s) => s.runs.catalogTasks);
  const start = useAppStore((s) => s.runs.start);
  const now = useNow(30_000);

  const sortedHosts = sortHostsByName(hosts);
  const [values, setValues] = useState<LaunchFormValues>(() => initialLaunchForm(''));
  // The host picked, or the first one: hosts may load after the form opens.
  const hostName = hosts.some((h) => h.name === values.host) ? values.host : (sortedHosts[0]?.name ?? '');
  const form: LaunchFormValues = { ...values, host: hostName };
  const host = hosts.find((h) => h.name === hostName) ?? null;
  const preflight = useAppStore((s) => (hostName === '' ? null : (s.hosts.preflight.get(hostName) ?? null)));
  const report = preflight?.report ?? null;

  const [catalog, setCatalog] = useState<Loaded<CatalogTask[]>>(null);
  const [submitted, setSubmitted] = useState(false);
  const [launching, setLaunching] = useState<'run' | 'rehearsal' | null>(null);
  const [failure, setFailure] = useState<{ what: 'run' | 'rehearsal'; error: AppErrorData } | null>(null);
  const [rehearsalErrors, setRehearsalErrors] = useState<LaunchFieldErrors | null>(null);
  const [advancedOpen, setAdvancedOpen] = useState(false);
  const rehearseRef = useRef<HTMLButtonElement>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const failureRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (hostName !== '') ensureLastCheck(hostName);
  }, [ensureLastCheck, hostName]);

  useEffect(() => {
    if (hostName === '') return;
    let current = true;
    void catalogTasks(hostName).then((result) => {
      if (current) setCatalog({ key: hostName, result });
    });
    return () => {
      current = false;
    };
  }, [catalogTasks, hostName]);

  useEffect(() => {
    // In the one-column layout the form opens below the run list; bring it into view.
    formRef.current?.scrollIntoView?.({ block: 'nearest' });
    if (intent === 'rehearse') rehearseRef.current?.focus();
  }, [intent]);

  // A refusal arrives below the fold of a long form: bring it into view.
  useEffect(() => {
    if (failure?.what === 'run') failureRef.current?.scrollIntoView?.({ block: 'nearest' });
  }, [failure]);

  const catalogForHost = catalog?.key === hostName ? catalog.result : null;
  const tasks = taskOptions(catalogForHost?.ok ? catalogForHost.data : null);
  const ctx: LaunchContext = { host, report, tasks };
  const task = chosenTask(form, ctx);
  const agent = getAgent(form.agent);
  const validation = validateLaunchForm(form, ctx);
  const errors: LaunchFieldErrors = submitted && !validation.ok ? validation.errors : {};
  const gpus = gpuOptions(report);
  const ticked = new Set(effectiveGpus(form, ctx));
  const image = effectiveImage(form, ctx);
  const echo = budgetEcho(form.budget);

  const update = (change: (v: LaunchFormValues) => LaunchFormValues) =>
    setValues((v) => change({ ...v, host: hostName }));
  const set = <K extends keyof LaunchFormValues>(field: K, value: LaunchFormValues[K]) =>
    update((v) => ({ ...v, [field]: value }));

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    setSubmitted(true);
    setRehearsalErrors(null);
    if (!validation.ok) {
      // A mistake in a collapsed field must not be invisible.
      if (advancedFields.some((f) => validation.errors[f] !== undefined)) setAdvancedOpen(true);
      return;
    }
    setFailure(null);
    setLaunching('run');
    const result = await start(validation.draft);
    setLaunching(null);
    // On success the store selects the new run and this pane closes.
    if (!result.ok) setFailure({ what: 'run', error: result.error });
  };

  const rehearse = async () => {
    const check = validateRehearsal(form, ctx);
    if (!check.ok) {
      setRehearsalErrors(check.errors);
      return;
    }
    setRehearsalErrors(null);
    setFailure(null);
    setLaunching('rehearsal');
    const result = await start(check.draft);
    setLaunching(null);
    if (!result.ok) setFailure({ what: 'rehearsal', error: result.error });
  };

  const openHost = () => {
    if (hostName !== '') selectHost(hostName);
    else showHostsPane('add');
    setSection('hosts');
  };

  return (
    <form
      ref={formRef}
      className="form-card launch-form"
      data-testid="launch-form"
      noValidate
      onSubmit={(e) => e.preventDefault()}
    >
      <h2 className="form-title">New run</h2>

      <LaunchSection title="Where">
        {sortedHosts.length === 0 ? (
          <div className="launch-notice" data-testid="launch-no-hosts">
            <span>No hosts yet: a run needs a GPU host (or this machine’s Docker).</span>
            <button type="button" className="button" onClick={openHost}>
              Add a host
            </button>
          </div>
        ) : (
          <Field
            field="host"
            label="Host"
            error={errors.host}
            hint={
              host ? (
                <span className="launch-host-status" data-testid="launch-host-status">
                  {host.lastCheck ? (
                    <span className={`check-dot check-dot-${host.lastCheck.overall}`} aria-hidden="true" />
                  ) : null}
                  <span>
                    Last preflight: {lastCheckText(host.lastCheck, now)}
                    {report && report.gpus.length > 0
                      ? ` · ${report.freeGpus.length} of ${report.gpus.length} GPUs free`
                      : ''}
                  </span>
                  {!host.lastCheck || host.lastCheck.overall === 'fail' ? (
                    <button
                      type="button"
                      className="button button-quiet"
                      data-testid="launch-open-host"
                      onClick={openHost}
                    >
                      {host.lastCheck ? 'See what failed' : 'Run preflight first'}
                    </button>
                  ) : null}
                </span>
              ) : null
            }
          >
            {(props) => (
              <select
                {...props}
                className="select input"
                value={hostName}
                onChange={(e) => update((v) => hostChanged(v, e.target.value))}
              >
                {sortedHosts.map((h) => (
                  <option key={h.name} value={h.name}>
                    {h.name} ({h.kind === 'local' ? 'this machine' : h.address})
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}

        <div className="rehearse-callout" data-testid="launch-rehearse-box">
          <div className="rehearse-text">
            <p className="rehearse-title">Not tried this host yet? Rehearse first.</p>
            <p className="muted">
              A 3-minute run of a scripted agent on a tiny CPU task checks the sandbox, prompt, timer, recording, budget
              stop and scoring on this host, with no API key.
            </p>
            {rehearsalErrors ? (
              <p className="field-error" data-testid="launch-rehearse-error">
                {Object.values(rehearsalErrors).join(' ')}
              </p>
            ) : null}
          </div>
          <button
            ref={rehearseRef}
            type="button"
            className="button button-primary rehearse-button"
            data-testid="launch-rehearse"
            disabled={launching !== null || hostName === ''}
            onClick={() => void rehearse()}
          >
            {launching === 'rehearsal' ? 'Starting…' : 'Rehearse first'}
          </button>
        </div>
        {failure?.what === 'rehearsal' ? (
          <HostErrorPanel
            error={failure.error}
            title={launchErrorTitle(failure.error, 'rehearsal')}
            action="Starting the rehearsal"
            testId="launch-error"
          />
        ) : null}
      </LaunchSection>

      <LaunchSection title="Task">
        <div className="form-grid">
          <Field
            field="task"
            label="Task"
            error={errors.task}
            hint={
              task?.kind === 'rehearsal'
                ? 'The built-in dry run: no base model, CPU only.'
                : 'A task folder of the host’s PostTrainBench checkout.'
            }
          >
            {(props) => (
              <select
                {...props}
                className="select input"
                value={task?.key ?? ''}
                onChange={(e) => set('task', e.target.value)}
              >
                {tasks.map((t) => (
                  <option key={t.key} value={t.key}>
                    {t.kind === 'rehearsal' ? `${t.label}` : `${t.label} (${t.benchmark})`}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {task?.kind === 'ptb' ? (
            <Field
              field="baseModel"
              label="Base model"
              error={errors.baseModel}
              hint="The agent fine-tunes this model; its instruct release is off limits."
            >
              {(props) => (
                <select
                  {...props}
                  className="select input"
                  value={form.baseModel}
                  onChange={(e) => set('baseModel', e.target.value)}
                >
                  {BASE_MODELS.map((m) => (
                    <option key={m.id} value={m.id}>
                      {m.hfId}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
        </div>
        {catalogForHost?.ok && !tasks.some((t) => t.kind === 'ptb') ? (
          <p className="launch-note" data-testid="launch-catalog-note">
            <RichText
              text={`No PostTrainBench checkout is set for ${hostName}, so only the rehearsal is offered. Add one with \`ptw host add ${hostName} … --ptb-checkout PATH\`.`}
            />
          </p>
        ) : null}
        {catalogForHost && !catalogForHost.ok ? (
          <p className="launch-note" data-testid="launch-catalog-note">
            Could not read the host’s task list ({catalogForHost.error.message}); showing PostTrainBench’s benchmarks,
            which must exist in the host’s checkout.
          </p>
        ) : null}
      </LaunchSection>

      <LaunchSection title="Agent">
        <div className="form-grid">
          <Field field="agent" label="Agent" error={errors.agent} hint={null}>
            {(props) => (
              <select
                {...props}
                className="select input"
                value={form.agent}
                onChange={(e) => {
                  const id = e.target.value;
                  if (isAgentId(id)) update((v) => agentChanged(v, id));
                }}
              >
                {AGENTS.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
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
        {form.agent === 'custom' ? (
          <Field
            field="command"
            label="Command"
            error={errors.command}
            hint="The program and its arguments; {model}, {prompt} and {prompt_file} are filled in. Quote words with spaces."
          >
            {(props) => (
              <input
                {...props}
                className="input input-mono"
                value={form.command}
                autoComplete="off"
                spellCheck={false}
                placeholder="my-agent --model {model} {prompt}"
                onChange={(e) => set('command', e.target.value)}
              />
            )}
          </Field>
        ) : null}
        <KeyStatusPanel agent={agent} names={secretNamesToCheck(agent, task)} task={task} shell={shell} />
      </LaunchSection>

      <LaunchSection title="Budget and hardware">
        <div className="form-grid">
          <Field
            field="budget"
            label="Budget"
            error={errors.budget}
            hint={
              echo ? (
                <span data-testid="launch-budget-echo">{echo} of agent time; the evaluation comes after.</span>
              ) : (
                'Agent time, e.g. 10h, 90m or 1h30m.'
              )
            }
          >
            {(props) => (
              <input
                {...props}
                className="input input-mono"
                value={form.budget}
                autoComplete="off"
                spellCheck={false}
                placeholder="10h"
                onChange={(e) => set('budget', e.target.value)}
              />
            )}
          </Field>
          <Field
            field="image"
            label="Image"
            error={errors.image}
            hint={
              form.image === null && image !== ''
                ? 'The host’s first required image.'
                : 'Empty: the task’s default image.'
            }
          >
            {(props) => (
              <input
                {...props}
                className="input input-mono"
                value={image}
                autoComplete="off"
                spellCheck={false}
                placeholder="the task’s default image"
                onChange={(e) => set('image', e.target.value)}
              />
            )}
          </Field>
        </div>
        <fieldset className="gpu-choice" data-testid="launch-gpus" aria-describedby="launch-gpus-help">
          <legend className="field-label">GPUs</legend>
          {gpus.length > 0 ? (
            <ul className="gpu-list">
              {gpus.map((g) => (
                <li key={g.index}>
                  <label className={`gpu-option${ticked.has(g.index) ? ' gpu-option-checked' : ''}`}>
                    <input
                      type="checkbox"
                      data-testid={`launch-gpu-${g.index}`}
                      checked={ticked.has(g.index)}
                      onChange={(e) => update((v) => gpuToggled(v, ctx, g.index, e.target.checked))}
                    />
                    <span className="gpu-option-text">
                      <span className="gpu-option-name">
                        GPU {g.index} · {g.name.replace(/^NVIDIA /, '')}
                      </span>
                      <span className="gpu-option-meta">
                        {Math.round(g.memoryMiB / 1024)} GiB ·{' '}
                        <span className={g.free ? 'gpu-free' : 'gpu-busy'}>{g.free ? 'free' : 'busy'}</span>
                      </span>
                    </span>
                  </label>
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
      </LaunchSection>

      <details
        className="launch-advanced"
        data-testid="launch-advanced"
        open={advancedOpen}
        onToggle={(e) => setAdvancedOpen(e.currentTarget.open)}
      >
        <summary>Advanced: limits, network, environment, label</summary>
        <div className="form-grid form-grid-3">
          <Field field="cpus" label="CPUs" optional error={errors.cpus} hint="e.g. 16; empty: no limit.">
            {(props) => (
              <input
                {...props}
                className="input input-mono"
                inputMode="decimal"
                value={form.cpus}
                autoComplete="off"
                placeholder="16"
                onChange={(e) => set('cpus', e.target.value)}
              />
            )}
          </Field>
          <Field field="memory" label="Memory" optional error={errors.memory} hint="e.g. 128g; empty: no limit.">
            {(props) => (
              <input
                {...props}
                className="input input-mono"
                value={form.memory}
                autoComplete="off"
                spellCheck={false}
                placeholder="128g"
                onChange={(e) => set('memory', e.target.value)}
              />
            )}
          </Field>
          <Field field="pids" label="Processes" optional error={errors.pids} hint="At least 64; empty: the default.">
            {(props) => (
              <input
                {...props}
                className="input input-mono"
                inputMode="numeric"
                value={form.pids}
                autoComplete="off"
                placeholder="4096"
                onChange={(e) => set('pids', e.target.value)}
              />
            )}
          </Field>
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
        <div className={`field${errors.env ? ' field-invalid' : ''}`}>
          <span className="field-label">Extra environment</span>
          {form.env.length > 0 ? (
            <ul className="env-rows">
              {form.env.map((row, i) => (
                <li key={row.id} className="env-row">
                  <input
                    className="input input-mono"
                    aria-label={`Variable ${i + 1} name`}
                    data-testid={`launch-env-name-${i}`}
                    value={row.name}
                    autoComplete="off"
                    spellCheck={false}
                    placeholder="WANDB_PROJECT"
                    onChange={(e) => update((v) => envRowChanged(v, row.id, { name: e.target.value }))}
                  />
                  <span className="env-equals" aria-hidden="true">
                    =
                  </span>
                  <input
                    className="input input-mono"
                    aria-label={`Variable ${i + 1} value`}
                    data-testid={`launch-env-value-${i}`}
                    value={row.value}
                    autoComplete="off"
                    spellCheck={false}
                    onChange={(e) => update((v) => envRowChanged(v, row.id, { value: e.target.value }))}
                  />
                  <button
                    type="button"
                    className="button button-quiet"
                    data-testid={`launch-env-remove-${i}`}
                    aria-label={`Remove variable ${i + 1}`}
                    onClick={() => update((v) => envRowRemoved(v, row.id))}
                  >
                    Remove
                  </button>
                </li>
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
        <Field
          field="label"
          label="Label"
          optional
          error={errors.label}
          hint="A note for lists; not part of the spec’s hash."
        >
          {(props) => (
            <input
              {...props}
              className="input"
              value={form.label}
              autoComplete="off"
              placeholder="opus on gsm8k, seed 1"
              onChange={(e) => set('label', e.target.value)}
            />
          )}
        </Field>
      </details>

      {validation.ok && validation.warnings.length > 0 ? (
        <div className="import-problems launch-warnings" role="note" data-testid="launch-warnings">
          <p className="import-problems-title">Worth a second look</p>
          <ul>
            {validation.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {errors.form ? (
        <p className="field-error" data-testid="launch-form-error">
          {errors.form}
        </p>
      ) : null}
      <div ref={failureRef}>
        {failure?.what === 'run' ? (
          <HostErrorPanel
            error={failure.error}
            title={launchErrorTitle(failure.error, 'run')}
            action="Launching the run"
            testId="launch-error"
          />
        ) : null}
      </div>

      <div className="form-actions">
        <button type="button" className="button" data-testid="launch-cancel" onClick={onCancel}>
          Cancel
        </button>
        {/* Not a submit button: Enter in a field must not start a 10-hour run (no submit button, no implicit
            submission). */}
        <button
          type="button"
          className="button button-primary"
          data-testid="launch-submit"
          disabled={launching !== null || hostName === ''}
          onClick={() => void submit()}
        >
          {launching === 'run' ? 'Launching…' : 'Launch run'}
        </button>
      </div>
    </form>
  );
}

function LaunchSection({ title, children }: { title: string; children: ReactNode }) {
  const id = useId();
  return (
    <section className="launch-section" aria-labelledby={id}>
      <h3 id={id} className="launch-section-title">
        {title}
      </h3>
      {children}
    </section>
  );
}

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
    <Field
      field="model"
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
    </Field>
  );
}

/** A field of this form, by its key: the shared field with this form's test ids. */
function Field({
  field,
  ...rest
}: { field: Exclude<LaunchField, 'form'> } & Omit<Parameters<typeof FormField>[0], 'testId'>) {
  return <FormField testId={fieldTestIds[field]} {...rest} />;
}
