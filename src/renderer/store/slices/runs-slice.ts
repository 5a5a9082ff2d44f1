import type { CatalogTask, CommandOutput, RunDetail, RunSummary } from '../../../shared/contract';
import type { AppErrorData, Result } from '../../../shared/errors';
import type { ContractClient } from '../../../shared/rpc/contract-client';
import { mergeRunSummaries, summaryMoved } from '../../common/run-list';
import { newestRun } from '../../common/run-order';
import { DEFAULT_RUN_QUERY, type RunQuery } from '../../common/run-query';
import { emptyList, listReplaced, loadList, withEntry, type ListState } from '../list-state';
import type { SliceRead, SliceUpdate } from '../slice';

/** What the right-hand pane shows: the selected run, or the launch form. */
export type RunsPane = 'detail' | 'launch';

/** Why the launch form was opened: to fill it in, or to rehearse first (its Rehearse button gets the focus). */
export type LaunchIntent = 'run' | 'rehearse';

/** How the run list is shown: cards, the compact table, or `auto` (cards for a few runs, the table for many). */
export type RunsLayout = 'auto' | 'cards' | 'table';

/** A command on one run that is waiting for its reply. */
export type RunAction = 'stop' | 'kill' | 'extend';

/** The last failed command on a run, shown in its detail pane until the next command on it. */
export interface RunProblem {
  /** What was being done, e.g. "Stopping the run". */
  readonly action: string;
  readonly error: AppErrorData;
}

/** The selected run's record from `runs.get`. */
export interface RunDetailState {
  readonly id: string;
  /** Number of the latest request; older replies are dropped. */
  readonly seq: number;
  readonly loading: boolean;
  /** Kept while a reload is on its way, so the pane does not blank. */
  readonly data: RunDetail | null;
  readonly error: AppErrorData | null;
}

export interface RunsData extends ListState<RunSummary> {
  /** The run the user picked; null (or a vanished id) falls back to the newest. */
  readonly selected: string | null;
  readonly pane: RunsPane;
  readonly launchIntent: LaunchIntent;
  readonly detail: RunDetailState | null;
  // Maps, not records: run ids come from disk and could be `constructor`.
  readonly pending: ReadonlyMap<string, RunAction>;
  readonly problems: ReadonlyMap<string, RunProblem>;
  /** Kept here, not in the page, so leaving the Runs section and coming back finds the list as it was left. */
  readonly layout: RunsLayout;
  readonly query: RunQuery;
}

export type SecretsStatus = CommandOutput<'secrets.status'>;

export interface RunsSlice extends RunsData {
  load(): Promise<void>;
  /** Applies a `runs.changed` event (the full list). */
  receive(runs: RunSummary[]): void;
  select(id: string): void;
  showPane(pane: RunsPane, intent?: LaunchIntent): void;
  setLayout(layout: RunsLayout): void;
  /** Changes part of the search, filters, sort or grouping. */
  setQuery(patch: Partial<RunQuery>): void;
  /** Loads the run's record unless it is the one shown or on its way. */
  ensureDetail(id: string): void;
  /** Loads the run's record again (the pane keeps showing the old one meanwhile). */
  reloadDetail(id: string): Promise<void>;
  /** Starts a run; on success it is in the list and selected. The spec is validated again by main. */
  start(spec: unknown): Promise<Result<RunSummary>>;
  stop(id: string): Promise<Result<RunSummary>>;
  kill(id: string): Promise<Result<RunSummary>>;
  extend(id: string, seconds: number): Promise<Result<RunSummary>>;
  catalogTasks(host: string): Promise<Result<CatalogTask[]>>;
  secretsStatus(names: string[]): Promise<Result<SecretsStatus>>;
  setSecret(name: string, value: string): Promise<Result<{ stored: boolean }>>;
}

export function emptyRuns(): RunsData {
  return {
    ...emptyList<RunSummary>(),
    selected: null,
    pane: 'detail',
    launchIntent: 'run',
    detail: null,
    pending: new Map(),
    problems: new Map(),
    layout: 'auto',
    query: DEFAULT_RUN_QUERY,
  };
}

/** The run the detail pane shows. */
export function selectedRun(state: RunsData): RunSummary | null {
  const chosen = state.items.find((r) => r.id === state.selected);
  return chosen ?? newestRun(state.items);
}

export function runsReceived<S extends RunsData>(state: S, runs: readonly RunSummary[]): S {
  return listReplaced(state, runs);
}

/** Summaries a command returned (start, stop, kill, extend): in the list at once; the event follows. */
export function runsUpserted<S extends RunsData>(state: S, runs: readonly RunSummary[]): S {
  return { ...state, items: mergeRunSummaries(state.items, runs) };
}

export function runSelected<S extends RunsData>(state: S, id: string): S {
  return { ...state, selected: id, pane: 'detail' };
}

