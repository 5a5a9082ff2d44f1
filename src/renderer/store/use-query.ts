import { useCallback, useEffect, useEffectEvent, useLayoutEffect, useRef } from 'react';
import type { CommandInput, CommandName, CommandOutput, EventName, EventPayload } from '../../shared/contract';
import type { AppErrorData, Result } from '../../shared/errors';
import { emptyQueryEntry, queryKey } from './slices/queries-slice';
import { useAppStore, useAppStoreApi } from './store-context';

/** An event after which a read is asked again, optionally only for some payloads (e.g. this run's). */
export type RefetchOn = { [E in EventName]: { event: E; when?: (payload: EventPayload<E>) => boolean } }[EventName];

export interface QueryView<T> {
  /** The last data (kept while a refetch is on its way); undefined until the first reply. */
  readonly data: T | undefined;
  readonly error: AppErrorData | null;
  readonly loading: boolean;
  /** Asks again; the reply also lands in `data`/`error`. */
  readonly reload: () => Promise<Result<T>>;
}

export interface QueryOptions {
  /** Events after which the read is asked again; subscribed while the component is mounted. */
  readonly refetchOn?: readonly RefetchOn[];
  /** A fact (a string or number) whose change asks again, e.g. a digest of the runs list a leaderboard is built from. */
  readonly refetchWhen?: string | number;
}

/**
 * Reads `command(input)` through the store's query cache: asked when the component mounts or the input changes,
 * again on `refetchOn` events, dropped from the cache when the last reader unmounts. `input: null` asks nothing.
 */
export function useQuery<K extends CommandName>(
  command: K,
  input: CommandInput<K> | null,
  options: QueryOptions = {},
): QueryView<CommandOutput<K>> {
  const store = useAppStoreApi();
  const key = input === null ? null : queryKey(command, input);
  // Callers may pass fresh objects on every render: effects depend on the key, and read these as of the last render.
  const inputRef = useRef(input);
  const refetchOn = useRef(options.refetchOn);
  useLayoutEffect(() => {
    inputRef.current = input;
    refetchOn.current = options.refetchOn;
  });

  const reload = useCallback(async (): Promise<Result<CommandOutput<K>>> => {
    const current = inputRef.current;
    if (current === null)
      return { ok: false, error: { code: 'INVALID_INPUT', message: 'Nothing to load', retryable: false } };
    return store.getState().queries.fetch(command, current);
  }, [store, command]);

  useEffect(() => {
    if (key === null) return;
    const queries = store.getState().queries;
    queries.hold(key);
    void reload();
    const offs = (refetchOn.current ?? []).map(({ event, when }) => {
      const matches = when as ((payload: unknown) => boolean) | undefined;
      return store.client.on(event as EventName, (payload: unknown) => {
        if (!matches || matches(payload)) void reload();
      });
    });
    return () => {
      for (const off of offs) off();
      store.getState().queries.release(key);
    };
  }, [store, key, reload]);

  const when = options.refetchWhen;
  const seenWhen = useRef(when);
  useEffect(() => {
    if (seenWhen.current === when) return;
    seenWhen.current = when;
    void reload();
  }, [when, reload]);

  const entry = useAppStore((s) => (key === null ? undefined : s.queries.entries.get(key))) ?? emptyQueryEntry();
  return {
    data: entry.data as CommandOutput<K> | undefined,
    error: entry.error,
    // Until the first fetch has started the read is as good as loading.
    loading: key !== null && (entry.loading || (entry.data === undefined && entry.error === null)),
    reload,
  };
}

/** Listens to one contract event while the component is mounted (progress of a long command, for instance). */
export function useEvent<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): void {
  const store = useAppStoreApi();
  const onEvent = useEffectEvent(listener);
  useEffect(() => store.client.on(event, (payload) => onEvent(payload)), [store, event]);
}
