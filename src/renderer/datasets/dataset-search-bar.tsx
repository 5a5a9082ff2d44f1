import { useEffect, useRef, useState } from 'react';
import type { DatasetEntry, DatasetSearch } from '../../shared/contract-datasets';
import type { AppErrorData } from '../../shared/errors';
import { useAppStore } from '../store/store-context';
import { useEvent } from '../store/use-query';
import { percent } from './dataset-view-model';

/**
 * Search on the host, streamed: hits appear as the helper finds them (`datasets.searchProgress`, to this peer),
 * with how much of the file it has read, and a Cancel that stops it there.
 */
export function SearchBar({
  runId,
  entry,
  onPick,
  onError,
}: {
  runId: string;
  entry: DatasetEntry;
  onPick: (row: number) => void;
  onError: (error: AppErrorData) => void;
}) {
  const runCommand = useAppStore((s) => s.queries.run);
  const [query, setQuery] = useState('');
  const [search, setSearch] = useState<DatasetSearch | null>(null);
  const [live, setLive] = useState<{
    id: string;
    hits: DatasetSearch['hits'];
    total: number;
    scanned: number;
    size: number;
  } | null>(null);
  const current = useRef<string | null>(null);

  useEvent('datasets.searchProgress', (p) => {
    if (p.searchId !== current.current) return;
    setLive((prev) =>
      prev && prev.id === p.searchId
        ? {
            ...prev,
            hits: [...prev.hits, ...p.hits].slice(0, 200),
            total: p.total,
            scanned: p.scannedBytes,
            size: p.size,
          }
        : prev,
    );
  });
  // A search still running when the bar goes away is cancelled on the host.
  useEffect(
    () => () => {
      if (current.current) void runCommand('datasets.searchCancel', { searchId: current.current });
    },
    [runCommand],
  );

  const run = async (): Promise<void> => {
    if (current.current) void runCommand('datasets.searchCancel', { searchId: current.current });
    if (!query.trim()) {
      current.current = null;
      setLive(null);
      return setSearch(null);
    }
    const id = `s${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    current.current = id;
    setSearch(null);
    setLive({ id, hits: [], total: 0, scanned: 0, size: entry.size });
    const result = await runCommand('datasets.search', {
      id: runId,
      path: entry.path,
      query: query.trim(),
      limit: 200,
      searchId: id,
    });
    if (current.current !== id) return;
    current.current = null;
    setLive(null);
    if (!result.ok) return onError(result.error);
    setSearch(result.data);
  };
  const cancel = (): void => {
    if (current.current) void runCommand('datasets.searchCancel', { searchId: current.current });
  };

  const hits = live?.hits ?? search?.hits ?? [];
  return (
    <>
      <form
        className="datasets-search"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <input
          type="search"
          value={query}
          placeholder="Search rows (on the host)"
          aria-label="Search rows"
          data-testid="datasets-search-input"
          onChange={(e) => setQuery(e.target.value)}
        />
        <button type="submit" disabled={!!live}>
          {live ? 'Searching…' : 'Search'}
        </button>
        {live ? (
          <>
            <span className="muted" data-testid="datasets-search-progress">
              {live.total.toLocaleString()} found · {percent(live.scanned, live.size || 1)} read
            </span>
            <button type="button" onClick={cancel} data-testid="datasets-search-cancel">
              Cancel
            </button>
          </>
        ) : null}
        {search ? (
          <span className="muted" data-testid="datasets-search-count">
            {search.total} row{search.total === 1 ? '' : 's'} match
            {search.cancelled ? ' (cancelled: part of the file)' : ''}
          </span>
        ) : null}
      </form>
      {hits.length ? (
        <ul className="datasets-search-hits" data-testid="datasets-search-hits">
          {hits.map((h) => (
            <li key={h.row}>
              <button type="button" className="datasets-link" onClick={() => onPick(h.row)}>
                row {h.row}
              </button>{' '}
              <span>{h.snippet.slice(0, h.matchStart)}</span>
              <mark>{h.snippet.slice(h.matchStart, h.matchEnd)}</mark>
              <span>{h.snippet.slice(h.matchEnd)}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
