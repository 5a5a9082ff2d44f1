import { useState, type FormEvent } from 'react';
import type { RunSummary } from '../../shared/contract';
import { formatByteSize } from '../../shared/runs/duration';
import { publishRunPosition } from '../common/run-position';
import type { SkippedOutput, StreamStatus } from './live-stream-binding';
import type { TerminalSurface } from './terminal-surface';
import { testDriverCatchUp } from './test-driver';
import { useTerminalStream } from './use-terminal-stream';

/** Marker labels the toolbar lists (the newest); Replay has them all. */
const MAX_MARKERS = 100;

interface ShownMarker {
  readonly id: number;
  readonly label: string;
  readonly line: () => number;
}

/**
 * The run's terminal, live: read-only, with scrollback, copy and search. The xterm instance and its stream live in
 * an effect (not in React state); only the stream's status, what catch-up skipped and the recording's marker labels
 * reach React.
 */
export function LiveTerminalTab({
  run,
  selectTab,
}: {
  run: RunSummary;
  selectTab?: ((id: string) => void) | undefined;
}) {
  const [behind, setBehind] = useState(0);
  const [skipped, setSkipped] = useState<SkippedOutput | null>(null);
  const [markers, setMarkers] = useState<readonly ShownMarker[]>([]);
  const { container, surfaceRef, bindingRef, status, renderer } = useTerminalStream(
    'terminal',
    run.id,
    { writable: false },
    ({ surface, client, driver }) => {
      let markerIds = 0;
      return {
        options: {
          reopenAfterDrop: true,
          onBehind: setBehind,
          castEvents: {
            resize: (cols, rows) => surface.setSize(cols, rows),
            skipped: (info) => {
              if (driver.current) driver.current.skippedBytes = info.totalSkippedBytes;
              setSkipped(info);
            },
            marker: (label, _castTime) => {
              // An xterm marker follows its line as the buffer scrolls (and is gone when the line is).
              const mark = surface.terminal.registerMarker(0);
              const id = ++markerIds;
              setMarkers((list) => [...list, { id, label, line: () => mark?.line ?? -1 }].slice(-MAX_MARKERS));
            },
          },
          open: async (resume) => {
            const catchUp = testDriverCatchUp(window);
            const result = await client.call('live.open', {
              id: run.id,
              ...(resume ? { fromOffset: resume.fromOffset, source: resume.source } : {}),
              ...(catchUp === null ? {} : { catchUp }),
            });
            // The agent's TTY, so its lines wrap and its cursor moves land where they did for the agent.
            if (result.ok && result.data.cols && result.data.rows) surface.setSize(result.data.cols, result.data.rows);
            else if (result.ok && result.data.cols) surface.setCols(result.data.cols);
            return result;
          },
        },
      };
    },
  );

  return (
    <section className="live-terminal" data-testid="live-terminal" aria-label="Terminal">
      <TerminalToolbar surfaceRef={surfaceRef} status={status} renderer={renderer} behind={behind} />
      {skipped || markers.length > 0 ? (
        <CatchUpBar
          skipped={skipped}
          markers={markers}
          openReplay={() => {
            const t =
              skipped?.at ??
              (skipped?.castTime != null && run.startedAt ? run.startedAt + skipped.castTime * 1000 : null);
            if (t !== null) publishRunPosition(run.id, t, 'terminal', 'seek');
            selectTab?.('replay');
          }}
          scrollTo={(marker) => {
            const line = marker.line();
            if (line >= 0) surfaceRef.current?.terminal.scrollToLine(line);
          }}
        />
      ) : null}
      {status.phase === 'failed' ? (
        <button type="button" className="button" data-testid="live-retry" onClick={() => bindingRef.current?.retry()}>
          Try again
        </button>
      ) : null}
      <div className="live-terminal-screen" ref={container} data-testid="live-terminal-screen" />
    </section>
  );
}

/**
 * What catch-up skipped ("Skipped 31.9 MiB of fast output", with Replay at that moment) and the recording's markers.
 * Labels are the agent's text: rendered as text only.
 */
function CatchUpBar({
  skipped,
  markers,
  openReplay,
  scrollTo,
}: {
  skipped: SkippedOutput | null;
  markers: readonly ShownMarker[];
  openReplay: () => void;
  scrollTo: (marker: ShownMarker) => void;
}) {
  return (
    <div className="live-catchup">
      {skipped && skipped.totalSkippedBytes > 0 ? (
        <span
          className="live-skipped"
          data-testid="live-skipped"
          data-skipped-bytes={skipped.totalSkippedBytes}
          title="The agent wrote faster than this view can show; it jumped to the present. The host's recording keeps every byte."
        >
          Skipped {formatMiB(skipped.totalSkippedBytes)} of fast output{' '}
          <button type="button" className="replay-link" data-testid="live-skipped-replay" onClick={openReplay}>
            Open Replay at that moment
          </button>
        </span>
      ) : null}
      {markers.length > 0 ? (
        <label className="live-markers">
          Markers{' '}
          <select
            data-testid="live-markers"
            value=""
            onChange={(e) => {
              const marker = markers.find((m) => String(m.id) === e.target.value);
              if (marker) scrollTo(marker);
            }}
          >
            <option value="">{markers.length} in this view</option>
            {markers.map((m) => (
              <option key={m.id} value={m.id}>
                {m.label || '(no label)'}
              </option>
            ))}
          </select>
        </label>
      ) : null}
    </div>
  );
}

/** `31.9 MiB` (the issue's wording: skipped output is counted in MiB, to one decimal). */
export function formatMiB(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
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
