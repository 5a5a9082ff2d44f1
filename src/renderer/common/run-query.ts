import type { RunSummary } from '../../shared/contract';
import { runStatusLabel } from './run-status-text';

/**
 * The Runs list at scale (issue 17): search, filters, sort and grouping over the run summaries, as pure functions of
 * the summaries and a query. The store holds the summaries and the query; the list and the table derive their rows
 * from here, so 10,000 runs cost one pass each time the query or the list changes.
 */

/** Fields a run can be filtered by with one value picked from those present. */
export const RUN_FACETS = ['status', 'host', 'agent', 'agentModel', 'benchmark', 'baseModel', 'experiment'] as const;
export type RunFacet = (typeof RUN_FACETS)[number];

export const RUN_FACET_LABELS: Record<RunFacet, string> = {
  status: 'Status',
  host: 'Host',
  agent: 'Agent',
  agentModel: 'Agent model',
  benchmark: 'Benchmark',
  baseModel: 'Base model',
  experiment: 'Experiment',
};

/** The table's columns, each sortable. */
export const RUN_COLUMNS = [
  'label',
  'status',
  'score',
  'benchmark',
  'baseModel',
  'agent',
  'agentModel',
  'host',
  'experiment',
  'created',
  'flagged',
] as const;
export type RunColumn = (typeof RUN_COLUMNS)[number];

export type FlaggedFilter = 'any' | 'flagged' | 'clean' | 'unchecked';
export type RunGrouping = 'none' | 'experiment' | 'agent';

export interface RunSort {
  readonly key: RunColumn;
  readonly descending: boolean;
}

export interface RunQuery {
  /** Words that must all appear in the id, label, task, agent, model or host (any case). */
  readonly search: string;
  /** One value per facet; a facet not set (or set to '') lets every run through. */
  readonly facets: Readonly<Partial<Record<RunFacet, string>>>;
  /** Local calendar days, `YYYY-MM-DD`, both ends included; '' for no bound. */
  readonly from: string;
  readonly to: string;
  readonly flagged: FlaggedFilter;
  readonly sort: RunSort;
  readonly groupBy: RunGrouping;
}

export const DEFAULT_RUN_QUERY: RunQuery = {
  search: '',
  facets: {},
  from: '',
  to: '',
  flagged: 'any',
  sort: { key: 'created', descending: true },
  groupBy: 'none',
};

/** The experiment a run belongs to, by name (run.json `experiment`, on the summary); '' for a run launched alone. */
export function experimentOf(run: RunSummary): string {
  return run.experiment?.name || run.experiment?.id || '';
}

/** A run's value for a facet (what the filter menu lists and the table shows); '' when it has none. */
export function facetValue(run: RunSummary, facet: RunFacet): string {
  switch (facet) {
    case 'status':
      return run.status;
    case 'host':
      return run.host;
    case 'agent':
      return run.agentId ?? run.agent.split(' · ')[0] ?? '';
    case 'agentModel':
      return run.agentModel ?? '';
    case 'benchmark':
      return run.benchmark ?? '';
    case 'baseModel':
      return run.baseModel ?? '';
    case 'experiment':
      return experimentOf(run);
  }
}

/** How a facet value reads in a menu or a cell. */
export function facetText(facet: RunFacet, value: string): string {
  if (value === '') return '—';
  return facet === 'status' ? runStatusLabel(value) : value;
}

export interface FacetOption {
  readonly value: string;
  readonly count: number;
}

/** The values a facet takes over the runs, with how many runs have each, in name order ('' last). */
export function facetOptions(runs: readonly RunSummary[], facet: RunFacet): FacetOption[] {
  const counts = new Map<string, number>();
  for (const run of runs) {
    const value = facetValue(run, facet);
    counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => (a.value === '' ? 1 : b.value === '' ? -1 : collator.compare(a.value, b.value)));
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

// Built once per summary object: `runs.changed` replaces the list, so a summary that did not change keeps its text.
const haystacks = new WeakMap<RunSummary, string>();

function haystack(run: RunSummary): string {
  let text = haystacks.get(run);
  if (text === undefined) {
    text = [run.id, run.label, run.task, run.agent, run.agentModel ?? '', run.host, experimentOf(run)]
      .join('\n')
      .toLowerCase();
    haystacks.set(run, text);
  }
  return text;
}

/** Epoch ms of a local day's start (`YYYY-MM-DD`); null when the text is not such a day. */
export function dayStart(day: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  const time = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3])).getTime();
  return Number.isNaN(time) ? null : time;
}

/** The runs the query lets through, in the order given. */
export function filterRuns(runs: readonly RunSummary[], query: RunQuery): RunSummary[] {
  const words = query.search.toLowerCase().split(/\s+/).filter(Boolean);
  const facets = RUN_FACETS.flatMap((facet) => {
    const value = query.facets[facet];
    return value === undefined || value === '' ? [] : [{ facet, value: value === NO_VALUE ? '' : value }];
  });
  const from = dayStart(query.from);
  const toStart = dayStart(query.to);
  // The `to` day is included: runs before the next local midnight.
  const to = toStart === null ? null : new Date(toStart).setDate(new Date(toStart).getDate() + 1);
  return runs.filter((run) => {
    for (const { facet, value } of facets) if (facetValue(run, facet) !== value) return false;
    if (query.flagged !== 'any' && flaggedState(run) !== query.flagged) return false;
    if (from !== null || to !== null) {
      const created = Date.parse(run.createdAt);
      if (Number.isNaN(created)) return false;
      if (from !== null && created < from) return false;
      if (to !== null && created >= to) return false;
    }
    if (words.length > 0) {
      const text = haystack(run);
      for (const word of words) if (!text.includes(word)) return false;
    }
    return true;
  });
}

