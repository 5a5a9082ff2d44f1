import { useCallback, useEffect, useState } from 'react';
import type { DatasetEntry, DatasetIndex, DatasetPage, DatasetRow } from '../../shared/contract-datasets';
import type { AppErrorData } from '../../shared/errors';
import { formatByteSize } from '../../shared/runs/duration';
import { useAppStore } from '../store/store-context';
import { cellFor, seekRowLabel } from './dataset-view-model';

/**
 * While the host still counts rows, a position over bytes reaches the part not counted yet: rows from the first
 * line start at or after it. Once the count passes that byte, they are numbered and the table jumps to them.
 */
export function ByteSeek({
  runId,
  entry,
  index,
  onPick,
  onSnap,
  onError,
}: {
  runId: string;
  entry: DatasetEntry;
  index: DatasetIndex;
  onPick: (row: DatasetRow) => void;
  onSnap: (row: number) => void;
  onError: (error: AppErrorData) => void;
}) {
  const runCommand = useAppStore((s) => s.queries.run);
  const [position, setPosition] = useState(0);
  const [seek, setSeek] = useState<DatasetPage | null>(null);

  const ask = useCallback(
    (byte: number) =>
      runCommand('datasets.page', { id: runId, path: entry.path, offset: 0, limit: 20, byteOffset: byte }),
    [runCommand, runId, entry.path],
  );
  const show = useCallback(
    (r: Awaited<ReturnType<typeof ask>>) => {
      if (!r.ok) return onError(r.error);
      const row = r.data.rows[0]?.row;
      if (row !== undefined && row !== null) {
        setSeek(null);
        onSnap(row);
      } else setSeek(r.data);
    },
    [onError, onSnap],
  );
  const load = (byte: number): void => void ask(byte).then(show);

  // Snap to row numbers once the count has passed the rows shown.
  const pending = seek?.byteStart;
  useEffect(() => {
    if (pending === undefined || index.indexedBytes <= pending) return;
    let cancelled = false;
    void ask(pending).then((r) => {
      if (!cancelled) show(r);
    });
    return () => {
      cancelled = true;
    };
  }, [pending, index.indexedBytes, ask, show]);

  return (
    <div className="datasets-seek" data-testid="datasets-seek">
      <label>
        Jump by position in the file (rows not counted yet have no number){' '}
        <input
          type="range"
          min={0}
          max={index.size}
          step={Math.max(1, Math.floor(index.size / 1000))}
          value={position}
          aria-label="Position in the file, in bytes"
          data-testid="datasets-seek-range"
          onChange={(e) => setPosition(Number(e.target.value))}
          onMouseUp={() => load(position)}
          onKeyUp={() => load(position)}
        />
      </label>{' '}
      <span className="muted">
        {formatByteSize(position)} of {formatByteSize(index.size)} (counted: {formatByteSize(index.indexedBytes)})
      </span>{' '}
      <button
        type="button"
        className="datasets-small-button"
        onClick={() => load(position)}
        data-testid="datasets-seek-go"
      >
        Go
      </button>
      {seek ? (
        <ul className="datasets-seek-rows" data-testid="datasets-seek-rows">
          {seek.rows.map((row) => (
            <li key={row.byte}>
              <button type="button" className="datasets-link" onClick={() => onPick(row)}>
                {seekRowLabel(row)}
              </button>{' '}
              <span>{cellFor(row, 'value', 0).slice(0, 200)}</span>
            </li>
          ))}
          {seek.rows.length === 0 ? <li className="muted">No line starts after that position.</li> : null}
        </ul>
      ) : null}
    </div>
  );
}
