import { useEffect, useRef, useState } from 'react';
import type { RunSummary } from '../../shared/contract';
import { useAppStore, useAppStoreApi } from '../store/store-context';
import { TerminalToolbar } from './live-terminal-tab';
import { StreamBinding, type StreamStatus } from './live-stream-binding';
import { TerminalSurface } from './terminal-surface';
import { registerForTestDriver, type DriverTerminal } from './test-driver';

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
  const client = useAppStoreApi().client;
  const container = useRef<HTMLDivElement>(null);
  const surfaceRef = useRef<TerminalSurface | null>(null);
  const [status, setStatus] = useState<StreamStatus>({ phase: 'connecting' });
  const [renderer, setRenderer] = useState('');
  const bindingRef = useRef<StreamBinding | null>(null);
  const connected = useAppStore((s) => s.app.connection.status === 'open');

  useEffect(() => {
    const element = container.current;
    if (!element) return undefined;
    const surface = new TerminalSurface(element, { writable: true, scrollback: 10_000 });
    surfaceRef.current = surface;
    setRenderer(surface.renderer);
    const driverEntry: { current: DriverTerminal | null } = { current: null };
    const binding = new StreamBinding({
      client,
      sink: surface.output,
      reopenAfterDrop: false,
      onStatus: (next) => {
        if (driverEntry.current) driverEntry.current.status = next;
        setStatus(next);
      },
      open: async () => {
        const { cols, rows } = surface.terminal;
        const result = await client.call('live.peekOpen', { id: run.id, cols, rows });
        if (result.ok) surface.terminal.focus();
        return result;
      },
    });
    // Keystrokes and size changes go to the shell; in order, since each is one message on one connection.
    const typed = surface.terminal.onData((data) => {
      const streamId = binding.currentStreamId;
      if (streamId) void client.call('live.input', { streamId, data });
    });
    const resized = surface.terminal.onResize(({ cols, rows }) => {
      const streamId = binding.currentStreamId;
      if (streamId) void client.call('live.resize', { streamId, cols, rows });
    });
    driverEntry.current = { surface, binding, status: { phase: 'connecting' } };
    const unregister = registerForTestDriver(window, 'peek', driverEntry.current);
    bindingRef.current = binding;
    void binding.start();
    return () => {
      bindingRef.current = null;
      unregister();
      typed.dispose();
      resized.dispose();
      binding.dispose();
      surface.dispose();
      surfaceRef.current = null;
    };
  }, [client, run.id]);

  // A dropped serve connection takes main's end of the stream with it; carry on once it is back.
  useEffect(() => {
    if (connected) bindingRef.current?.connectionRestored();
    else bindingRef.current?.connectionLost();
  }, [connected]);

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
