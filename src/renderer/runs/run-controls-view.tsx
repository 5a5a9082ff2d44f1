import { useState, type FormEvent } from 'react';
import type { RunSummary } from '../../shared/contract';
import { deadlineOnLocalClock, hostNow } from '../../shared/monitor/host-clock';
import { formatDuration } from '../../shared/runs/duration';
import { FormField } from '../shell/form-field';
import { useNow } from '../shell/use-now';
import { useAppStore } from '../store/store-context';
import type { RunAction } from '../store/slices/runs-slice';
import { extendedDeadline, parseExtension } from './run-extend';
import { runControls } from '../common/run-status-text';
import { ConfirmRow } from '../common/confirm-row';

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Stop, Kill and Extend, each behind a confirmation; only those the run's status allows are shown. */
export function RunControlsView({ run }: { run: RunSummary }) {
  const pending = useAppStore((s) => s.runs.pending.get(run.id));
  const stop = useAppStore((s) => s.runs.stop);
  const kill = useAppStore((s) => s.runs.kill);
  const extend = useAppStore((s) => s.runs.extend);
  const [confirming, setConfirming] = useState<RunAction | null>(null);
  const controls = runControls(run.status);
  // A control that no longer applies (the run moved on) closes its confirmation by itself.
  const open = confirming !== null && controls[confirming] ? confirming : null;

  if (!controls.stop && !controls.kill && !controls.extend) return null;

  const finish = (result: { ok: boolean }) => {
    if (result.ok) setConfirming(null);
  };

  return (
    <div className="run-controls" data-testid="run-controls">
      {open === null ? (
        <div className="run-controls-buttons">
          {actionButtons.map(({ action, label, className }) =>
            controls[action] ? (
              <button
                key={action}
                type="button"
                className={className}
                data-testid={`run-${action}`}
                disabled={pending !== undefined}
                onClick={() => setConfirming(action)}
              >
                {label}
              </button>
            ) : null,
          )}
          {pending ? <span className="muted">{pendingText[pending]}</span> : null}
        </div>
      ) : open === 'extend' ? (
        <ExtendConfirm
          run={run}
          busy={pending === 'extend'}
          onCancel={() => setConfirming(null)}
          onExtend={async (seconds) => finish(await extend(run.id, seconds))}
        />
      ) : (
        <ConfirmRow
          label={open === 'stop' ? 'Confirm stop' : 'Confirm kill'}
          cancelTestId="run-confirm-cancel"
          onCancel={() => setConfirming(null)}
          confirmTestId={open === 'stop' ? 'run-stop-confirm' : 'run-kill-confirm'}
          confirmText={
            open === 'stop' ? (pending === 'stop' ? 'Stopping…' : 'Stop') : pending === 'kill' ? 'Killing…' : 'Kill'
          }
          disabled={pending !== undefined}
          onConfirm={async () => finish(await (open === 'stop' ? stop(run.id) : kill(run.id)))}
        >
          {open === 'stop' ? (
            <>
              Stop the agent now? It gets SIGTERM, then SIGKILL after the grace period; whatever is in{' '}
              <code>final_model/</code> is evaluated.
            </>
          ) : (
            <>
              Kill the agent at once (SIGKILL, no grace period)? Work it has not saved to <code>final_model/</code> is
              lost.
            </>
          )}
        </ConfirmRow>
      )}
    </div>
  );
}

/** The buttons in the order they stand; each opens its confirmation. */
const actionButtons: { action: RunAction; label: string; className: string }[] = [
  { action: 'extend', label: 'Extend…', className: 'button' },
  { action: 'stop', label: 'Stop…', className: 'button' },
  { action: 'kill', label: 'Kill…', className: 'button button-quiet button-danger-text' },
];

const pendingText: Record<RunAction, string> = {
  stop: 'Stopping…',
  kill: 'Killing…',
  extend: 'Extending…',
};

function ExtendConfirm({
  run,
  busy,
  onCancel,
  onExtend,
}: {
  run: RunSummary;
  busy: boolean;
  onCancel: () => void;
  onExtend: (seconds: number) => Promise<void>;
}) {
  const [text, setText] = useState('1h');
  const [submitted, setSubmitted] = useState(false);
  // Only for the preview of the new deadline when the host has not reported one yet.
  const now = useNow(5_000);
  // The deadline is on the host's clock; the reader wants it on theirs.
  const offset = useAppStore((s) => s.monitor.runs.get(run.id)?.hostClockOffsetMs ?? null);
  const check = parseExtension(text);
  const showError = submitted && !check.ok;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (check.ok) void onExtend(check.seconds);
  };

  return (
    <form className="extend-row" aria-label="Extend the budget" noValidate onSubmit={submit}>
      <FormField
        testId="run-extend-duration"
        errorTestId="run-extend-error"
        label="Add to the budget"
        className="extend-field"
        error={showError && !check.ok ? check.message : undefined}
        hint={
          check.ok
            ? `+${formatDuration(check.seconds)}: the run stops at ${timeFormat.format(deadlineOnLocalClock(extendedDeadline(run.deadline, check.seconds, hostNow(now, offset)), offset))}`
            : 'e.g. 30m, 1h, 2h30m'
        }
      >
        {(props) => (
          <input
            {...props}
            className="input input-mono"
            value={text}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setText(e.target.value)}
          />
        )}
      </FormField>
      <span className="confirm-buttons">
        <button type="button" className="button" data-testid="run-extend-cancel" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" data-testid="run-extend-confirm" disabled={busy}>
          {busy ? 'Extending…' : 'Extend'}
        </button>
      </span>
    </form>
  );
}
