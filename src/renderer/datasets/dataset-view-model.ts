import type { DatasetEntry, DatasetIndex, DatasetRow } from '../../shared/contract-datasets';
import { cellText, chatMessages } from '../../shared/datasets/dataset-rows';
import { exactJsonText } from '../../shared/datasets/exact-json';
import { formatByteSize } from '../../shared/runs/duration';

/** Pure helpers for the Datasets tab: which pages a scroll position needs, table columns, cell text. */

export const PAGE_ROWS = 200;

/** Page numbers covering rows [first, last], that are not loaded or loading yet. */
export function pagesToFetch(first: number, last: number, have: ReadonlySet<number>): number[] {
  const out: number[] = [];
  if (last < first) return out;
  for (let p = Math.floor(first / PAGE_ROWS); p <= Math.floor(last / PAGE_ROWS); p++) if (!have.has(p)) out.push(p);
  return out;
}

/** Columns for the table: the keys of the first object rows (at most 6), or one `value` column. */
export function tableColumns(rows: readonly DatasetRow[], known?: readonly string[]): string[] {
  if (known && known.length) return known.slice(0, 6);
  const keys: string[] = [];
  for (const row of rows.slice(0, 50)) {
    const v = row.value;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const k of Object.keys(v)) if (!keys.includes(k)) keys.push(k);
    }
    if (keys.length >= 6) break;
  }
  return keys.length ? keys.slice(0, 6) : ['value'];
}

/** A cell's one-line text; a `messages` array reads as `role: content · role: content`. */
export function cellFor(row: DatasetRow, column: string, index: number): string {
  if (row.error && row.value === undefined) return index === 0 ? cellText(row.raw ?? '') : '';
  const v = row.value;
  if (column === 'value' && (typeof v !== 'object' || v === null || Array.isArray(v))) return cellText(v);
  if (!v || typeof v !== 'object' || Array.isArray(v)) return '';
  const field = (v as Record<string, unknown>)[column];
  if (column === 'messages' || column === 'conversations') {
    const chat = chatMessages(v);
    if (chat) return cellText(chat.map((m) => `${m.role}: ${m.content}`).join(' · '));
  }
  return cellText(field);
}

export function formatLabel(entry: DatasetEntry): string {
  const rows = entry.rows === null ? '' : ` · ${entry.rows.toLocaleString()} rows`;
  return `${entry.format}${rows}`;
}

/** Whether stats/search/overlap apply (computed on the host; Parquet rows are converted to JSONL for it first). */
export function hostComputes(entry: DatasetEntry): boolean {
  return entry.format !== 'hf-dataset';
}

/** Whether rows can be paged at all (HF save_to_disk Arrow folders are listed only). */
export function pageable(entry: DatasetEntry): boolean {
  return entry.format !== 'hf-dataset';
}

/** The run's benchmark, the default for overlap checks: `gsm8k`, or `rehearsal`. */
export function runBenchmark(spec: unknown): string {
  const task = (spec as { task?: { kind?: unknown; benchmark?: unknown } } | null)?.task;
  if (task?.kind === 'rehearsal') return 'rehearsal';
  return typeof task?.benchmark === 'string' ? task.benchmark : '';
}

/** Pretty JSON for the detail view (text only). */
export function prettyValue(value: unknown): string {
  try {
    return exactJsonText(value, 2);
  } catch {
    return String(value);
  }
}

/** What the footer says about the row count: exact once the index is complete, "at least" while it counts. */
export function rowCountLabel(total: number, index: DatasetIndex | undefined): string {
  if (!index || index.complete) {
    const checking =
      index && !index.checked && index.size > 0
        ? ` · checking rows for problems ${percent(index.checkedBytes, index.size)}`
        : '';
    return `${total.toLocaleString()} rows${checking}`;
  }
  return `at least ${Math.max(total, index.rows).toLocaleString()} rows, counting… ${percent(index.indexedBytes, index.size)} of ${formatByteSize(index.size)}`;
}

export function percent(part: number, whole: number): string {
  if (whole <= 0) return '100%';
  return `${Math.min(100, Math.floor((part / whole) * 100))}%`;
}

/** Whether the index still moves (counting rows, or checking them): the tab keeps asking for its progress. */
export function indexMoving(index: DatasetIndex | undefined): boolean {
  return !!index && !index.error && !(index.complete && index.checked);
}

/**
 * Loaded pages that came back short of rows the file has, read while the index counted: to be read again once it
 * has counted more than it had then (never again for the same count, so a page cannot be asked for in a loop).
 */
export function shortPages(
  pages: ReadonlyMap<number, { rows: readonly unknown[]; total: number }>,
  total: number,
): number[] {
  const out: number[] = [];
  for (const [p, page] of pages) {
    const expected = Math.min(PAGE_ROWS, Math.max(0, total - p * PAGE_ROWS));
    if (page.rows.length < expected && page.total < total) out.push(p);
  }
  return out;
}

/** A row reached by byte offset: its number once counted, else where it is in the file. */
export function seekRowLabel(row: DatasetRow): string {
  return row.row === null ? `byte ${(row.byte ?? 0).toLocaleString()}` : `row ${row.row.toLocaleString()}`;
}
