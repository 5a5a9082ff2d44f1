import type { RunSummary } from '../../shared/contract';

/** Newest first; runs whose `createdAt` does not parse go last, in id order, so the table stays stable. */
export function sortRunsNewestFirst(runs: readonly RunSummary[]): RunSummary[] {
  return [...runs].sort((a, b) => {
    const ta = Date.parse(a.createdAt);
    const tb = Date.parse(b.createdAt);
    const va = Number.isNaN(ta);
    const vb = Number.isNaN(tb);
    if (va !== vb) return va ? 1 : -1;
    if (!va && ta !== tb) return tb - ta;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

/** A timestamp for a table cell; text that is not a date is shown as it came. */
export function formatTimestamp(iso: string, format: Intl.DateTimeFormat): string {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : format.format(time);
}
