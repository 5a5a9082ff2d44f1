import type { CommandInput, CommandName, CommandOutput } from '../../../shared/contract';
import type { AppErrorData, Result } from '../../../shared/errors';
import type { ContractClient } from '../../../shared/rpc/contract-client';
import type { SliceRead, SliceUpdate } from '../slice';

/** One read's facts: the last data (kept while a refetch is on its way), its error, and whether one is in flight. */
export interface QueryEntry<T = unknown> {
  readonly data: T | undefined;
  readonly error: AppErrorData | null;
  readonly loading: boolean;
  /** Number of the latest request; replies to older ones are dropped so a slow reply cannot win. */
  readonly seq: number;
  /** How many mounted readers hold it; the entry is dropped when the last one lets go. */
  readonly holders: number;
}

/**
 * Reads that one view needs (a run's steps, a dataset's page, the leaderboard), cached by command and input.
 * Components read them with `useQuery`; commands that change something go through `run`, so no component holds the
 * contract client or its own copy of a request's error state.
 */
export interface QueriesSlice {
  // A Map, not a record: keys hold run ids and paths from disk.
  readonly entries: ReadonlyMap<string, QueryEntry>;
  /** Asks again (or for the first time); the entry keeps its data until the reply comes. Readers `hold` it first. */
  fetch<K extends CommandName>(command: K, input: CommandInput<K>): Promise<Result<CommandOutput<K>>>;
  /** Stores data a command replied with (e.g. the state after a check) in a held read, as if it had returned it. */
  put<K extends CommandName>(command: K, input: CommandInput<K>, data: CommandOutput<K>): void;
  hold(key: string): void;
  release(key: string): void;
  /** Runs a command that is not a cached read (an action, a page fetched on demand); never throws. */
  run<K extends CommandName>(command: K, input: CommandInput<K>): Promise<Result<CommandOutput<K>>>;
}

/** The cache key of a read: the command and its input, with object keys in a stable order. */
export function queryKey(command: CommandName, input: unknown): string {
  return `${command} ${stableJson(input)}`;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const EMPTY: QueryEntry = { data: undefined, error: null, loading: false, seq: 0, holders: 0 };

export function emptyQueryEntry<T>(): QueryEntry<T> {
  return EMPTY as QueryEntry<T>;
}

function withEntry(
  entries: ReadonlyMap<string, QueryEntry>,
  key: string,
  change: (entry: QueryEntry) => QueryEntry | null,
): ReadonlyMap<string, QueryEntry> {
  const next = new Map(entries);
  const changed = change(entries.get(key) ?? EMPTY);
  if (changed) next.set(key, changed);
  else next.delete(key);
  return next;
}

export function createQueriesSlice(
  client: ContractClient,
  update: SliceUpdate<QueriesSlice>,
  read: SliceRead<QueriesSlice>,
): QueriesSlice {
  const change = (key: string, f: (entry: QueryEntry) => QueryEntry | null) =>
    update((s) => ({ ...s, entries: withEntry(s.entries, key, f) }));
  return {
    entries: new Map(),
    async fetch(command, input) {
      const key = queryKey(command, input);
      const seq = (read().entries.get(key)?.seq ?? 0) + 1;
      change(key, (e) => ({ ...e, loading: true, seq }));
      const result = await client.call(command, input);
      const entry = read().entries.get(key);
      // A reply to an older request, or to a read nobody holds any more, changes nothing.
      if (entry && entry.seq === seq)
        change(key, (e) =>
          result.ok
            ? { ...e, data: result.data, error: null, loading: false }
            : { ...e, error: result.error, loading: false },
        );
      return result;
    },
    put(command, input, data) {
      const key = queryKey(command, input);
      if (read().entries.has(key)) change(key, (e) => ({ ...e, data, error: null, loading: false, seq: e.seq + 1 }));
    },
    hold(key) {
      change(key, (e) => ({ ...e, holders: e.holders + 1 }));
    },
    release(key) {
      change(key, (e) => (e.holders <= 1 ? null : { ...e, holders: e.holders - 1 }));
    },
    run: (command, input) => client.call(command, input),
  };
}
