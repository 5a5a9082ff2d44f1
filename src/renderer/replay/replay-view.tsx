import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import type { ReplayHit, ReplayIndex } from '../../shared/contract-replay';
import type { AppErrorData } from '../../shared/errors';
import { markerTicks } from '../../shared/replay/replay-seek';
import type { RunTabProps } from '../common/run-tabs';
import { currentRunPosition, publishRunPosition, subscribeRunPosition } from '../common/run-position';
import { useAppStore } from '../store/store-context';
import { useEvent, useQuery } from '../store/use-query';
import { ReplayController, type ReplayState } from './replay-controller';
import { registerReplayDriver, ReplayTerminal } from './replay-terminal';
import { ProblemList } from '../shell/problem-list';

/**
 * The Replay tab: the run's recorded terminal with play/pause, speed, idle-time limit, a scrubber with markers,
 * and search over the whole output. It follows the run position the other views publish (a step picked in the
 * Steps tab seeks here) and publishes its own.
 */

export const replaySpeeds = [0.5, 1, 2, 4, 8, 16] as const;
export const replayIdleLimits = [null, 0.5, 1, 2, 5, 30] as const;

/** `h:mm:ss` or `m:ss`, from seconds. */
export function formatReplayTime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export function ReplayTab({ run }: RunTabProps) {
  return <ReplayPlayer key={run.id} runId={run.id} runStartedAt={run.startedAt ?? null} />;
}

/** Markers listed beside the player until "Show all" is pressed. */
const MARKERS_SHOWN = 200;

type Load =
  | { status: 'loading'; done: number; total: number }
  | { status: 'error'; error: AppErrorData }
  | { status: 'ready'; index: ReplayIndex };

/**
 * A replay of one run's cast. `onController` hands the controller to an embedding view (see
 * {@link ReplayController}: `seek(ms)`, `onTime`); it is called with null when the player goes away.
 */
export function ReplayPlayer({
  runId,
  runStartedAt,
  onController,
}: {
  runId: string;
  /** Epoch ms the run started, used for the shared run position when the cast has no timestamp. */
  runStartedAt: number | null;
  onController?: (controller: ReplayController | null) => void;
}) {
  const opened = useQuery('replay.open', { id: runId });
  const [progress, setProgress] = useState({ done: 0, total: 0 });
  useEvent('replay.indexProgress', (p) => {
    if (p.id === runId && !p.done) setProgress({ done: p.bytesDone, total: p.bytesTotal });
  });
  const load: Load = opened.loading
    ? { status: 'loading', ...progress }
    : opened.error || !opened.data
      ? { status: 'error', error: opened.error ?? { code: 'INTERNAL', message: 'No index', retryable: true } }
      : { status: 'ready', index: opened.data };

  if (load.status === 'loading') {
    return (
      <div className="replay-loading" data-testid="replay-loading">
        <p className="muted">Indexing the terminal recording…</p>
        {load.total > 0 ? (
          <progress className="replay-progress" value={load.done} max={load.total} aria-label="Indexing progress" />
        ) : null}
      </div>
    );
  }
  if (load.status === 'error') {
    return (
      <div className="inline-error" role="alert" data-testid="replay-error">
        <span>
          <strong>The terminal recording cannot be replayed.</strong> {load.error.message}
        </span>
        <button
          type="button"
          className="button"
          onClick={() => {
            setProgress({ done: 0, total: 0 });
            void opened.reload();
          }}
        >
          Retry
        </button>
      </div>
    );
  }
  return (
    <ReplayReady
      key={`${runId}:${load.index.bytes}`}
      runId={runId}
      index={load.index}
      startedAt={load.index.header.startedAt ?? runStartedAt}
      {...(onController ? { onController } : {})}
    />
  );
}

