import type { TensorDiff } from '../../shared/contract-checkpoints';

/** Sorting and number formatting for the tensor table (pure, unit-tested). */

export type TensorSortKey = 'name' | 'status' | 'numel' | 'l2Delta' | 'relChange' | 'cosine' | 'maxAbs';
export interface TensorSort {
  key: TensorSortKey;
  descending: boolean;
}

export const DEFAULT_TENSOR_SORT: TensorSort = { key: 'relChange', descending: true };

const statusOrder: Record<TensorDiff['status'], number> = {
  'not-compared': 0,
  'shape-changed': 1,
  'dtype-changed': 2,
  added: 3,
  removed: 4,
  changed: 5,
  same: 6,
};

/** Sorted copy; rows without a value (null) go last whichever the direction, ties by name. */
export function sortTensors(rows: readonly TensorDiff[], sort: TensorSort): TensorDiff[] {
  const dir = sort.descending ? -1 : 1;
  const value = (r: TensorDiff): number | string | null =>
    sort.key === 'name' ? r.name : sort.key === 'status' ? statusOrder[r.status] : r[sort.key];
  return [...rows].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === null && vb !== null) return 1;
    if (vb === null && va !== null) return -1;
    if (va !== null && vb !== null && va !== vb) return (va < vb ? -1 : 1) * dir;
    return a.name.localeCompare(b.name);
  });
}

/** Clicking the current column flips it; another column starts descending (numbers) or ascending (name). */
export function nextSort(current: TensorSort, key: TensorSortKey): TensorSort {
  if (current.key === key) return { key, descending: !current.descending };
  return { key, descending: key !== 'name' };
}

export function formatStat(x: number | null, digits = 3): string {
  if (x === null) return '—';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  return abs >= 1e4 || abs < 1e-3 ? x.toExponential(digits - 1) : x.toPrecision(digits);
}

export function formatShape(shape: readonly number[] | null): string {
  return shape ? `[${shape.join(', ')}]` : '—';
}

export function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

/** Heatmap colour for a relative change in [0, max]: white/blue (none) to deep red (the largest), log-scaled. */
export function heatColour(value: number | null, max: number): string {
  if (value === null) return 'rgba(128, 128, 128, 0.25)';
  if (value <= 0 || max <= 0) return 'rgb(226, 236, 248)';
  // Relative changes span decades (1e-5 … 1): position on a log scale from max/1e4 to max.
  const t = Math.min(1, Math.max(0, 1 + Math.log10(value / max) / 4));
  const r = Math.round(255);
  const g = Math.round(235 - 200 * t);
  const b = Math.round(200 - 180 * t);
  return `rgb(${r}, ${g}, ${b})`;
}
