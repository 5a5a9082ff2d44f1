import type { Ref } from 'react';
import type { AppErrorData } from '../../shared/errors';
import type { HostSummary } from '../../shared/contract';
import type { PreflightReport } from '../../shared/hosts';
import { HostErrorPanel } from '../common/host-error-panel';
import { lastCheckText } from '../common/host-state-text';
import { SelectField } from '../shell/form-field';
import { useNow } from '../shell/use-now';
import { hostChanged, type LaunchFieldErrors } from './launch-form';
import { launchErrorTitle } from './launch-spec';
import { LaunchSection, type LaunchEditor } from './launch-section';

/** The rehearsal's part of the form's state: its errors, whether it is starting, and why it was refused. */
export interface RehearsalState {
  readonly errors: LaunchFieldErrors | null;
  readonly launching: boolean;
  readonly disabled: boolean;
  readonly failure: AppErrorData | null;
  readonly onRehearse: () => void;
  /** The form's agent when it is one of the real CLIs: then it can be rehearsed against the scripted model. */
  readonly realAgent: string | null;
  readonly launchingReal: boolean;
  readonly onRehearseReal: () => void;
}

/** Where: the host (with its last preflight), or a way to add one; and the built-in rehearsal on it. */
export function LaunchWhereSection({
  editor,
  hosts,
  host,
  report,
  rehearsal,
  rehearseButtonRef,
  onOpenHost,
}: {
  editor: LaunchEditor;
  /** By name. */
  hosts: readonly HostSummary[];
  host: HostSummary | null;
  report: PreflightReport | null;
  rehearsal: RehearsalState;
  /** Focused when the form opens to rehearse. */
  rehearseButtonRef: Ref<HTMLButtonElement>;
  onOpenHost: () => void;
}) {
  return (
    <LaunchSection title="Where">
      {hosts.length === 0 ? (
        <div className="launch-notice" data-testid="launch-no-hosts">
          <span>No hosts yet: a run needs a GPU host (or this machine’s Docker).</span>
          <button type="button" className="button" onClick={onOpenHost}>
            Add a host
          </button>
        </div>
      ) : (
        <SelectField
          testId="launch-host"
          label="Host"
          error={editor.errors.host}
          hint={host ? <HostStatus host={host} report={report} onOpenHost={onOpenHost} /> : null}
          value={editor.form.host}
          onChange={(name) => editor.update((v) => hostChanged(v, name))}
          choices={hosts.map((h) => ({
            value: h.name,
            label: `${h.name} (${h.kind === 'local' ? 'this machine' : h.address})`,
          }))}
        />
      )}
      <RehearseCallout rehearsal={rehearsal} buttonRef={rehearseButtonRef} />
      {rehearsal.failure ? (
        <HostErrorPanel
          error={rehearsal.failure}
          title={launchErrorTitle(rehearsal.failure, 'rehearsal')}
          action="Starting the rehearsal"
          testId="launch-error"
        />
      ) : null}
    </LaunchSection>
  );
}

/** The host's last preflight under the picker, with a way to it when there is none or it failed. */
function HostStatus({
  host,
  report,
  onOpenHost,
}: {
  host: HostSummary;
  report: PreflightReport | null;
  onOpenHost: () => void;
}) {
  const now = useNow(30_000);
  return (
    <span className="launch-host-status" data-testid="launch-host-status">
      {host.lastCheck ? <span className={`check-dot check-dot-${host.lastCheck.overall}`} aria-hidden="true" /> : null}
      <span>
        Last preflight: {lastCheckText(host.lastCheck, now)}
        {report && report.gpus.length > 0 ? ` · ${report.freeGpus.length} of ${report.gpus.length} GPUs free` : ''}
      </span>
      {!host.lastCheck || host.lastCheck.overall === 'fail' ? (
        <button type="button" className="button button-quiet" data-testid="launch-open-host" onClick={onOpenHost}>
          {host.lastCheck ? 'See what failed' : 'Run preflight first'}
        </button>
      ) : null}
    </span>
  );
}

function RehearseCallout({ rehearsal, buttonRef }: { rehearsal: RehearsalState; buttonRef: Ref<HTMLButtonElement> }) {
  return (
    <div className="rehearse-callout" data-testid="launch-rehearse-box">
      <div className="rehearse-text">
        <p className="rehearse-title">Not tried this host yet? Rehearse first.</p>
        <p className="muted">
          A 3-minute run of a scripted agent on a tiny CPU task checks the sandbox, prompt, timer, recording, budget
          stop and scoring on this host, with no API key.
        </p>
        {rehearsal.errors ? (
          <p className="field-error" data-testid="launch-rehearse-error">
            {Object.values(rehearsal.errors).join(' ')}
          </p>
        ) : null}
      </div>
      <button
        ref={buttonRef}
        type="button"
        className="button button-primary rehearse-button"
        data-testid="launch-rehearse"
        disabled={rehearsal.disabled}
        onClick={rehearsal.onRehearse}
      >
        {rehearsal.launching ? 'Starting…' : 'Rehearse first'}
      </button>
      {rehearsal.realAgent ? (
        <div className="rehearse-real" data-testid="launch-rehearse-real-box">
          <p className="muted">
            Or rehearse with the real agent: {rehearsal.realAgent} itself runs in the sandbox against a scripted model
            that solves the same task through its own tools, so its version, settings and output are checked too. No API
            key, no network.
          </p>
          <button
            type="button"
            className="button rehearse-button"
            data-testid="launch-rehearse-real"
            disabled={rehearsal.disabled}
            onClick={rehearsal.onRehearseReal}
          >
            {rehearsal.launchingReal ? 'Starting…' : `Rehearse with ${rehearsal.realAgent}`}
          </button>
        </div>
      ) : null}
    </div>
  );
}
