import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ContractClient } from '../../shared/rpc/contract-client';
import type { ConnectionState } from '../transport/connection-state';
import { createAppSlice, type AppSlice, type Shell } from './slices/app-slice';
import { createHostsSlice, type HostsSlice } from './slices/hosts-slice';
import { createMonitorSlice, type MonitorSlice } from './slices/monitor-slice';
import { createNavSlice, type NavSlice } from './slices/nav-slice';
import { createPrefsSlice, type PrefsSlice } from './slices/prefs-slice';
import { createPromptsSlice, type PromptsSlice } from './slices/prompts-slice';
import { createQueriesSlice, type QueriesSlice } from './slices/queries-slice';
import { createRunsSlice, type RunsSlice } from './slices/runs-slice';
import { webNotifier, type Notifier } from './notifier';
import type { SliceUpdate } from './slice';

export interface AppStoreState {
  readonly app: AppSlice;
  readonly prefs: PrefsSlice;
  readonly hosts: HostsSlice;
  readonly prompts: PromptsSlice;
  readonly runs: RunsSlice;
  readonly nav: NavSlice;
  readonly monitor: MonitorSlice;
  readonly queries: QueriesSlice;
}

export interface AppStore extends StoreApi<AppStoreState> {
  /**
   * The contract client, for what must stay outside the store: terminal byte streams (bytes never enter state) and
   * the store's own hooks (`useQuery`, `useEvent`). Views read through slices and queries.
   */
  readonly client: ContractClient;
  /** Shows desktop notifications (the web Notification API unless a test gives another). */
  readonly notifier: Notifier;
  /** Loads everything the shell shows: at start (Electron) and each time a serve connection opens. */
  refresh(): Promise<void>;
  /** Ends the store's event subscriptions. */
  dispose(): void;
}

export interface AppStoreOptions {
  readonly shell: Shell;
  /** Defaults to open (Electron IPC cannot drop). */
  readonly connection?: ConnectionState;
  readonly reconnect?: () => void;
  readonly notifier?: Notifier;
}

/** One store per app window, wired by hand to the client it is given (no module-level singleton). */
export function createAppStore(client: ContractClient, options: AppStoreOptions): AppStore {
  const notifier = options.notifier ?? webNotifier;
  const api = createStore<AppStoreState>()((set, get) => {
    const updater =
      <K extends keyof AppStoreState>(key: K): SliceUpdate<AppStoreState[K]> =>
      (change) =>
        set((state) => ({ [key]: change(state[key]) }) as Pick<AppStoreState, K>);
    const reportError = (source: string, error: Parameters<AppSlice['reportError']>[1]) =>
      get().app.reportError(source, error);
    return {
      app: createAppSlice(client, updater('app'), {
        shell: options.shell,
        connection: options.connection ?? { status: 'open' },
        ...(options.reconnect ? { reconnect: options.reconnect } : {}),
      }),
      prefs: createPrefsSlice(client, updater('prefs'), () => get().prefs, reportError),
      hosts: createHostsSlice(client, updater('hosts'), () => get().hosts),
      prompts: createPromptsSlice(client, updater('prompts'), reportError),
      runs: createRunsSlice(client, updater('runs'), () => get().runs),
      nav: createNavSlice(updater('nav')),
      monitor: createMonitorSlice(client, updater('monitor'), notifier),
      queries: createQueriesSlice(client, updater('queries'), () => get().queries),
    };
  });

  const subscriptions = [
    client.on('prefs.changed', (prefs) => api.getState().prefs.receive(prefs)),
    client.on('hosts.changed', (hosts) => api.getState().hosts.receive(hosts)),
    client.on('hosts.preflightProgress', ({ name, check }) => api.getState().hosts.receiveProgress(name, check)),
    client.on('hosts.setupProgress', (event) => api.getState().hosts.receiveSetupProgress(event)),
    client.on('hosts.hostKeyPrompt', (prompt) => api.getState().prompts.receive({ kind: 'hostKey', ...prompt })),
    client.on('hosts.passphrasePrompt', (prompt) => api.getState().prompts.receive({ kind: 'passphrase', ...prompt })),
    client.on('hosts.promptClosed', ({ promptId }) => api.getState().prompts.close(promptId)),
    client.on('runs.changed', (runs) => api.getState().runs.receive(runs)),
    client.on('monitor.changed', (list) => api.getState().monitor.receive(list)),
    client.on('monitor.settingsChanged', (settings) => api.getState().monitor.receiveSettings(settings)),
  ];

  return Object.assign(api, {
    client,
    notifier,
    async refresh() {
      const { app, prefs, hosts, runs, monitor } = api.getState();
      // A serve connection that opens again may have missed pushes: everything is asked for again.
      await Promise.all([app.loadInfo(), prefs.load(), hosts.load(), runs.load(), monitor.load()]);
    },
    dispose() {
      for (const unsubscribe of subscriptions.splice(0)) unsubscribe();
    },
  });
}
