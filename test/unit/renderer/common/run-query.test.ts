import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RUN_QUERY,
  dayStart,
  experimentOf,
  facetOptions,
  filterRuns,
  NO_VALUE,
  nextRunSort,
  queryFilters,
  runTableRows,
  shownLayout,
  sortRuns,
  type RunQuery,
} from '../../../../src/renderer/common/run-query';
import { newestRun, sortRunsNewestFirst } from '../../../../src/renderer/common/run-order';
import type { RunSummary } from '../../../../src/shared/contract';

const run = (id: string, over: Partial<RunSummary> & Record<string, unknown> = {}): RunSummary => ({
  id,
  label: '',
  host: 'gpu-a',
  status: 'scored',
  createdAt: '2026-03-10T12:00:00Z',
  task: 'gsm8k · Qwen3-4B-Base',
  agent: 'claude-code · claude-opus-4-6',
  benchmark: 'gsm8k',
  baseModel: 'Qwen3-4B-Base',
  agentId: 'claude-code',
  agentModel: 'claude-opus-4-6',
  ...over,
});

const q = (over: Partial<RunQuery>): RunQuery => ({ ...DEFAULT_RUN_QUERY, ...over });
const ids = (runs: readonly RunSummary[]) => runs.map((r) => r.id);

const runs = [
  run('r1', { label: 'first try', host: 'gpu-a', score: 40, flagged: false, createdAt: '2026-03-01T10:00:00Z' }),
  run('r2', {
    host: 'gpu-b',
    status: 'failed',
    benchmark: 'humaneval',
    task: 'humaneval · gemma-3-4b-pt',
    baseModel: 'gemma-3-4b-pt',
    createdAt: '2026-03-05T10:00:00Z',
    flagged: true,
    experiment: { id: 'exp-20260305-100000-aaaaaa', name: 'sweep-1' },
  }),
  run('r3', {
    agent: 'codex · gpt-5.4',
    agentId: 'codex',
    agentModel: 'gpt-5.4',
    score: 70,
    createdAt: '2026-03-09T10:00:00Z',
    experiment: { id: 'e-2', name: 'sweep-2' },
  }),
  run('r4', {
    status: 'running',
    host: 'cluster',
    score: null,
    createdAt: 'not a date',
    experiment: { id: 'exp-20260305-100000-aaaaaa', name: 'sweep-1' },
  }),
];

describe('filterRuns', () => {
  it('lets everything through with the default query, in the order given', () => {
    expect(ids(filterRuns(runs, DEFAULT_RUN_QUERY))).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(queryFilters(DEFAULT_RUN_QUERY)).toBe(false);
  });

  it('searches every word, any case, across id, label, task, agent, model and host', () => {
    expect(ids(filterRuns(runs, q({ search: 'FIRST' })))).toEqual(['r1']);
    expect(ids(filterRuns(runs, q({ search: 'gpt-5.4' })))).toEqual(['r3']);
    expect(ids(filterRuns(runs, q({ search: 'humaneval gpu-b' })))).toEqual(['r2']);
    expect(ids(filterRuns(runs, q({ search: 'humaneval gpu-a' })))).toEqual([]);
    expect(ids(filterRuns(runs, q({ search: 'cluster' })))).toEqual(['r4']);
    expect(ids(filterRuns(runs, q({ search: 'r3' })))).toEqual(['r3']);
    expect(queryFilters(q({ search: 'x' }))).toBe(true);
  });

  it('filters by each facet, with the "no value" choice for runs without one', () => {
    expect(ids(filterRuns(runs, q({ facets: { status: 'failed' } })))).toEqual(['r2']);
    expect(ids(filterRuns(runs, q({ facets: { host: 'gpu-a' } })))).toEqual(['r1', 'r3']);
    expect(ids(filterRuns(runs, q({ facets: { agent: 'codex' } })))).toEqual(['r3']);
    expect(ids(filterRuns(runs, q({ facets: { agentModel: 'claude-opus-4-6' } })))).toEqual(['r1', 'r2', 'r4']);
    expect(ids(filterRuns(runs, q({ facets: { benchmark: 'humaneval' } })))).toEqual(['r2']);
    expect(ids(filterRuns(runs, q({ facets: { baseModel: 'Qwen3-4B-Base' } })))).toEqual(['r1', 'r3', 'r4']);
    expect(ids(filterRuns(runs, q({ facets: { experiment: 'sweep-1' } })))).toEqual(['r2', 'r4']);
    expect(ids(filterRuns(runs, q({ facets: { experiment: 'sweep-2' } })))).toEqual(['r3']);
    expect(ids(filterRuns(runs, q({ facets: { experiment: NO_VALUE } })))).toEqual(['r1']);
    expect(ids(filterRuns(runs, q({ facets: { status: 'scored', host: 'gpu-a' } })))).toEqual(['r1', 'r3']);
    expect(ids(filterRuns(runs, q({ facets: { status: '' } })))).toEqual(['r1', 'r2', 'r3', 'r4']);
  });

  it('filters by flagged, clean or not checked', () => {
    expect(ids(filterRuns(runs, q({ flagged: 'flagged' })))).toEqual(['r2']);
    expect(ids(filterRuns(runs, q({ flagged: 'clean' })))).toEqual(['r1']);
    expect(ids(filterRuns(runs, q({ flagged: 'unchecked' })))).toEqual(['r3', 'r4']);
  });

  it('keeps runs created within the days given, both ends included, and drops undated ones', () => {
    // Local days: a run at local noon of the 5th is in [5th, 5th].
    const noon = (day: number) => new Date(2026, 2, day, 12).toISOString();
    const local = [
      run('a', { createdAt: noon(4) }),
      run('b', { createdAt: noon(5) }),
      run('c', { createdAt: noon(6) }),
    ];
    expect(ids(filterRuns(local, q({ from: '2026-03-05', to: '2026-03-05' })))).toEqual(['b']);
    expect(ids(filterRuns(local, q({ from: '2026-03-05' })))).toEqual(['b', 'c']);
    expect(ids(filterRuns(local, q({ to: '2026-03-05' })))).toEqual(['a', 'b']);
    expect(ids(filterRuns(runs, q({ from: '2000-01-01' })))).toEqual(['r1', 'r2', 'r3']);
    expect(dayStart('2026-13-45x')).toBeNull();
    expect(dayStart('')).toBeNull();
  });
});

