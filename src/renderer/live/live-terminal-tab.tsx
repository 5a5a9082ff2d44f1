import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { RunSummary } from '../../shared/contract';
import { formatByteSize } from '../../shared/runs/duration';
import { useAppStore, useAppStoreApi } from '../store/store-context';
import { StreamBinding, type StreamStatus } from './live-stream-binding';
import { TerminalSurface } from './terminal-surface';
import { registerForTestDriver, type DriverTerminal } from './test-driver';

/**
 * The run's terminal, live: read-only, with scrollback, copy and search. The xterm instance and its stream live in
 * an effect (not in React state); only the stream's status reaches React.
 */
export function LiveTerminalTab({ run }: { run: RunSummary }) {
  const client = useAppStoreApi().client;
  const container = useRef<HTMLDivElement>(null);
  const surfaceRef = useRef<TerminalSurface | null>(null);
  const [status, setStatus] = useState<StreamStatus>({ phase: 'connecting' });
  const [renderer, setRenderer] = useState('');
  const [behind, setBehind] = useState(0);
  const bindingRef = useRef<StreamBinding | null>(null);
  const connected = useAppStore((s) => s.app.connection.status === 'open');

  useEffect(() => {
    const element = container.current;
    if (!element) return undefined;
    const surface = new TerminalSurface(element, { writable: false });
    surfaceRef.current = surface;
    setRenderer(surface.renderer);
    const driverEntry: { current: DriverTerminal | null } = { current: null };
    const binding = new StreamBinding({
      client,
      sink: surface.output,
      reopenAfterDrop: true,
      onBehind: setBehind,
      onStatus: (next) => {
        if (driverEntry.current) driverEntry.current.status = next;
        setStatus(next);
      },
      open: async (resume) => {
        const result = await client.call(
          'live.open',
          resume ? { id: run.id, fromOffset: resume.fromOffset, source: resume.source } : { id: run.id },
        );
        // The agent's TTY width, so its lines wrap where they wrapped for the agent.
        if (result.ok && result.data.cols) surface.setCols(result.data.cols);
        return result;
      },
    });
    driverEntry.current = { surface, binding, status: { phase: 'connecting' } };
    const unregister = registerForTestDriver(window, 'terminal', driverEntry.current);
    bindingRef.current = binding;
    void binding.start();
    return () => {
      bindingRef.current = null;
      unregister();
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
    <section className="live-terminal" data-testid="live-terminal" aria-label="Terminal">
      <TerminalToolbar surfaceRef={surfaceRef} status={status} renderer={renderer} behind={behind} />
      {status.phase === 'failed' ? (
        <button type="button" className="button" data-testid="live-retry" onClick={() => bindingRef.current?.retry()}>
          Try again
        </button>
      ) : null}
      <div className="live-terminal-screen" ref={container} data-testid="live-terminal-screen" />
    </section>
  );
}

export function TerminalToolbar({
  surfaceRef,
  status,
  renderer,
  behind = 0,
}: {
  surfaceRef: { readonly current: TerminalSurface | null };
  status: StreamStatus;
  renderer: string;
  /** Bytes of the host's recording not shown yet (a flood the viewer is still catching up with). */
  behind?: number;
}) {
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<boolean | null>(null);
  const [copied, setCopied] = useState(false);

  const find = (previous: boolean): void => {
    const surface = surfaceRef.current;
    if (!surface || query === '') return;
    setFound(previous ? surface.search.findPrevious(query) : surface.search.findNext(query));
  };
  const onSubmit = (e: FormEvent): void => {
    e.preventDefault();
    find(false);
  };
  const copy = (): void => {
    const text = surfaceRef.current?.terminal.getSelection() ?? '';
    if (!text) return;
    void navigator.clipboard.writeText(text).then(
      () => {
        setCopied(true);
        setTimeout(() => setCopied(false), 1_500);
      },
      () => setCopied(false),
    );
  };

  return (
    <div className="live-toolbar">
      <span className="live-status" data-testid="live-status" data-phase={status.phase}>
        {statusText(status)}
      </span>
      {behind > 0 ? (
        <span
          className="live-behind"
          data-testid="live-behind"
          title="The agent wrote faster than this view shows it; everything is recorded on the host and shown in order."
        >
          Catching up: {formatByteSize(behind)} of output not shown yet
        </span>
      ) : null}
      <form className="live-search" role="search" onSubmit={onSubmit}>
        <input
          type="search"
          className="live-search-input"
          placeholder="Search the terminal"
          aria-label="Search the terminal"
          data-testid="live-search-input"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setFound(null);
          }}
        />
        <button
          type="button"
          className="button button-quiet"
          data-testid="live-search-previous"
          onClick={() => find(true)}
        >
          Previous
        </button>
        <button type="submit" className="button button-quiet" data-testid="live-search-next">
          Next
        </button>
        {found === false ? (
          <span className="live-search-miss" data-testid="live-search-miss">
            No match
          </span>
        ) : null}
      </form>
      <button type="button" className="button button-quiet" data-testid="live-copy" onClick={copy}>
        {copied ? 'Copied' : 'Copy selection'}
      </button>
      <span className="live-renderer muted" data-testid="live-renderer" title="xterm.js renderer">
        {renderer}
      </span>
    </div>
  );
}

function statusText(status: StreamStatus): string {
  switch (status.phase) {
    case 'connecting':
      return 'Connecting…';
    case 'live':
      return status.source === 'mirror' ? 'Recorded terminal (run ended)' : 'Live';
    case 'reconnecting':
      return `Reconnecting… (${status.message})`;
    case 'ended':
      return status.reason === 'run-ended'
        ? 'The run has ended; this is its whole terminal.'
        : `Stream ended (${status.reason}${status.message ? `: ${status.message}` : ''})`;
    case 'failed':
      return `Could not open the terminal: ${status.error.message}`;
  }
}
