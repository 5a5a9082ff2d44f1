import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, useState } from 'react';
import type { TensorDiff } from '../../shared/contract-checkpoints';
import {
  DEFAULT_TENSOR_SORT,
  formatShape,
  formatStat,
  nextSort,
  sortTensors,
  type TensorSortKey,
} from './tensor-table-model';

const ROW_HEIGHT = 26;
const columns: Array<{ key: TensorSortKey | null; label: string }> = [
  { key: 'name', label: 'Tensor' },
  { key: 'status', label: 'Status' },
  { key: null, label: 'dtype' },
  { key: null, label: 'Shape' },
  { key: 'l2Delta', label: '‖Δ‖' },
  { key: 'relChange', label: '‖Δ‖/‖A‖' },
  { key: 'cosine', label: 'cos' },
  { key: 'maxAbs', label: 'max |Δ|' },
];

/** Every tensor of the diff, sortable by any number, virtualized (a 70B model has thousands). */
export function TensorTable({ rows }: { rows: readonly TensorDiff[] }) {
  const [sort, setSort] = useState(DEFAULT_TENSOR_SORT);
  const [hideSame, setHideSame] = useState(false);
  const sorted = useMemo(
    () => sortTensors(hideSame ? rows.filter((r) => r.status !== 'same') : rows, sort),
    [rows, sort, hideSame],
  );
  const scroller = useRef<HTMLDivElement>(null);
  // The component does not memoize what the virtualizer returns (React Compiler skips it, as it says).
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: sorted.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  return (
    <div className="ckpt-table" data-testid="ckpt-tensor-table">
      <label className="ckpt-table-filter">
        <input type="checkbox" checked={hideSame} onChange={(e) => setHideSame(e.target.checked)} /> Hide identical
        tensors
      </label>
      <div className="ckpt-row ckpt-row-head" role="row">
        {columns.map((c) => (
          <span key={c.label} role="columnheader" className="ckpt-cell">
            {c.key ? (
              <button
                type="button"
                className="ckpt-sort"
                data-testid={`ckpt-sort-${c.key}`}
                aria-sort={sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : 'none'}
                onClick={() => setSort((s) => nextSort(s, c.key!))}
              >
                {c.label}
                {sort.key === c.key ? (sort.descending ? ' ▾' : ' ▴') : ''}
              </button>
            ) : (
              c.label
            )}
          </span>
        ))}
      </div>
      <div ref={scroller} className="ckpt-table-body" role="rowgroup">
        <div style={{ height: `${virtualizer.getTotalSize()}px`, position: 'relative' }}>
          {virtualizer.getVirtualItems().map((item) => {
            const r = sorted[item.index]!;
            return (
              <div
                key={r.name}
                role="row"
                className={`ckpt-row ckpt-status-${r.status}`}
                data-testid="ckpt-tensor-row"
                style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${item.start}px)` }}
              >
                <span className="ckpt-cell ckpt-cell-name cell-mono" title={r.name}>
                  {r.name}
                </span>
                <span className="ckpt-cell" title={r.problem}>
                  {r.status}
                </span>
                <span className="ckpt-cell cell-mono">
                  {r.dtypeA === r.dtypeB ? r.dtypeA : `${r.dtypeA ?? '—'} → ${r.dtypeB ?? '—'}`}
                </span>
                <span className="ckpt-cell cell-mono">
                  {r.status === 'shape-changed'
                    ? `${formatShape(r.shapeA)} → ${formatShape(r.shapeB)}`
                    : formatShape(r.shapeA ?? r.shapeB)}
                </span>
                <span className="ckpt-cell cell-mono">{formatStat(r.l2Delta)}</span>
                <span className="ckpt-cell cell-mono">{formatStat(r.relChange)}</span>
                <span className="ckpt-cell cell-mono">{formatStat(r.cosine, 6)}</span>
                <span className="ckpt-cell cell-mono">{formatStat(r.maxAbs)}</span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