export function runsPaneShown<S extends RunsData>(state: S, pane: RunsPane, intent: LaunchIntent = 'run'): S {
  return { ...state, pane, launchIntent: intent };
}

/** A run was launched from this window: shown in the list, selected, the form closed. */
export function runStarted<S extends RunsData>(state: S, run: RunSummary): S {
  return runSelected(runsUpserted(state, [run]), run.id);
}

export function detailLoadStarted<S extends RunsData>(state: S, id: string): S {
  const held = state.detail?.id === id ? state.detail : null;
  return {
    ...state,
    detail: {
      id,
      seq: (state.detail?.seq ?? 0) + 1,
      loading: true,
      data: held?.data ?? null,
      error: held?.error ?? null,
    },
  };
}

/** Applies the reply to request `seq`; a failure keeps the record already shown. */
export function detailLoadFinished<S extends RunsData>(
  state: S,
  id: string,
  seq: number,
  result: Result<RunDetail>,
): S {
  const detail = state.detail;
  if (!detail || detail.id !== id || detail.seq !== seq) return state;
  return {
    ...state,
    detail: result.ok
      ? { ...detail, loading: false, data: result.data, error: null }
      : { ...detail, loading: false, error: result.error },
  };
}

/** Whether the shown record is behind the list: the run moved on since `runs.get` answered. */
export function detailIsStale(state: RunsData): boolean {
  const detail = state.detail;
  if (!detail?.data || detail.loading) return false;
  const latest = state.items.find((r) => r.id === detail.id);
  return latest !== undefined && summaryMoved(detail.data.summary, latest);
}

export function runActionStarted<S extends RunsData>(state: S, id: string, action: RunAction): S {
  return {
    ...state,
    pending: withEntry(state.pending, id, action),
    problems: withEntry(state.problems, id, undefined),
  };
}

export function runActionFinished<S extends RunsData>(
  state: S,
  id: string,
  result: Result<RunSummary>,
  what: string,
): S {
  const pending = withEntry(state.pending, id, undefined);
  if (result.ok) return { ...runsUpserted(state, [result.data]), pending };
  return { ...state, pending, problems: withEntry(state.problems, id, { action: what, error: result.error }) };
}

const actionLabels: Record<RunAction, string> = {
  stop: 'Stopping the run',
  kill: 'Killing the run',
  extend: 'Extending the budget',
};

export function createRunsSlice(
  client: ContractClient,
  update: SliceUpdate<RunsSlice>,
  read: SliceRead<RunsSlice>,
): RunsSlice {
  const loadDetail = async (id: string): Promise<void> => {
    update((runs) => detailLoadStarted(runs, id));
    const seq = read().detail?.seq ?? 0;
    const result = await client.call('runs.get', { id });
    update((runs) => detailLoadFinished(runs, id, seq, result));
  };

  /** After any change to the list: the open record follows its run. */
  const followSelected = (): void => {
    const state = read();
    if (state.pane === 'detail' && detailIsStale(state) && state.detail) void loadDetail(state.detail.id);
  };

  const act = async (id: string, action: RunAction, call: () => Promise<Result<RunSummary>>) => {
    update((runs) => runActionStarted(runs, id, action));
    const result = await call();
    update((runs) => runActionFinished(runs, id, result, actionLabels[action]));
    followSelected();
    return result;
  };

  return {
    ...emptyRuns(),
    async load() {
      await loadList(update, read, () => client.call('runs.list', {}));
      followSelected();
    },
    receive(list) {
      update((runs) => runsReceived(runs, list));
      followSelected();
    },
    select: (id) => update((runs) => runSelected(runs, id)),
    showPane: (pane, intent) => update((runs) => runsPaneShown(runs, pane, intent)),
    setLayout: (layout) => update((runs) => ({ ...runs, layout })),
    setQuery: (patch) => update((runs) => ({ ...runs, query: { ...runs.query, ...patch } })),
    ensureDetail(id) {
      const detail = read().detail;
      if (detail?.id === id && (detail.loading || detail.data)) return;
      void loadDetail(id);
    },
    reloadDetail: (id) => loadDetail(id),
    async start(spec) {
      const result = await client.call('runs.start', { spec });
      if (result.ok) update((runs) => runStarted(runs, result.data));
      return result;
    },
    stop: (id) => act(id, 'stop', () => client.call('runs.stop', { id })),
    kill: (id) => act(id, 'kill', () => client.call('runs.kill', { id })),
    extend: (id, seconds) => act(id, 'extend', () => client.call('runs.extend', { id, seconds })),
    catalogTasks: (host) => client.call('catalog.tasks', { name: host }),
    secretsStatus: (names) => client.call('secrets.status', { names }),
    setSecret: (name, value) => client.call('secrets.set', { name, value }),
  };
}