describe('facetOptions', () => {
  it('lists each value once with its count, in name order, the empty value last', () => {
    expect(facetOptions(runs, 'host')).toEqual([
      { value: 'cluster', count: 1 },
      { value: 'gpu-a', count: 2 },
      { value: 'gpu-b', count: 1 },
    ]);
    expect(facetOptions(runs, 'experiment')).toEqual([
      { value: 'sweep-1', count: 2 },
      { value: 'sweep-2', count: 1 },
      { value: '', count: 1 },
    ]);
  });

  it('reads the experiment by its name (its id when the name is empty), or nothing', () => {
    expect(experimentOf(run('x', { experiment: { id: 'exp-1', name: 'e' } }))).toBe('e');
    expect(experimentOf(run('x', { experiment: { id: 'exp-1', name: '' } }))).toBe('exp-1');
    expect(experimentOf(run('x'))).toBe('');
  });
});

describe('sortRuns', () => {
  it('sorts by a column either way, runs without a value last both ways', () => {
    expect(ids(sortRuns(runs, { key: 'score', descending: true }))).toEqual(['r3', 'r1', 'r2', 'r4']);
    expect(ids(sortRuns(runs, { key: 'score', descending: false }))).toEqual(['r1', 'r3', 'r2', 'r4']);
    expect(ids(sortRuns(runs, { key: 'created', descending: true }))).toEqual(['r3', 'r2', 'r1', 'r4']);
    expect(ids(sortRuns(runs, { key: 'created', descending: false }))).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(ids(sortRuns(runs, { key: 'host', descending: false }))).toEqual(['r4', 'r3', 'r1', 'r2']);
    expect(ids(sortRuns(runs, { key: 'flagged', descending: true }))).toEqual(['r2', 'r1', 'r3', 'r4']);
  });

  it('sorts text by name with numbers in order, labels falling back to the id, ties newest first', () => {
    const named = [run('b', { label: 'seed 10' }), run('a', { label: 'seed 9' }), run('c')];
    expect(ids(sortRuns(named, { key: 'label', descending: false }))).toEqual(['c', 'a', 'b']);
    const tied = [run('x', { createdAt: '2026-01-01T00:00:00Z' }), run('y', { createdAt: '2026-02-01T00:00:00Z' })];
    expect(ids(sortRuns(tied, { key: 'host', descending: false }))).toEqual(['y', 'x']);
    expect(ids(sortRuns(tied, { key: 'host', descending: true }))).toEqual(['y', 'x']);
  });

  it('flips on the same column and starts a new one in its natural direction', () => {
    expect(nextRunSort({ key: 'host', descending: false }, 'host')).toEqual({ key: 'host', descending: true });
    expect(nextRunSort({ key: 'host', descending: true }, 'score')).toEqual({ key: 'score', descending: true });
    expect(nextRunSort({ key: 'score', descending: true }, 'label')).toEqual({ key: 'label', descending: false });
  });
});

describe('runTableRows', () => {
  it('gives the sorted runs, or each group heading followed by its runs, runs without a group last', () => {
    const sort = { key: 'created', descending: true } as const;
    expect(runTableRows(runs, q({ sort })).map((r) => (r.kind === 'run' ? r.run.id : r.label))).toEqual([
      'r3',
      'r2',
      'r1',
      'r4',
    ]);
    const grouped = runTableRows(runs, q({ sort, groupBy: 'experiment' }));
    expect(grouped.map((r) => (r.kind === 'run' ? r.run.id : `${r.label} (${r.count})`))).toEqual([
      'sweep-1 (2)',
      'r2',
      'r4',
      'sweep-2 (1)',
      'r3',
      'no experiment (1)',
      'r1',
    ]);
    const byAgent = runTableRows(runs, q({ sort, groupBy: 'agent', facets: { status: 'scored' } }));
    expect(byAgent.map((r) => (r.kind === 'run' ? r.run.id : r.label))).toEqual([
      'claude-code · claude-opus-4-6',
      'r1',
      'codex · gpt-5.4',
      'r3',
    ]);
  });
});

describe('layout and the newest run', () => {
  it('shows cards for a few runs and the table for many unless one was picked', () => {
    expect(shownLayout('auto', 10)).toBe('cards');
    expect(shownLayout('auto', 1008)).toBe('table');
    expect(shownLayout('cards', 1008)).toBe('cards');
    expect(shownLayout('table', 1)).toBe('table');
  });

  it('finds the same newest run as the full sort', () => {
    expect(newestRun(runs)?.id).toBe(sortRunsNewestFirst(runs)[0]!.id);
    expect(newestRun([])).toBeNull();
  });
});
