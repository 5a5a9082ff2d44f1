import { useEffect, useState } from 'react';
import type { HostSummary } from '../../shared/contract';
import { useAppStore } from '../store/store-context';
import { preflightOf } from '../store/slices/hosts-slice';
import { ConfirmRow } from '../common/confirm-row';
import { HostErrorPanel } from '../common/host-error-panel';
import { hostKindLabel } from '../common/host-order';
import { connectionStateText, connectionTone, jumpHops } from '../common/host-state-text';
import { PreflightPanel } from './preflight-panel';
import { schedulerText } from './scheduler-text';
import { SetupPanel } from './setup-panel';

/** One host: its facts, connect / disconnect, preflight, set-up, and removal. */
export function HostDetail({ host, now }: { host: HostSummary; now: number }) {
  const run = useAppStore((s) => preflightOf(s.hosts, host.name));
  const pending = useAppStore((s) => s.hosts.pending.get(host.name));
  const problem = useAppStore((s) => s.hosts.problems.get(host.name));
  const ensureLastCheck = useAppStore((s) => s.hosts.ensureLastCheck);
  const connect = useAppStore((s) => s.hosts.connect);
  const disconnect = useAppStore((s) => s.hosts.disconnect);
  const runPreflight = useAppStore((s) => s.hosts.runPreflight);
  const remove = useAppStore((s) => s.hosts.remove);
  const [confirmingRemove, setConfirmingRemove] = useState(false);

  useEffect(() => ensureLastCheck(host.name), [ensureLastCheck, host.name]);

  const status = host.state?.status ?? 'disconnected';
  const tone = connectionTone(host.state);
  const live = status === 'connected' || status === 'connecting' || status === 'reconnecting';
  const busy = pending !== undefined || run.running;
  // The failure to show: this window's last command on the host, else what main says about the connection.
  const shown =
    problem ?? (host.state?.error && status !== 'connected' ? { action: '', error: host.state.error } : null);
  const hops = jumpHops(host.jump);
  // One button connects or disconnects, as the connection stands.
  const toggle = live
    ? { testId: 'disconnect-host', act: disconnect, text: pending === 'disconnect' ? 'Disconnecting…' : 'Disconnect' }
    : { testId: 'connect-host', act: connect, text: pending === 'connect' ? 'Connecting…' : 'Connect' };

  return (
    <article className="detail-card host-detail" data-testid="host-detail" aria-labelledby="host-detail-name">
      <header className="host-detail-header">
        <div className="host-detail-title">
          <h2 id="host-detail-name" className="host-detail-name">
            {host.name}
          </h2>
          <span className="badge">{hostKindLabel(host.kind)}</span>
        </div>
        <div className="host-detail-actions">
          {host.kind === 'ssh' ? (
            <button
              type="button"
              className="button"
              data-testid={toggle.testId}
              disabled={busy}
              onClick={() => void toggle.act(host.name)}
            >
              {toggle.text}
            </button>
          ) : null}
          <button
            type="button"
            className="button button-primary"
            data-testid="run-preflight"
            disabled={busy}
            onClick={() => void runPreflight(host.name)}
          >
            {run.running ? 'Checking…' : 'Run preflight'}
          </button>
        </div>
      </header>

      <p className="host-detail-state">
        <span className={`status-dot status-${tone}`} aria-hidden="true" />
        <span className={`state-text-${tone}`} data-testid="host-detail-state" data-status={status}>
          {connectionStateText(host.state, now)}
        </span>
      </p>

      {shown ? <HostErrorPanel error={shown.error} {...(shown.action ? { action: shown.action } : {})} /> : null}

      <dl className="host-facts">
        <dt>{host.kind === 'ssh' ? 'Address' : 'Docker socket'}</dt>
        <dd className="cell-mono" data-testid="host-detail-address">
          {host.address}
        </dd>
        {host.kind === 'ssh' ? (
          <>
            <dt>Jump hosts</dt>
            <dd className={hops.length > 0 ? 'cell-mono' : 'muted'}>{hops.length > 0 ? hops.join(' → ') : 'direct'}</dd>
            <dt>Docker socket</dt>
            <dd className="cell-mono">{host.dockerSocket}</dd>
          </>
        ) : null}
        <dt>Run folders</dt>
        <dd className="cell-mono">{host.runRoot || '~/posttrain-runs'}</dd>
        {host.scheduler ? (
          <>
            <dt>Scheduler</dt>
            <dd className="cell-mono" data-testid="host-detail-scheduler">
              {schedulerText(host.scheduler)}
            </dd>
          </>
        ) : null}
        {host.source ? (
          <>
            <dt>Imported from</dt>
            <dd className="cell-mono">{host.source}</dd>
          </>
        ) : null}
      </dl>

      <PreflightPanel run={run} now={now} />

      <SetupPanel host={host} />

      <footer className="host-detail-footer">
        {confirmingRemove ? (
          <ConfirmRow
            label="Confirm removal"
            cancelTestId="remove-host-cancel"
            onCancel={() => setConfirmingRemove(false)}
            confirmTestId="remove-host-confirm"
            confirmText={pending === 'remove' ? 'Removing…' : 'Remove'}
            disabled={pending === 'remove'}
            onConfirm={() => void remove(host.name)}
          >
            Remove <strong>{host.name}</strong> from the workbench? Its profile is forgotten; nothing on the host
            changes.
          </ConfirmRow>
        ) : (
          <button
            type="button"
            className="button button-quiet button-danger-text"
            data-testid="remove-host"
            disabled={busy}
            onClick={() => setConfirmingRemove(true)}
          >
            Remove host…
          </button>
        )}
      </footer>
    </article>
  );
}
