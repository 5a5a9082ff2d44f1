import type { AppInfo } from '../../../shared/contract';
import type { AppErrorData } from '../../../shared/errors';
import type { ContractClient } from '../../../shared/rpc/contract-client';
import type { ConnectionState } from '../../transport/connection-state';
import type { SliceUpdate } from '../slice';

/** Which shell the renderer runs in, as decided by transport selection. */
export type Shell = { readonly kind: 'electron' } | { readonly kind: 'serve'; readonly address: string };

/** A failure with no better place in the UI than the app-wide banner. */
export interface ErrorNotice {
  readonly id: number;
  /** What was being done, e.g. "Saving the theme". */
  readonly source: string;
  readonly error: AppErrorData;
}

export interface AppData {
  readonly shell: Shell;
  readonly info: AppInfo | null;
  readonly connection: ConnectionState;
  readonly errors: readonly ErrorNotice[];
  readonly nextErrorId: number;
}

export interface AppSlice extends AppData {
  loadInfo(): Promise<void>;
  reportError(source: string, error: AppErrorData): void;
  dismissError(id: number): void;
  setConnection(connection: ConnectionState): void;
  /** Re-opens a dropped `ptw serve` connection; does nothing in Electron. */
  reconnect(): void;
}

export const maxErrorNotices = 5;

/** Adds a notice, replacing an identical one (same source and code) and keeping the newest few. */
export function errorReported<S extends AppData>(state: S, source: string, error: AppErrorData): S {
  const others = state.errors.filter((n) => !(n.source === source && n.error.code === error.code));
  const errors = [...others, { id: state.nextErrorId, source, error }].slice(-maxErrorNotices);
  return { ...state, errors, nextErrorId: state.nextErrorId + 1 };
}

export function errorDismissed<S extends AppData>(state: S, id: number): S {
  return { ...state, errors: state.errors.filter((n) => n.id !== id) };
}

/** Records the new connection state; once open again, notices caused by the dropped connection are stale. */
export function connectionChanged<S extends AppData>(state: S, connection: ConnectionState): S {
  const errors =
    connection.status === 'open' ? state.errors.filter((n) => n.error.code !== 'TRANSPORT_CLOSED') : state.errors;
  return { ...state, connection, errors };
}

export interface AppSliceOptions {
  readonly shell: Shell;
  readonly connection: ConnectionState;
  readonly reconnect?: () => void;
}

export function createAppSlice(
  client: ContractClient,
  update: SliceUpdate<AppSlice>,
  options: AppSliceOptions,
): AppSlice {
  return {
    shell: options.shell,
    info: null,
    connection: options.connection,
    errors: [],
    nextErrorId: 1,
    async loadInfo() {
      const result = await client.call('app.info', {});
      if (result.ok) update((app) => ({ ...app, info: result.data }));
      else update((app) => errorReported(app, 'Loading app info', result.error));
    },
    reportError: (source, error) => update((app) => errorReported(app, source, error)),
    dismissError: (id) => update((app) => errorDismissed(app, id)),
    setConnection: (connection) => update((app) => connectionChanged(app, connection)),
    reconnect: () => options.reconnect?.(),
  };
}
