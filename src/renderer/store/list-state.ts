import type { AppErrorData, Result } from '../../shared/errors';
import type { SliceRead, SliceUpdate } from './slice';

/** A list fetched from the node side (hosts, runs): the items plus the facts about the last request. */
export interface ListState<T> {
  readonly items: readonly T[];
  /** True once a load has succeeded, so an empty list means "there are none", not "not asked yet". */
  readonly loaded: boolean;
  readonly loading: boolean;
  readonly error: AppErrorData | null;
  /** Number of the latest request; replies to older ones are dropped so a slow reply cannot win. */
  readonly requestSeq: number;
}

export function emptyList<T>(): ListState<T> {
  return { items: [], loaded: false, loading: false, error: null, requestSeq: 0 };
}

export function listLoadStarted<S extends ListState<unknown>>(state: S): S {
  return { ...state, loading: true, requestSeq: state.requestSeq + 1 };
}

/** Applies the reply to request `seq`. A failure keeps the items already shown. */
export function listLoadFinished<S extends ListState<unknown>>(state: S, seq: number, result: Result<S['items']>): S {
  if (seq !== state.requestSeq) return state;
  if (result.ok) return { ...state, items: result.data, loaded: true, loading: false, error: null };
  return { ...state, loading: false, error: result.error };
}

/** Loads the list through `fetch`: marks it loading, then applies the reply unless a newer load has started since. */
export async function loadList<S extends ListState<unknown>>(
  update: SliceUpdate<S>,
  read: SliceRead<S>,
  fetch: () => Promise<Result<S['items']>>,
): Promise<void> {
  update(listLoadStarted);
  const seq = read().requestSeq;
  const result = await fetch();
  update((state) => listLoadFinished(state, seq, result));
}

export type ListView = 'loading' | 'error' | 'empty' | 'items';

/** What a section shows as its body. Errors after a successful load are shown above the items instead. */
export function listView(state: ListState<unknown>): ListView {
  if (!state.loaded) return state.error && !state.loading ? 'error' : 'loading';
  return state.items.length === 0 ? 'empty' : 'items';
}

/**
 * The whole list pushed by an event (e.g. `hosts.changed`). It supersedes any request in flight, whose
 * older reply is then dropped like any stale one.
 */
export function listReplaced<S extends ListState<unknown>>(state: S, items: S['items']): S {
  return { ...state, items, loaded: true, loading: false, error: null, requestSeq: state.requestSeq + 1 };
}

/**
 * A copy of `map` with `key` set to `value`, or without `key` when `value` is undefined: the per-item maps a list
 * slice keeps beside its items (a host's or a run's pending command, its last problem).
 */
export function withEntry<V>(map: ReadonlyMap<string, V>, key: string, value: V | undefined): ReadonlyMap<string, V> {
  const next = new Map(map);
  if (value === undefined) next.delete(key);
  else next.set(key, value);
  return next;
}
