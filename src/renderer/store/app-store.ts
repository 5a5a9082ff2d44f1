import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ContractClient } from '../../shared/rpc/contract-client';
import type { ConnectionState } from '../transport/connection-state';
import { createAppSlice, type AppSlice, type Shell } from './slices/app-slice';
import { createHostsSlice, type HostsSlice } from './slices/hosts-slice';
import { createNavSlice, type NavSlice } from './slices/nav-slice';
import { createPrefsSlice, type PrefsSlice } from './slices/prefs-slice';
import { createPromptsSlice, type PromptsSlice } from './slices/prompts-slice';
import { createRunsSlice, type RunsSlice } from './slices/runs-slice';
import type { SliceUpdate } from './slice';

export interface AppStoreState {
  readonly app: AppSlice;
  readonly prefs: PrefsSlice;
  readonly hosts: HostsSlice;
  readonly prompts: PromptsSlice;
  readonly runs: RunsSlice;
  readonly nav: NavSlice;
}

export interface AppStore extends StoreApi<AppStoreState> {
  /** The contract client, for features that keep their own state outside the store (live monitoring, streams). */
  readonly client: ContractClient;
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
}

/** One store per app window, wired by hand to the client it is given (no module-level singleton). */
export function createAppStore(client: ContractClient, options: AppStoreOptions): AppStore {
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
  ];

  return Object.assign(api, {
    client,
    async refresh() {
      const { app, prefs, hosts, runs } = api.getState();
      await Promise.all([app.loadInfo(), prefs.load(), hosts.load(), runs.load()]);
    },
    dispose() {
      for (const unsubscribe of subscriptions.splice(0)) unsubscribe();
    },
  });
}
