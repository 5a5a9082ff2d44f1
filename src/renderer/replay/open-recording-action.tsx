import { useEffect, useState } from 'react';
import { MAX_DROPPED_CAST_CHARS, type ReplayIndex } from '../../shared/contract-replay';
import type { AppErrorData } from '../../shared/errors';
import { formatDuration } from '../../shared/runs/duration';
import { PathImport } from '../shell/path-import';
import { useAppStore } from '../store/store-context';
import { useEvent } from '../store/use-query';
import { ReplayPlayer } from './replay-view';

/**
 * `#…&replay=file-…`: the recording `ptw replay FILE` opened for this page, beside the serve token in the fragment
 * (which never reaches a server; the token is taken out of it at start, the rest stays).
 */
export function recordingKeyFromHash(hash: string): string | null {
  const key = new URLSearchParams(hash.replace(/^#/, '')).get('replay');
  return key !== null && /^file-[0-9a-f]{16}$/.test(key) ? key : null;
}

/**
 * "Open recording…" in the Runs screen: any asciicast v2/v3 file (asciinema, Terminal-Bench, Harbor trials) played
 * in the indexed replay without a run. A path typed in (`ptw serve` has no native file dialog; the path is read on
 * the machine running the app). The Runs screen shows what it opened with {@link RecordingView}; the recording the
 * page URL names (`ptw replay FILE`) is opened at start.
 */
export function OpenRecordingAction({ onOpen }: { onOpen: (index: ReplayIndex) => void }) {
  const runCommand = useAppStore((s) => s.queries.run);
  const [fromUrl, setFromUrl] = useState<AppErrorData | null>(null);
  /** Opens in flight: a recording seen for the first time is indexed before the reply, with progress meanwhile. */
  const [opening, setOpening] = useState(0);
  const whileOpening = async <T,>(work: Promise<T>): Promise<T> => {
    setOpening((n) => n + 1);
    try {
      return await work;
    } finally {
      setOpening((n) => n - 1);
    }
  };

  useEffect(() => {
    const key = recordingKeyFromHash(window.location.hash);
    if (!key) return;
    void runCommand('replay.open', { id: key }).then((reply) => {
      if (reply.ok) onOpen(reply.data);
      else setFromUrl(reply.error);
    });
    // Once per page: the URL names one recording.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runCommand]);

  return (
    <>
      <PathImport
        testId="open-recording"
        openLabel="Open recording…"
        fieldLabel="An asciicast file (.cast, v2 or v3), a path on the machine running the app"
        placeholder="/data/recordings/session.cast"
        onImport={async (path) => {
          const reply = await whileOpening(runCommand('replay.openFile', { path }));
          if (!reply.ok) return reply.error;
          onOpen(reply.data);
          return null;
        }}
      >
        <RecordingDrop onOpen={onOpen} />
      </PathImport>
      {opening > 0 ? <RecordingIndexProgress /> : null}
      {fromUrl ? (
        <p className="inline-error" role="alert" data-testid="open-recording-url-error">
          Could not open the recording: {fromUrl.message}
        </p>
      ) : null}
    </>
  );
}

/** An opened recording: what the file is, then the player (which lists the lines it could not read, by number). */
export function RecordingView({ index, onClose }: { index: ReplayIndex; onClose: () => void }) {
  return (
    <section className="run-section recording" data-testid="recording" aria-label="Recording">
      <p className="muted">
        <span className="cell-mono selectable">{index.file}</span> · asciicast v{index.header.version} ·{' '}
        {index.header.cols}×{index.header.rows} · {formatDuration(index.duration)} · {index.eventCount} events
        {index.markers.length > 0 ? ` · ${index.markers.length} markers` : ''}{' '}
        <button type="button" className="button button-quiet" data-testid="recording-close" onClick={onClose}>
          Close
        </button>
      </p>
      <ReplayPlayer key={index.id} runId={index.id} runStartedAt={index.header.startedAt} />
    </section>
  );
}

/**
 * How far indexing of a recording opened by path has got (a 1 GB file takes a while the first time; later opens
 * use the index kept under PTW_HOME/replay-files/). Its key is only known from the reply, so any recording's.
 */
function RecordingIndexProgress() {
  const [progress, setProgress] = useState({ done: 0, total: 0 });
  useEvent('replay.indexProgress', (p) => {
    if (p.id.startsWith('file-') && !p.done) setProgress({ done: p.bytesDone, total: p.bytesTotal });
  });
  if (progress.total === 0) return null;
  return (
    <div className="replay-loading" data-testid="open-recording-progress">
      <span className="muted">Indexing the recording…</span>{' '}
      <progress className="replay-progress" value={progress.done} max={progress.total} aria-label="Indexing progress" />
    </div>
  );
}

/**
 * Or a file dropped here (or chosen with the browser's own picker, which serve mode has too): read in the page and
 * sent as text, so it works without a path in either shell; up to 8 MiB (bigger ones by path).
 */
function RecordingDrop({ onOpen }: { onOpen: (index: ReplayIndex) => void }) {
  const runCommand = useAppStore((s) => s.queries.run);
  const [over, setOver] = useState(false);
  const [status, setStatus] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });

  const open = async (file: File | undefined): Promise<void> => {
    if (!file) return;
    if (file.size > MAX_DROPPED_CAST_CHARS) {
      setStatus({
        busy: false,
        error: `${file.name} is larger than 8 MiB: open it by path above (or ptw replay FILE)`,
      });
      return;
    }
    setStatus({ busy: true, error: null });
    const reply = await runCommand('replay.openDropped', { name: file.name, text: await file.text() });
    if (!reply.ok) {
      setStatus({ busy: false, error: reply.error.message });
      return;
    }
    setStatus({ busy: false, error: null });
    onOpen(reply.data);
  };

  return (
    <div
      className={`recording-drop${over ? ' recording-drop-over' : ''}`}
      data-testid="open-recording-drop"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        void open(e.dataTransfer.files[0]);
      }}
    >
      <span className="muted">{status.busy ? 'Reading the recording…' : 'or drop a .cast file here, or'}</span>{' '}
      <label className="button button-quiet">
        choose one…
        <input
          type="file"
          accept=".cast,.json,.jsonl,application/x-asciicast"
          className="visually-hidden"
          data-testid="open-recording-file"
          onChange={(e) => void open(e.target.files?.[0])}
        />
      </label>
      {status.error ? (
        <p className="inline-error" role="alert" data-testid="open-recording-drop-error">
          {status.error}
        </p>
      ) : null}
    </div>
  );
}
