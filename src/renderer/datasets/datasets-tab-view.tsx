import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type {
  DatasetEntry,
  DatasetIndex,
  DatasetIndexStatus,
  DatasetList,
  DatasetOverlap,
  DatasetPage,
  DatasetRow,
  DatasetSearch,
  DatasetStats,
} from '../../shared/contract-datasets';
import type { AppErrorData } from '../../shared/errors';
import { formatByteSize } from '../../shared/runs/duration';
import type { RunTabProps } from '../runs/run-tabs';
import { useAppStoreApi } from '../store/store-context';
import { DatasetRowDetail, OverlapHitView } from './dataset-row-detail';
import {
  cellFor,
  formatLabel,
  hostComputes,
  indexMoving,
  PAGE_ROWS,
  pageable,
  pagesToFetch,
  percent,
  rowCountLabel,
  runBenchmark,
  seekRowLabel,
  shortPages,
  tableColumns,
} from './dataset-view-model';
import './datasets-progress.css';
import { LengthHistogram } from './length-histogram';

const ROW_HEIGHT = 28;

/**
 * The Datasets tab: datasets the agent wrote in its workspace, read where they live (the GPU host). A file list; a
 * virtualized table that fetches pages of rows as it scrolls; row detail with chat rendering; search, field stats,
 * the length histogram, duplicates and overlap with the benchmark's test set, all computed on the host. Every row
 * is untrusted and rendered as React text, never HTML.
 */
export function DatasetsTabView({ run, detail }: RunTabProps) {
  const client = useAppStoreApi().client;
  const [list, setList] = useState<DatasetList | null>(null);
  const [error, setError] = useState<AppErrorData | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let cancelled = false;
    void client.call('datasets.list', { id: run.id }).then((result) => {
      if (cancelled) return;
      if (!result.ok) return setError(result.error);
      setError(null);
      setList(result.data);
      setSelected((current) => current ?? result.data.datasets.find(pageable)?.path ?? null);
    });
    return () => {
      cancelled = true;
    };
  }, [client, run.id, reload]);

  const entry = list?.datasets.find((d) => d.path === selected) ?? null;
  return (
    <div className="datasets-tab" data-testid="datasets-tab">
      <aside className="datasets-files" aria-label="Datasets in the workspace">
        <div className="datasets-files-head">
          <strong>Workspace datasets</strong>
          <button type="button" className="datasets-small-button" onClick={() => setReload((n) => n + 1)}>
            Refresh
          </button>
        </div>
        {error ? (
          <p className="inline-error" role="alert" data-testid="datasets-error">
            {error.message}
          </p>
        ) : null}
        {!list && !error ? <p className="muted">Looking in the workspace on the host…</p> : null}
        {list && list.datasets.length === 0 ? (
          <p className="muted" data-testid="datasets-empty">
            No datasets (JSONL, JSON, CSV, Parquet, Hugging Face save_to_disk) in {list.workspace}.
          </p>
        ) : null}
        <ul className="datasets-file-list">
          {list?.datasets.map((d) => (
            <li key={d.path}>
              <button
                type="button"
                className={`datasets-file${d.path === selected ? ' datasets-file-selected' : ''}`}
                data-testid={`datasets-file-${d.path}`}
                onClick={() => setSelected(d.path)}
                title={d.path}
              >
                <span className="datasets-file-name">{d.path}</span>
                <span className="muted">
                  {formatLabel(d)} · {formatByteSize(d.size)}
                  {d.problems ? ` · ${d.problems} broken` : ''}
                </span>
              </button>
            </li>
          ))}
        </ul>
        {list?.truncated ? <p className="muted">The workspace is large: the listing stopped early.</p> : null}
      </aside>
      {entry ? (
        <DatasetView
          key={`${run.id}:${entry.path}`}
          runId={run.id}
          entry={entry}
          benchmark={runBenchmark(detail?.spec)}
        />
      ) : (
        <div className="datasets-main muted">Pick a dataset.</div>
      )}
    </div>
  );
}