/** The facet value that picks runs with no value (the menu's "—"). */
export const NO_VALUE = '\u0000none';

export function flaggedState(run: RunSummary): Exclude<FlaggedFilter, 'any'> {
  return run.flagged === true ? 'flagged' : run.flagged === false ? 'clean' : 'unchecked';
}

/** A column's value for sorting: text, a number, or null (no value: always last). */
function sortValue(run: RunSummary, key: RunColumn): string | number | null {
  switch (key) {
    case 'label':
      return run.label || run.id;
    case 'score':
      return typeof run.score === 'number' ? run.score : null;
    case 'created': {
      const time = Date.parse(run.createdAt);
      return Number.isNaN(time) ? null : time;
    }
    case 'flagged':
      return run.flagged === true ? 2 : run.flagged === false ? 1 : null;
    default: {
      const value = facetValue(run, key);
      return value === '' ? null : value;
    }
  }
}

/**
 * The runs ordered by one column; runs without a value go last either way, ties newest first, then by id (so the
 * order is stable whatever order the list came in).
 */
export function sortRuns(runs: readonly RunSummary[], sort: RunSort): RunSummary[] {
  const keyed = runs.map((run) => ({ run, value: sortValue(run, sort.key), created: Date.parse(run.createdAt) }));
  const sign = sort.descending ? -1 : 1;
  keyed.sort((a, b) => {
    if (a.value === null || b.value === null) {
      if (a.value !== b.value) return a.value === null ? 1 : -1;
    } else if (a.value !== b.value) {
      const order =
        typeof a.value === 'number' && typeof b.value === 'number'
          ? a.value - b.value
          : collator.compare(String(a.value), String(b.value));
      if (order !== 0) return sign * order;
    }
    const ca = Number.isNaN(a.created) ? -Infinity : a.created;
    const cb = Number.isNaN(b.created) ? -Infinity : b.created;
    if (ca !== cb) return cb - ca;
    return a.run.id < b.run.id ? -1 : a.run.id > b.run.id ? 1 : 0;
  });
  return keyed.map((k) => k.run);
}

/** Clicking a column header: the same column flips the direction; a new one starts ascending (dates, scores: newest, best first). */
export function nextRunSort(current: RunSort, key: RunColumn): RunSort {
  if (current.key === key) return { key, descending: !current.descending };
  return { key, descending: key === 'created' || key === 'score' || key === 'flagged' };
}

/** A row of the table: a group's heading or a run. */
export type RunTableRow =
  | { readonly kind: 'group'; readonly key: string; readonly label: string; readonly count: number }
  | { readonly kind: 'run'; readonly run: RunSummary };

/**
 * Filtered, sorted and (when asked) grouped: each group's heading followed by its runs, groups in name order with
 * the runs that have no value last ("no experiment"), the runs inside each group in the sort order.
 */
export function runTableRows(runs: readonly RunSummary[], query: RunQuery): RunTableRow[] {
  const sorted = sortRuns(filterRuns(runs, query), query.sort);
  if (query.groupBy === 'none') return sorted.map((run) => ({ kind: 'run', run }));
  const grouping = query.groupBy;
  const groups = new Map<string, RunSummary[]>();
  for (const run of sorted) {
    // By agent: the agent with its model (`claude-code · claude-opus-4-6`), the configuration a comparison is about.
    const key = grouping === 'agent' ? run.agent : experimentOf(run);
    const list = groups.get(key);
    if (list) list.push(run);
    else groups.set(key, [run]);
  }
  const keys = [...groups.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : collator.compare(a, b)));
  const rows: RunTableRow[] = [];
  for (const key of keys) {
    const members = groups.get(key)!;
    rows.push({ kind: 'group', key, label: key === '' ? `no ${grouping}` : key, count: members.length });
    for (const run of members) rows.push({ kind: 'run', run });
  }
  return rows;
}

/** Whether the query narrows the list at all (the toolbar then offers to clear it). */
export function queryFilters(query: RunQuery): boolean {
  return (
    query.search.trim() !== '' ||
    Object.values(query.facets).some((v) => v !== undefined && v !== '') ||
    query.from !== '' ||
    query.to !== '' ||
    query.flagged !== 'any'
  );
}

/** The most cards the list lays out (the newest); the table shows any number. */
export const CARDS_SHOWN_MAX = 500;

/** From how many runs `auto` shows the table: cards for a few runs are easier to read, a table scales. */
export const TABLE_FROM_RUNS = 200;

export function shownLayout(layout: 'auto' | 'cards' | 'table', count: number): 'cards' | 'table' {
  return layout === 'auto' ? (count >= TABLE_FROM_RUNS ? 'table' : 'cards') : layout;
}