function ReplayReady({
  runId,
  index,
  startedAt,
  onController,
}: {
  runId: string;
  index: ReplayIndex;
  startedAt: number | null;
  onController?: (controller: ReplayController | null) => void;
}) {
  const runCommand = useAppStore((s) => s.queries.run);
  // The file's own name (a run's is terminal.cast; an opened recording keeps its name).
  const castName = index.file.split(/[\\/]/).pop() || 'terminal.cast';
  const screenRef = useRef<HTMLDivElement>(null);
  const [controller, setController] = useState<ReplayController | null>(null);
  const [timeMs, setTimeMs] = useState(0);
  const [state, setState] = useState<ReplayState | null>(null);
  // A 10-hour session can hold thousands of markers: drawn as at most a few hundred ticks and, until asked, listed
  // as the first MARKERS_SHOWN (rendering them all made opening the tab take a second).
  const ticks = useMemo(() => markerTicks(index.markers, index.duration), [index]);
  const [allMarkers, setAllMarkers] = useState(false);
  // A ref, so that an embedding view passing a new function each render does not restart the player.
  const onControllerRef = useRef(onController);
  useEffect(() => {
    onControllerRef.current = onController;
  });

  useEffect(() => {
    const container = screenRef.current;
    if (!container) return;
    const term = new ReplayTerminal(container, { cols: index.header.cols, rows: index.header.rows });
    const ctl = new ReplayController(
      index,
      {
        segment: async (n) => {
          const result = await runCommand('replay.segment', { id: runId, n });
          if (!result.ok) throw new Error(result.error.message);
          return result.data;
        },
      },
      term.terminal,
    );
    // The time shown is updated at most ~10 times a second; the terminal itself is written directly.
    let shown = 0;
    let lastPublished = 0;
    const stopTime = ctl.onTime((ms) => {
      const now = performance.now();
      if (now - shown > 100 || !ctl.state.playing) {
        shown = now;
        setTimeMs(ms);
      }
      if (startedAt !== null && ctl.state.playing && now - lastPublished > 250) {
        lastPublished = now;
        publishRunPosition(runId, startedAt + ms, 'replay', 'play');
      }
    });
    const stopState = ctl.onState(setState);
    const stopFollow = subscribeRunPosition(runId, (p) => {
      if (p.source === 'replay' || startedAt === null) return;
      if (p.reason === 'seek') {
        ctl.pause();
        void ctl.seek(p.t - startedAt);
      }
    });
    let firstShown = false;
    const unregister = registerReplayDriver(window, {
      screen: () => term.screenText(),
      timeMs: () => ctl.timeMs,
      seek: (ms) => ctl.seek(ms),
      shown: () => firstShown,
    });
    const start = currentRunPosition(runId);
    void ctl.seek(start && startedAt !== null ? start.t - startedAt : 0).then(() => {
      firstShown = true;
    });
    setState(ctl.state);
    setController(ctl);
    onControllerRef.current?.(ctl);
    return () => {
      onControllerRef.current?.(null);
      unregister();
      stopFollow();
      stopState();
      stopTime();
      ctl.dispose();
      term.dispose();
    };
  }, [runCommand, runId, index, startedAt]);

  const seek = (ms: number) => {
    if (!controller) return;
    setTimeMs(ms);
    void controller.seek(ms);
    if (startedAt !== null) publishRunPosition(runId, startedAt + ms, 'replay', 'seek');
  };

  const durationMs = index.duration * 1000;
  return (
    <div className="replay" data-testid="replay">
      <div className="replay-toolbar">
        <button
          type="button"
          className="button"
          data-testid="replay-play"
          disabled={!controller}
          onClick={() => (state?.playing ? controller?.pause() : controller?.play())}
        >
          {state?.playing ? 'Pause' : 'Play'}
        </button>
        <label className="replay-control">
          Speed
          <select
            data-testid="replay-speed"
            value={String(state?.speed ?? 1)}
            onChange={(e) => controller?.setSpeed(Number(e.target.value))}
          >
            {replaySpeeds.map((s) => (
              <option key={s} value={String(s)}>
                {s}×
              </option>
            ))}
          </select>
        </label>
        <label className="replay-control">
          Idle limit
          <select
            data-testid="replay-idle"
            value={state?.idleLimit === null || state === null ? 'off' : String(state.idleLimit)}
            onChange={(e) => controller?.setIdleLimit(e.target.value === 'off' ? null : Number(e.target.value))}
          >
            {[...new Set([...replayIdleLimits, state?.idleLimit ?? null])].map((s) => (
              <option key={String(s)} value={s === null ? 'off' : String(s)}>
                {s === null ? 'off' : `${s} s`}
              </option>
            ))}
          </select>
        </label>
        <span className="replay-time cell-mono" data-testid="replay-time">
          {formatReplayTime(timeMs / 1000)} / {formatReplayTime(index.duration)}
        </span>
      </div>

      <div className="replay-scrubber">
        <input
          type="range"
          className="replay-range"
          data-testid="replay-scrubber"
          aria-label="Position in the recording"
          min={0}
          max={Math.max(1, Math.round(durationMs))}
          step={100}
          value={Math.round(timeMs)}
          onChange={(e) => seek(Number(e.target.value))}
        />
        <div className="replay-marker-track" aria-hidden="true">
          {ticks.map((tick, i) => (
            <span
              key={i}
              className="replay-marker-tick"
              style={{ left: `${tick.percent}%` }}
              title={tick.count > 1 ? `${tick.marker.label} (+${tick.count - 1} more)` : tick.marker.label}
            />
          ))}
        </div>
      </div>

      <div className="replay-screen" ref={screenRef} data-testid="replay-screen" />

      <div className="replay-side">
        {index.markers.length > 0 ? (
          <section className="replay-markers" aria-label="Markers">
            <h4 className="subsection-title">Markers</h4>
            <ul data-testid="replay-markers">
              {(allMarkers ? index.markers : index.markers.slice(0, MARKERS_SHOWN)).map((m, i) => (
                <li key={i}>
                  <button type="button" className="replay-link" onClick={() => seek(m.t * 1000)}>
                    <span className="cell-mono muted">{formatReplayTime(m.t)}</span> {m.label}
                  </button>
                </li>
              ))}
            </ul>
            {!allMarkers && index.markers.length > MARKERS_SHOWN ? (
              <button
                type="button"
                className="button button-quiet"
                data-testid="replay-markers-all"
                onClick={() => setAllMarkers(true)}
              >
                Show all {index.markers.length} markers
              </button>
            ) : null}
          </section>
        ) : null}
        <ReplaySearch runId={runId} onPick={(hit) => seek(hit.t * 1000)} />
      </div>

      {index.problemCount > 0 ? (
        <ProblemList
          testId="replay-problems"
          title={
            index.problemCount === 1
              ? '1 line of the recording could not be read (skipped)'
              : `${index.problemCount} lines of the recording could not be read (skipped)`
          }
          problems={index.problems.map((p) => ({ where: `${castName}:${p.line}`, message: p.message }))}
        />
      ) : null}
    </div>
  );
}

