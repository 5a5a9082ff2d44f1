import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { DatasetEntry, DatasetIndexStatus, DatasetPage, DatasetRow } from '../../shared/contract-datasets';
import type { AppErrorData } from '../../shared/errors';
import { rowForLine } from '../common/evidence-target';
import { useAppStore } from '../store/store-context';
import { DatasetRowDetail } from './dataset-row-detail';
import {
  cellFor,
  hostComputes,
  indexMoving,
  PAGE_ROWS,
  pagesToFetch,
  rowCountLabel,
  shortPages,
  tableColumns,
} from './dataset-view-model';
import { ByteSeek } from './dataset-byte-seek';
import { SearchBar } from './dataset-search-bar';

const ROW_HEIGHT = 28;

/** The rows of one dataset: a virtualized table that fetches pages as it scrolls, search, seek and row detail. */
export function DatasetRowsPanel({
  runId,
  entry,
  focusLine = null,
}: {
  runId: string;
  entry: DatasetEntry;
  /** Select and show the row that starts at this 1-based line, once its page is read (integrity evidence). */
  focusLine?: number | null;
}) {
  const runCommand = useAppStore((s) => s.queries.run);
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
      const result = await runCommand('datasets.page', {
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
    [runCommand, runId, entry.path],
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
      void runCommand('datasets.indexStatus', { id: runId, path: entry.path }).then((r) => {
        if (!cancelled && r.ok) setStatus(r.data);
      });
    }, 500);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [runCommand, runId, entry.path, moving]);

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

  // The evidence's row: the one that starts at the line, read from its page (blank lines are not rows).
  const [focused, setFocused] = useState(false);
  useEffect(() => {
    if (focusLine === null || focused || !first) return;
    const estimate = rowForLine([], focusLine, entry.format === 'csv').row;
    const page = Math.floor(estimate / PAGE_ROWS);
    if (!pages.has(page)) {
      if (!requested.current.has(page)) void fetchPage(page);
      return;
    }
    const { row } = rowForLine(
      [...pages.values()].flatMap((p) => p.rows),
      focusLine,
      entry.format === 'csv',
    );
    setFocused(true);
    goTo(row);
  }, [focusLine, focused, first, pages, entry.format, fetchPage, goTo]);

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
      {(entry.format === 'jsonl' || entry.format === 'csv') && index && !index.complete && index.size > 0 ? (
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
