import type { RunSummary } from '../../shared/contract';

/** Newest first; runs whose `createdAt` does not parse go last, in id order, so the table stays stable. */
export function sortRunsNewestFirst(runs: readonly RunSummary[]): RunSummary[] {
  return [...runs].sort(newerFirst);
}

function newerFirst(a: RunSummary, b: RunSummary): number {
  const ta = Date.parse(a.createdAt);
  const tb = Date.parse(b.createdAt);
  const va = Number.isNaN(ta);
  const vb = Number.isNaN(tb);
  if (va !== vb) return va ? 1 : -1;
  if (!va && ta !== tb) return tb - ta;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The first run of {@link sortRunsNewestFirst}, in one pass (the list can hold 10,000 runs). */
export function newestRun(runs: readonly RunSummary[]): RunSummary | null {
  let best: RunSummary | null = null;
  for (const run of runs) if (best === null || newerFirst(run, best) < 0) best = run;
  return best;
}

/** A timestamp for a table cell; text that is not a date is shown as it came. */
export function formatTimestamp(iso: string, format: Intl.DateTimeFormat): string {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : format.format(time);
}
