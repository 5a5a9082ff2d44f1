import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useMemo, useRef } from 'react';
import type { RunSummary } from '../../shared/contract';
import { formatTimestamp } from '../common/run-order';
import {
  facetText,
  facetValue,
  nextRunSort,
  type RunColumn,
  type RunSort,
  type RunTableRow,
} from '../common/run-query';
import { formatScore } from '../common/run-status-text';
import { RunStatusBadge } from './run-list-view';

const ROW_HEIGHT = 32;

const columns: ReadonlyArray<{ key: RunColumn; label: string }> = [
  { key: 'label', label: 'Run' },
  { key: 'status', label: 'Status' },
  { key: 'score', label: 'Score' },
  { key: 'benchmark', label: 'Benchmark' },
  { key: 'baseModel', label: 'Base model' },
  { key: 'agent', label: 'Agent' },
  { key: 'agentModel', label: 'Agent model' },
  { key: 'host', label: 'Host' },
  { key: 'experiment', label: 'Experiment' },
  { key: 'created', label: 'Created' },
  { key: 'flagged', label: 'Flag' },
];

/** The columns that show a facet's value as text, in the order of {@link columns}. */
const TEXT_COLUMNS = ['benchmark', 'baseModel', 'agent', 'agentModel', 'host', 'experiment'] as const;

const created = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });

/**
 * The compact run table: one line per run, every column sortable, a checkbox per run for the actions on several,
 * group headings when grouped. Only the rows in view are in the DOM (`@tanstack/react-virtual`), and only the body
 * scrolls: the column headings (and the page's header above) stay.
 */
export function RunTable({
  rows,
  sort,
  selected,
  picked,
  onSort,
  onSelect,
  onPick,
  onPickAll,
}: {
  rows: readonly RunTableRow[];
  sort: RunSort;
  selected: string | null;
  picked: ReadonlySet<string>;
  onSort: (sort: RunSort) => void;
  onSelect: (id: string) => void;
  onPick: (id: string) => void;
  /** Ticks every run shown, or none when all are ticked already. */
  onPickAll: () => void;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  // The component does not memoize what the virtualizer returns (React Compiler skips it, as it says).
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
    // Scroll updates go through React's batching instead of a synchronous render inside the scroll event.
    useFlushSync: false,
    getItemKey: (index) => {
      const row = rows[index]!;
      return row.kind === 'run' ? row.run.id : `group:${row.key}`;
    },
  });
  // Not on every scroll frame: only when the rows or the ticks change.
  const allPicked = useMemo(
    () => rows.some((row) => row.kind === 'run') && rows.every((row) => row.kind !== 'run' || picked.has(row.run.id)),
    [rows, picked],
  );
  return (
    <div className="run-table" data-testid="run-table" role="table" aria-label="Runs" aria-rowcount={rows.length + 1}>
      <div className="run-table-row run-table-head" role="row">
        <span className="run-table-cell" role="columnheader">
          <input
            type="checkbox"
            data-testid="run-pick-all"
            aria-label="Tick every run shown"
            checked={allPicked}
            onChange={onPickAll}
          />
        </span>
        {columns.map((c) => (
          <span
            key={c.key}
            role="columnheader"
            className="run-table-cell"
            aria-sort={sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : 'none'}
          >
            <button
              type="button"
              className="run-table-sort"
              data-testid={`run-sort-${c.key}`}
              onClick={() => onSort(nextRunSort(sort, c.key))}
            >
              {c.label}
              {sort.key === c.key ? (sort.descending ? ' ▾' : ' ▴') : ''}
            </button>
          </span>
        ))}
      </div>
      <div ref={scroller} className="run-table-body" role="rowgroup" data-testid="run-table-body">
        {rows.length === 0 ? (
          <p className="muted run-table-none" data-testid="run-table-none">
            No run matches the filters.
          </p>
        ) : null}
        <div style={{ height: `${virtualizer.getTotalSize()}px`, position: 'relative' }}>
          {virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index]!;

            if (row.kind === 'group') {
              return (
                <div
                  key={item.key}
                  role="row"
                  className="run-table-group"
                  data-testid={`run-group-${row.key || 'none'}`}
                  style={placeAt(item.start)}
                >
                  <span role="cell">
                    {row.label} <span className="muted">({row.count})</span>
                  </span>
                </div>
              );
            }
            return (
              <RunTableLine
                key={item.key}
                run={row.run}
                current={row.run.id === selected}
                picked={picked.has(row.run.id)}
                start={item.start}
                onSelect={onSelect}
                onPick={onPick}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}

/** Where a virtual row sits (an inline style set through the CSSOM, which the page's CSP allows). */
function placeAt(start: number) {
  return { position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${start}px)` } as const;
}

// Memoized: while scrolling, the rows already in view keep their props and are not rendered again.
const RunTableLine = memo(function RunTableLine({
  run,
  current,
  picked,
  start,
  onSelect,
  onPick,
}: {
  run: RunSummary;
  current: boolean;
  picked: boolean;
  start: number;
  onSelect: (id: string) => void;
  onPick: (id: string) => void;
}) {
  const name = run.label || run.id;
  return (
    <div
      role="row"
      className="run-table-row"
      data-testid={`run-table-row-${run.id}`}
      aria-current={current ? 'true' : undefined}
      aria-selected={picked}
      style={placeAt(start)}
      onClick={() => onSelect(run.id)}
    >
      <span className="run-table-cell" role="cell">
        <input
          type="checkbox"
          data-testid={`run-pick-${run.id}`}
          aria-label={`Tick ${name}`}
          checked={picked}
          onClick={(e) => e.stopPropagation()}
          onChange={() => onPick(run.id)}
        />
      </span>
      <span className="run-table-cell run-table-label" role="cell" title={run.id}>
        {/* The row's click selects; the button gives the keyboard a way in. */}
        <button type="button" className="run-table-open">
          {name}
        </button>
      </span>
      <span className="run-table-cell" role="cell">
        <RunStatusBadge status={run.status} />
      </span>
      <span className="run-table-cell cell-num" role="cell">
        {typeof run.score === 'number' ? formatScore(run.score) : ''}
      </span>
      {TEXT_COLUMNS.map((key) => (
        <span key={key} className="run-table-cell" role="cell">
          {facetText(key, facetValue(run, key))}
        </span>
      ))}
      <span className="run-table-cell cell-num" role="cell">
        {formatTimestamp(run.createdAt, created)}
      </span>
      <span className="run-table-cell" role="cell">
        {run.flagged === true ? (
          <span className="run-flag" title="Integrity: flagged">
            ⚑
          </span>
        ) : null}
      </span>
    </div>
  );
});