function ReplaySearch({ runId, onPick }: { runId: string; onPick: (hit: ReplayHit) => void }) {
  const runCommand = useAppStore((s) => s.queries.run);
  const [query, setQuery] = useState('');
  const [result, setResult] = useState<
    | { status: 'idle' }
    | { status: 'searching' }
    | { status: 'done'; hits: ReplayHit[]; truncated: boolean; query: string }
    | { status: 'error'; message: string }
  >({ status: 'idle' });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const q = query.trim();
    if (!q) return;
    setResult({ status: 'searching' });
    const r = await runCommand('replay.search', { id: runId, query: q, limit: 200 });
    setResult(r.ok ? { status: 'done', query: q, ...r.data } : { status: 'error', message: r.error.message });
  };

  return (
    <section className="replay-search" aria-label="Search the output">
      <form className="replay-search-form" onSubmit={(e) => void submit(e)}>
        <input
          type="search"
          className="input"
          data-testid="replay-search-input"
          placeholder="Search the whole output"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <button type="submit" className="button" data-testid="replay-search-go">
          Search
        </button>
      </form>
      {result.status === 'searching' ? <p className="muted">Searching…</p> : null}
      {result.status === 'error' ? (
        <p className="inline-error" role="alert">
          {result.message}
        </p>
      ) : null}
      {result.status === 'done' ? (
        <>
          <p className="muted" data-testid="replay-hit-count">
            {result.hits.length === 0
              ? `No match for “${result.query}”.`
              : `${result.hits.length}${result.truncated ? '+' : ''} ${result.hits.length === 1 ? 'match' : 'matches'}`}
          </p>
          <ol className="replay-hits" data-testid="replay-hits">
            {result.hits.map((hit, i) => (
              <li key={i}>
                <button type="button" className="replay-hit" data-testid="replay-hit" onClick={() => onPick(hit)}>
                  <span className="cell-mono muted">{formatReplayTime(hit.t)}</span>{' '}
                  <span className="replay-hit-text cell-mono">
                    {hit.excerpt.slice(0, hit.matchStart)}
                    <mark>{hit.excerpt.slice(hit.matchStart, hit.matchStart + hit.matchLength)}</mark>
                    {hit.excerpt.slice(hit.matchStart + hit.matchLength)}
                  </span>
                </button>
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </section>
  );
}
