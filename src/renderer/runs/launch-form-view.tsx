import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { CatalogTask } from '../../shared/contract';
import type { AppErrorData, Result } from '../../shared/errors';
import { getAgent } from '../../shared/runs/agent-catalog';
import { isScriptedAgent } from '../../shared/runs/scripted-agents';
import { sortHostsByName } from '../common/host-order';
import type { LaunchIntent } from '../store/slices/runs-slice';
import { useAppStore } from '../store/store-context';
import {
  chosenTask,
  initialLaunchForm,
  taskOptions,
  type LaunchContext,
  type LaunchFieldErrors,
  type LaunchFormValues,
} from './launch-form';
import { validateLaunchForm, validateRehearsal } from './launch-spec';
import { advancedFields, LaunchAdvancedSection } from './launch-advanced-section';
import { LaunchAgentSection } from './launch-agent-section';
import { LaunchHardwareSection } from './launch-hardware-section';
import { LaunchReview } from './launch-review';
import type { LaunchEditor } from './launch-section';
import { LaunchTaskSection } from './launch-task-section';
import { LaunchWhereSection } from './launch-where-section';

type Loaded<T> = { readonly key: string; readonly result: Result<T> } | null;

/**
 * The launch pane: host, task, agent and key, budget, GPUs, image, limits; plus the built-in rehearsal. This holds the
 * form's state and the two launches; each part of the form is its own view.
 */
export function LaunchFormView({ intent, onCancel }: { intent: LaunchIntent; onCancel: () => void }) {
  const hosts = useAppStore((s) => s.hosts.items);
  const shell = useAppStore((s) => s.app.shell.kind);
  const ensureLastCheck = useAppStore((s) => s.hosts.ensureLastCheck);
  const selectHost = useAppStore((s) => s.hosts.select);
  const setSection = useAppStore((s) => s.nav.setSection);
  const showHostsPane = useAppStore((s) => s.hosts.showPane);
  const catalogTasks = useAppStore((s) => s.runs.catalogTasks);
  const start = useAppStore((s) => s.runs.start);

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
  const [launching, setLaunching] = useState<'run' | 'rehearsal' | 'scripted' | null>(null);
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
  const validation = validateLaunchForm(form, ctx);

  const update = (change: (v: LaunchFormValues) => LaunchFormValues) =>
    setValues((v) => change({ ...v, host: hostName }));
  const editor: LaunchEditor = {
    form,
    errors: submitted && !validation.ok ? validation.errors : {},
    update,
    set: (field, value) => update((v) => ({ ...v, [field]: value })),
  };

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

  const rehearse = async (scripted = false) => {
    const check = validateRehearsal(form, ctx, scripted);
    if (!check.ok) {
      setRehearsalErrors(check.errors);
      return;
    }
    setRehearsalErrors(null);
    setFailure(null);
    setLaunching(scripted ? 'scripted' : 'rehearsal');
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
      <LaunchWhereSection
        editor={editor}
        hosts={sortedHosts}
        host={host}
        report={report}
        onOpenHost={openHost}
        rehearsal={{
          errors: rehearsalErrors,
          launching: launching === 'rehearsal',
          disabled: launching !== null || hostName === '',
          failure: failure?.what === 'rehearsal' ? failure.error : null,
          onRehearse: () => void rehearse(),
          realAgent: isScriptedAgent(form.agent) ? getAgent(form.agent).label : null,
          launchingReal: launching === 'scripted',
          onRehearseReal: () => void rehearse(true),
        }}
        rehearseButtonRef={rehearseRef}
      />
      <LaunchTaskSection editor={editor} tasks={tasks} task={task} catalog={catalogForHost} />
      <LaunchAgentSection editor={editor} agent={getAgent(form.agent)} task={task} shell={shell} />
      <LaunchHardwareSection editor={editor} ctx={ctx} />
      <LaunchAdvancedSection editor={editor} open={advancedOpen} onToggle={setAdvancedOpen} />
      <LaunchReview
        warnings={validation.ok ? validation.warnings : []}
        formError={editor.errors.form}
        failure={failure?.what === 'run' ? failure.error : null}
        failureRef={failureRef}
        launching={launching === 'run'}
        disabled={launching !== null || hostName === ''}
        onCancel={onCancel}
        onLaunch={() => void submit()}
      />
    </form>
  );
}