type Panel = 'rows' | 'stats' | 'overlap';

function DatasetView({ runId, entry, benchmark }: { runId: string; entry: DatasetEntry; benchmark: string }) {
  const [panel, setPanel] = useState<Panel>('rows');
  if (!pageable(entry)) {
    return (
      <div className="datasets-main" data-testid="datasets-hf">
        <h3 className="datasets-title">{entry.path}</h3>
        <p>
          A Hugging Face <code>save_to_disk</code> folder
          {entry.rows === null ? '' : ` with ${entry.rows.toLocaleString()} rows (from dataset_info.json)`}. Its Arrow
          files are listed here; their rows are not read.
        </p>
        {entry.columns ? <p>Columns: {entry.columns.join(', ')}</p> : null}
        <ul>
          {entry.arrowFiles?.map((f) => (
            <li key={f.name}>
              {f.name} · {formatByteSize(f.size)}
            </li>
          ))}
        </ul>
        {entry.problem ? <p className="inline-error">{entry.problem}</p> : null}
      </div>
    );
  }
  const computes = hostComputes(entry);
  return (
    <div className="datasets-main">
      <div className="datasets-toolbar">
        <h3 className="datasets-title">{entry.path}</h3>
        <div className="tab-bar" role="tablist" aria-label="Dataset views">
          {(['rows', 'stats', 'overlap'] as const).map((p) => (
            <button
              key={p}
              type="button"
              role="tab"
              aria-selected={panel === p}
              className={`tab${panel === p ? ' tab-selected' : ''}`}
              data-testid={`datasets-panel-${p}`}
              disabled={p !== 'rows' && !computes}
              title={p !== 'rows' && !computes ? 'Not available for this format' : undefined}
              onClick={() => setPanel(p)}
            >
              {p === 'rows' ? 'Rows' : p === 'stats' ? 'Stats & duplicates' : 'Test-set overlap'}
            </button>
          ))}
        </div>
      </div>
      {panel === 'rows' ? <RowsPanel runId={runId} entry={entry} /> : null}
      {panel === 'stats' ? <StatsPanel runId={runId} entry={entry} /> : null}
      {panel === 'overlap' ? <OverlapPanel runId={runId} entry={entry} benchmark={benchmark} /> : null}
    </div>
  );
}

