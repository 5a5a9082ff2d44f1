import { useState } from 'react';
import type { RunSummary } from '../../shared/contract';
import { TerminalToolbar } from './live-terminal-tab';
import { useTerminalStream } from './use-terminal-stream';

/**
 * An interactive shell inside the running agent's sandbox (Docker exec with a TTY). Opening it is an intervention:
 * the host's supervisor records it in the run before the shell starts, and the tab says plainly that keystrokes go
 * into the agent's sandbox.
 */
export function PeekShellTab({ run }: { run: RunSummary }) {
  const [open, setOpen] = useState(false);
  if (!open) {
    return (
      <section className="live-peek-intro" data-testid="peek-intro">
        <p>
          A shell inside the agent’s running sandbox, as the agent’s user. What you type runs there and can change the
          run’s outcome; opening it is recorded in the run as an intervention.
        </p>
        <button type="button" className="button button-danger" data-testid="peek-open" onClick={() => setOpen(true)}>
          Open a shell in the sandbox
        </button>
      </section>
    );
  }
  return <PeekShellTerminal run={run} onClosed={() => setOpen(false)} />;
}

function PeekShellTerminal({ run, onClosed }: { run: RunSummary; onClosed: () => void }) {
  const { container, surfaceRef, status, renderer } = useTerminalStream(
    'peek',
    run.id,
    { writable: true, scrollback: 10_000 },
    ({ surface, client }) => ({
      options: {
        reopenAfterDrop: false,
        open: async () => {
          const { cols, rows } = surface.terminal;
          const result = await client.call('live.peekOpen', { id: run.id, cols, rows });
          if (result.ok) surface.terminal.focus();
          return result;
        },
      },
      // Keystrokes and size changes go to the shell; in order, since each is one message on one connection.
      attach: (binding) => {
        const typed = surface.terminal.onData((data) => {
          const streamId = binding.currentStreamId;
          if (streamId) void client.call('live.input', { streamId, data });
        });
        const resized = surface.terminal.onResize(({ cols, rows }) => {
          const streamId = binding.currentStreamId;
          if (streamId) void client.call('live.resize', { streamId, cols, rows });
        });
        return () => {
          typed.dispose();
          resized.dispose();
        };
      },
    }),
  );

  return (
    <section className="live-terminal live-peek" data-testid="peek-shell" aria-label="Peek shell">
      <p className="live-peek-banner" role="note" data-testid="peek-banner">
        <strong>Peek shell — you are typing into the agent’s sandbox.</strong> Recorded in the run as an intervention.
      </p>
      <TerminalToolbar surfaceRef={surfaceRef} status={status} renderer={renderer} />
      <div className="live-terminal-screen" ref={container} data-testid="peek-screen" />
      {status.phase === 'ended' || status.phase === 'failed' ? (
        <button type="button" className="button" data-testid="peek-close" onClick={onClosed}>
          Close
        </button>
      ) : null}
    </section>
  );
}
