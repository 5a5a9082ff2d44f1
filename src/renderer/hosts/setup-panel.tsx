import { useId, useState, type FormEvent } from 'react';
import type { HostSummary } from '../../shared/contract';
import { SETUP_STEPS, type SetupStep } from '../../shared/contract-host-setup';
import { setupOf } from '../store/slices/hosts-slice';
import { useAppStore } from '../store/store-context';
import { stepFraction, type SetupStepView } from '../common/setup-run';
import './setup-panel.css';

const stepTitles: Record<SetupStep, string> = {
  checkout: 'PostTrainBench checkout',
  image: 'Run image',
  caches: 'Model and data caches',
  ready: 'Ready check',
};

const statusText: Record<SetupStepView['status'], string> = {
  pending: 'waiting',
  running: 'running',
  done: 'done',
  skipped: 'already done',
  failed: 'failed',
  'not-run': 'not run',
};

/**
 * The host page's "Set up" panel (docs/host-setup.md): the steps that take a fresh GPU host to one ready for
 * PostTrainBench runs, each with its bar, its log (the host's words, as text) and its result.
 */
export function SetupPanel({ host }: { host: HostSummary }) {
  const run = useAppStore((s) => setupOf(s.hosts, host.name));
  const runSetup = useAppStore((s) => s.hosts.runSetup);
  const [checkout, setCheckout] = useState('');
  const [repo, setRepo] = useState('');
  const [rev, setRev] = useState('');
  const [def, setDef] = useState('');
  const [chosen, setChosen] = useState<ReadonlySet<SetupStep>>(new Set(SETUP_STEPS));
  const [open, setOpen] = useState<SetupStep | null>(null);
  const id = useId();

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (run.running || chosen.size === 0) return;
    void runSetup({
      name: host.name,
      steps: SETUP_STEPS.filter((s) => chosen.has(s)),
      ...(checkout.trim() ? { ptbCheckout: checkout.trim() } : {}),
      ...(repo.trim() ? { ptbRepo: repo.trim() } : {}),
      ...(rev.trim() && repo.trim() ? { ptbRev: rev.trim() } : {}),
      ...(def.trim() ? { def: def.trim() } : {}),
    });
  };
  const field = (key: string, label: string, value: string, set: (v: string) => void, placeholder: string) => (
    <label className="setup-field" htmlFor={`${id}-${key}`}>
      <span>{label}</span>
      <input
        id={`${id}-${key}`}
        className="input cell-mono"
        data-testid={`setup-${key}`}
        value={value}
        placeholder={placeholder}
        spellCheck={false}
        onChange={(e) => set(e.target.value)}
      />
    </label>
  );

  return (
    <section className="setup-panel" data-testid="setup-panel" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`} className="subsection-title">
        Set up for PostTrainBench runs
      </h3>
      <form className="setup-form" onSubmit={submit}>
        {field('checkout', 'Checkout on the host', checkout, setCheckout, '~/PostTrainBench')}
        {field('repo', 'Clone from (optional)', repo, setRepo, 'https://github.com/aisa-group/PostTrainBench.git')}
        {field('rev', 'Revision (optional)', rev, setRev, 'main')}
        {field('def', 'Container definition', def, setDef, 'standard')}
        <fieldset className="setup-steps-choice">
          <legend>Steps</legend>
          {SETUP_STEPS.map((step) => (
            <label key={step}>
              <input
                type="checkbox"
                data-testid={`setup-step-${step}`}
                checked={chosen.has(step)}
                onChange={(e) => {
                  const next = new Set(chosen);
                  if (e.target.checked) next.add(step);
                  else next.delete(step);
                  setChosen(next);
                }}
              />{' '}
              {stepTitles[step]}
            </label>
          ))}
        </fieldset>
        <button
          type="submit"
          className="button button-primary"
          data-testid="setup-run"
          disabled={run.running || chosen.size === 0}
        >
          {run.running ? 'Setting up…' : 'Set up'}
        </button>
      </form>

      {run.error ? (
        <p className="inline-error" role="alert" data-testid="setup-error">
          {run.error.message}
        </p>
      ) : null}

      {run.steps.size > 0 ? (
        <ol className="setup-step-list" data-testid="setup-steps">
          {[...run.steps].map(([step, view]) => {
            const fraction = stepFraction(view);
            return (
              <li
                key={step}
                className={`setup-step setup-${view.status}`}
                data-testid={`setup-result-${step}`}
                data-status={view.status}
              >
                <div className="setup-step-head">
                  <strong>{stepTitles[step]}</strong>
                  <span className="setup-step-status">
                    {statusText[view.status]}
                    {view.status === 'running' && view.done !== null && view.total !== null
                      ? ` · step ${view.done} of ${view.total}`
                      : ''}
                  </span>
                </div>
                {view.status === 'running' || fraction !== null ? (
                  fraction === null ? (
                    <progress aria-label={`${stepTitles[step]} running`} />
                  ) : (
                    <progress value={fraction} max={1} aria-label={`${stepTitles[step]} progress`} />
                  )
                ) : null}
                {view.summary ? (
                  <p className="setup-step-summary" data-testid={`setup-summary-${step}`}>
                    {view.summary}
                  </p>
                ) : null}
                {view.log.length > 0 ? (
                  <details
                    open={open === step || view.status === 'failed'}
                    onToggle={(e) => e.currentTarget.open && setOpen(step)}
                  >
                    <summary>Log ({view.log.length} lines)</summary>
                    <pre className="setup-log" data-testid={`setup-log-${step}`}>
                      {view.log.join('\n')}
                    </pre>
                  </details>
                ) : null}
              </li>
            );
          })}
        </ol>
      ) : null}
      {run.report ? (
        <p
          className={run.report.ok ? 'setup-verdict setup-ok' : 'setup-verdict setup-not-ok'}
          data-testid="setup-verdict"
        >
          {run.report.ok
            ? `${host.name} is set up: checkout ${run.report.ptbCheckout ?? 'none'}, image ${run.report.image ?? 'none'}.`
            : `${host.name} is not ready yet: see the failed step.`}
        </p>
      ) : null}
    </section>
  );
}