function RowsPanel({ runId, entry }: { runId: string; entry: DatasetEntry }) {
  const client = useAppStoreApi().client;
  const [pages, setPages] = useState<ReadonlyMap<number, DatasetPage>>(new Map());
  const [first, setFirst] = useState<DatasetPage | null>(null);
  const [status, setStatus] = useState<DatasetIndexStatus | null>(null);
  const [error, setError] = useState<AppErrorData | null>(null);
  const [selectedRow, setSelectedRow] = useState<number | null>(null);
  const [seekRow, setSeekRow] = useState<DatasetRow | null>(null);
  const requested = useRef(new Set<number>());
  const scrollRef = useRef<HTMLDivElement>(null);

  const fetchPage = useCallback(
    async (p: number) => {
      requested.current.add(p);
      const result = await client.call('datasets.page', {
        id: runId,
        path: entry.path,
        offset: p * PAGE_ROWS,
        limit: PAGE_ROWS,
      });
      if (!result.ok) {
        requested.current.delete(p);
        return setError(result.error);
      }
      setPages((prev) => new Map(prev).set(p, result.data));
      if (p === 0) setFirst(result.data);
    },
    [client, runId, entry.path],
  );

  useEffect(() => {
    void fetchPage(0);
  }, [fetchPage]);

  // While the host counts (and then checks) rows, its progress is asked for twice a second.
  const moving = indexMoving(status?.index ?? first?.index);
  useEffect(() => {
    if (!moving) return;
    let cancelled = false;
    const timer = setInterval(() => {
      void client.call('datasets.indexStatus', { id: runId, path: entry.path }).then((r) => {
        if (!cancelled && r.ok) setStatus(r.data);
      });
    }, 500);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [client, runId, entry.path, moving]);

  const index = status?.index ?? first?.index;
  const total = index?.complete ? index.rows : Math.max(first?.total ?? 0, index?.rows ?? 0);
  // Pages read while the index counted may have stopped short of rows it has counted since: read again.
  useEffect(() => {
    for (const p of shortPages(pages, total)) requested.current.delete(p);
  }, [pages, total]);

  const rowAt = useCallback(
    (i: number): DatasetRow | undefined => pages.get(Math.floor(i / PAGE_ROWS))?.rows[i % PAGE_ROWS],
    [pages],
  );
  const columns = useMemo(() => tableColumns(first?.rows ?? [], first?.columns), [first]);
  // The virtualizer's functions cannot be memoized by the React Compiler; this component is not compiled.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 20,
  });
  const items = virtualizer.getVirtualItems();
  const firstVisible = items[0]?.index ?? 0;
  const lastVisible = items[items.length - 1]?.index ?? -1;
  useEffect(() => {
    for (const p of pagesToFetch(firstVisible, lastVisible, requested.current)) void fetchPage(p);
  }, [firstVisible, lastVisible, fetchPage, pages]);

  const goTo = useCallback(
    (row: number): void => {
      setSelectedRow(row);
      virtualizer.scrollToIndex(row, { align: 'center' });
    },
    [virtualizer],
  );

  const problems = status ?? first;
  const selected = seekRow ?? (selectedRow === null ? undefined : rowAt(selectedRow));
  return (
    <div className="datasets-rows">
      {error ? (
        <p className="inline-error" role="alert" data-testid="datasets-page-error">
          {error.message}
        </p>
      ) : null}
      {index?.error ? (
        <p className="inline-error" role="alert" data-testid="datasets-index-error">
          Counting rows on the host stopped: {index.error}
        </p>
      ) : null}
      {problems && problems.problemCount > 0 ? (
        <details className="datasets-problems" data-testid="datasets-problems">
          <summary>
            {problems.problemCount} broken row{problems.problemCount === 1 ? '' : 's'} (the rest are shown)
          </summary>
          <ul>
            {problems.problems.map((p, i) => (
              <li key={i}>
                <button type="button" className="datasets-link" onClick={() => p.row !== null && goTo(p.row)}>
                  {p.line === null ? `row ${p.row}` : `line ${p.line}`}
                </button>
                : {p.message}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      {hostComputes(entry) ? <SearchBar runId={runId} entry={entry} onPick={goTo} onError={setError} /> : null}
      {entry.format === 'jsonl' && index && !index.complete && index.size > 0 ? (
        <ByteSeek
          runId={runId}
          entry={entry}
          index={index}
          onSnap={(row) => {
            setSeekRow(null);
            goTo(row);
          }}
          onPick={setSeekRow}
          onError={setError}
        />
      ) : null}
      <div className="datasets-table-head" role="row">
        <span className="datasets-cell datasets-cell-index">#</span>
        {columns.map((c) => (
          <span key={c} className="datasets-cell">
            {c}
          </span>
        ))}
      </div>
      <div className="datasets-table" ref={scrollRef} data-testid="datasets-table" role="grid" aria-rowcount={total}>
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((item) => {
            const row = rowAt(item.index);
            return (
              <div
                key={item.key}
                role="row"
                data-testid={`datasets-row-${item.index}`}
                className={`datasets-row${row?.error ? ' datasets-row-broken' : ''}${selectedRow === item.index ? ' datasets-row-selected' : ''}`}
                style={{
                  position: 'absolute',
                  top: 0,
                  left: 0,
                  right: 0,
                  height: ROW_HEIGHT,
                  transform: `translateY(${item.start}px)`,
                }}
                onClick={() => {
                  setSeekRow(null);
                  setSelectedRow(item.index);
                }}
              >
                <span className="datasets-cell datasets-cell-index">{item.index}</span>
                {row ? (
                  columns.map((c, i) => (
                    <span key={c} className="datasets-cell">
                      {cellFor(row, c, i)}
                    </span>
                  ))
                ) : (
                  <span className="datasets-cell muted">…</span>
                )}
              </div>
            );
          })}
        </div>
      </div>
      <p className="muted datasets-footer" data-testid="datasets-total">
        {rowCountLabel(total, index)}
        {index?.complete && index.indexMBps ? ` · counted on the host at ${index.indexMBps} MB/s` : ''}
      </p>
      {selected ? (
        <DatasetRowDetail
          row={selected}
          onClose={() => {
            setSeekRow(null);
            setSelectedRow(null);
          }}
        />
      ) : null}
    </div>
  );
}

/**
 * Search on the host, streamed: hits appear as the helper finds them (`datasets.searchProgress`, to this peer),
 * with how much of the file it has read, and a Cancel that stops it there.
 */
function SearchBar({
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
  const client = useAppStoreApi().client;
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

  useEffect(() => {
    const off = client.on('datasets.searchProgress', (p) => {
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
    return () => {
      off();
      if (current.current) void client.call('datasets.searchCancel', { searchId: current.current });
    };
  }, [client]);

  const run = async (): Promise<void> => {
    if (current.current) void client.call('datasets.searchCancel', { searchId: current.current });
    if (!query.trim()) {
      current.current = null;
      setLive(null);
      return setSearch(null);
    }
    const id = `s${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    current.current = id;
    setSearch(null);
    setLive({ id, hits: [], total: 0, scanned: 0, size: entry.size });
    const result = await client.call('datasets.search', {
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
    if (current.current) void client.call('datasets.searchCancel', { searchId: current.current });
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

/**
 * While the host still counts rows, a position over bytes reaches the part not counted yet: rows from the first
 * line start at or after it. Once the count passes that byte, they are numbered and the table jumps to them.
 */
function ByteSeek({
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
  const client = useAppStoreApi().client;
  const [position, setPosition] = useState(0);
  const [seek, setSeek] = useState<DatasetPage | null>(null);

  const ask = useCallback(
    (byte: number) =>
      client.call('datasets.page', { id: runId, path: entry.path, offset: 0, limit: 20, byteOffset: byte }),
    [client, runId, entry.path],
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

function StatsPanel({ runId, entry }: { runId: string; entry: DatasetEntry }) {
  const client = useAppStoreApi().client;
  const [stats, setStats] = useState<DatasetStats | null>(null);
  const [error, setError] = useState<AppErrorData | null>(null);
  useEffect(() => {
    let cancelled = false;
    void client.call('datasets.stats', { id: runId, path: entry.path }).then((r) => {
      if (cancelled) return;
      if (r.ok) setStats(r.data);
      else setError(r.error);
    });
    return () => {
      cancelled = true;
    };
  }, [client, runId, entry.path]);
  if (error)
    return (
      <p className="inline-error" role="alert">
        {error.message}
      </p>
    );
  if (!stats) return <p className="muted">Computing on the host…</p>;
  return (
    <div className="datasets-stats" data-testid="datasets-stats">
      <p>
        {stats.rows.toLocaleString()} rows{stats.problemCount ? `, ${stats.problemCount} broken` : ''}
        {stats.chat.rows
          ? ` · ${stats.chat.rows.toLocaleString()} conversations (${Object.entries(stats.chat.roles)
              .map(([r, n]) => `${r} ${n}`)
              .join(', ')})`
          : ''}
        <span className="muted"> · {stats.elapsedMs} ms on the host</span>
      </p>
      <h4>Fields</h4>
      <table className="datasets-stats-table">
        <thead>
          <tr>
            <th>field</th>
            <th>present</th>
            <th>missing</th>
            <th>types</th>
            <th>length min / mean / max</th>
          </tr>
        </thead>
        <tbody>
          {stats.fields.map((f) => (
            <tr key={f.name}>
              <td>{f.name}</td>
              <td>{f.present}</td>
              <td>{f.missing}</td>
              <td>
                {Object.entries(f.types)
                  .map(([t, n]) => `${t} ${n}`)
                  .join(', ')}
              </td>
              <td>{f.lengths ? `${f.lengths.min} / ${f.lengths.mean.toFixed(1)} / ${f.lengths.max}` : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Text length per row ({stats.lengths.unit})</h4>
      <p className="muted">
        p50 {stats.lengths.p50 ?? '—'} · p90 {stats.lengths.p90 ?? '—'} · p99 {stats.lengths.p99 ?? '—'} · max{' '}
        {stats.lengths.max ?? '—'}
      </p>
      <LengthHistogram histogram={stats.lengths.histogram} />
      <h4>Exact duplicates</h4>
      <p data-testid="datasets-exact">
        {stats.exactDuplicates.duplicateRows} duplicate rows in {stats.exactDuplicates.groupCount} groups
      </p>
      <ul>
        {stats.exactDuplicates.groups.slice(0, 20).map((g) => (
          <li key={g[0]}>rows {g.join(', ')}</li>
        ))}
      </ul>
      <h4>Near duplicates</h4>
      <p className="muted">
        {stats.nearDuplicates.method}; similarity ≥ {stats.nearDuplicates.threshold};{' '}
        {stats.nearDuplicates.rowsConsidered.toLocaleString()} of {stats.nearDuplicates.rowsTotal.toLocaleString()} rows
        considered
      </p>
      <ul data-testid="datasets-near">
        {stats.nearDuplicates.groups.slice(0, 20).map((g) => (
          <li key={g.rows[0]}>
            rows {g.rows.join(', ')} (≈{Math.round(g.similarity * 100)}%)
          </li>
        ))}
      </ul>
    </div>
  );
}

function OverlapPanel({ runId, entry, benchmark }: { runId: string; entry: DatasetEntry; benchmark: string }) {
  const client = useAppStoreApi().client;
  const [name, setName] = useState(benchmark);
  const [n, setN] = useState(13);
  const [result, setResult] = useState<DatasetOverlap | null>(null);
  const [error, setError] = useState<AppErrorData | null>(null);
  const [busy, setBusy] = useState(false);
  const check = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    const r = await client.call('datasets.overlap', { id: runId, path: entry.path, benchmark: name.trim(), n });
    setBusy(false);
    if (r.ok) setResult(r.data);
    else setError(r.error);
  };
  return (
    <div className="datasets-overlap" data-testid="datasets-overlap">
      <form
        className="datasets-search"
        onSubmit={(e) => {
          e.preventDefault();
          void check();
        }}
      >
        <label>
          Benchmark{' '}
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="gsm8k or /path/to/test.jsonl"
            data-testid="datasets-benchmark"
          />
        </label>
        <label>
          n-gram words{' '}
          <input type="number" min={3} max={50} value={n} onChange={(e) => setN(Number(e.target.value) || 13)} />
        </label>
        <button type="submit" disabled={busy || !name.trim()} data-testid="datasets-overlap-run">
          {busy ? 'Checking on the host…' : 'Check overlap'}
        </button>
      </form>
      {error ? (
        <p className="inline-error" role="alert">
          {error.message}
        </p>
      ) : null}
      {result ? (
        <>
          <p data-testid="datasets-overlap-summary">
            {result.rowsWithOverlap} of {result.rowsScanned} rows share {result.n}-grams with {result.testItemsMatched}{' '}
            of {result.testRows} test items ({result.testFiles.join(', ')}).
          </p>
          {result.hits.map((hit) => (
            <OverlapHitView key={hit.row} hit={hit} />
          ))}
          {result.truncated ? <p className="muted">Only the first {result.hits.length} rows are listed.</p> : null}
        </>
      ) : null}
    </div>
  );
}
