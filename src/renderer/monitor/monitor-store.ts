import { useStore } from 'zustand';
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { MonitorSettings, RunMonitor } from '../../shared/contract-monitor';
import type { AppErrorData } from '../../shared/errors';
import { runNotifications, type RunNotification, type RunWatchFacts } from '../../shared/monitor/run-notifications';
import type { AppStore } from '../store/app-store';
import { useAppStoreApi } from '../store/store-context';

/**
 * Live monitoring facts per run (`monitor.overview`, then `monitor.changed` pushes), kept beside the app store:
 * one per app store, created on first use and living as long as the window. It also drives desktop notifications,
 * so it is started at the app's root (see {@link RunNotifications}) rather than by whichever view opens first.
 */

export interface MonitorState {
  readonly runs: ReadonlyMap<string, RunMonitor>;
  readonly settings: MonitorSettings | null;
  readonly loaded: boolean;
  readonly error: AppErrorData | null;
  /** The Notification API's permission in this window (`unsupported` where there is none). */
  readonly permission: NotificationPermission | 'unsupported';
  /** Notifications shown in this window, newest last (also for tests: the API's pop-ups are outside the page). */
  readonly shown: readonly RunNotification[];
  load(): Promise<void>;
  setSettings(patch: Partial<MonitorSettings>): Promise<AppErrorData | null>;
  /** Asks for permission to notify; call from a user action (a click), as browsers require. */
  requestPermission(): Promise<void>;
}

export interface MonitorStore extends StoreApi<MonitorState> {
  /** Ends its subscriptions (to the client and to the app store). */
  dispose(): void;
}

/** What shows a notification: the web Notification API, in a browser and in Electron alike. */
export interface Notifier {
  permission(): NotificationPermission | 'unsupported';
  request(): Promise<NotificationPermission | 'unsupported'>;
  show(notification: RunNotification, onClick: () => void): void;
}

export const webNotifier: Notifier = {
  permission: () => (typeof Notification === 'undefined' ? 'unsupported' : Notification.permission),
  async request() {
    if (typeof Notification === 'undefined') return 'unsupported';
    return Notification.requestPermission();
  },
  show(n, onClick) {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    // The tag collapses the same transition shown by two windows (the app and a browser) into one.
    const shown = new Notification(n.title, { body: n.body, tag: n.key });
    shown.onclick = () => {
      window.focus();
      onClick();
      shown.close();
    };
  },
};

function byId(list: readonly RunMonitor[]): ReadonlyMap<string, RunMonitor> {
  return new Map(list.map((m) => [m.id, m]));
}

const MAX_SHOWN = 50;

/** Creates the monitor store for an app store and starts its subscriptions and the notifier. */
export function createMonitorStore(app: AppStore, notifier: Notifier = webNotifier): MonitorStore {
  const client = app.client;
  const store = createStore<MonitorState>()((set) => ({
    runs: new Map(),
    settings: null,
    loaded: false,
    error: null,
    permission: notifier.permission(),
    shown: [],
    async load() {
      const [overview, settings] = await Promise.all([
        client.call('monitor.overview', {}),
        client.call('monitor.getSettings', {}),
      ]);
      set({
        ...(overview.ok ? { runs: byId(overview.data), loaded: true, error: null } : { error: overview.error }),
        ...(settings.ok ? { settings: settings.data } : {}),
      });
    },
    async setSettings(patch) {
      const result = await client.call('monitor.setSettings', patch);
      if (!result.ok) return result.error;
      set({ settings: result.data });
      return null;
    },
    async requestPermission() {
      set({ permission: await notifier.request() });
    },
  }));

  // --- notifications: one per transition, decided by the pure runNotifications ---------------------------------
  let previous: Map<string, RunWatchFacts> | null = null;
  const sent = new Set<string>();
  const check = (): void => {
    const runs = app.getState().runs;
    if (!runs.loaded || !store.getState().loaded) return;
    const monitors = store.getState().runs;
    const facts: RunWatchFacts[] = runs.items.map((r) => ({
      id: r.id,
      label: r.label,
      status: r.status,
      stoppedAt: r.stoppedAt ?? null,
      stopReason: r.stopReason ?? null,
      score: r.score ?? null,
      error: r.error ?? null,
      gpuIdle: monitors.get(r.id)?.idle ?? null,
    }));
    if (previous !== null) {
      const due = runNotifications(previous, facts, sent);
      for (const n of due) {
        sent.add(n.key);
        notifier.show(n, () => {
          const state = app.getState();
          state.nav.setSection('runs');
          state.runs.select(n.runId);
        });
      }
      if (due.length > 0) store.setState((s) => ({ shown: [...s.shown, ...due].slice(-MAX_SHOWN) }));
    }
    previous = new Map(facts.map((f) => [f.id, f]));
  };

  // An integrity pass (live or final) that flags a run: once per run and window (issue 13).
  const integrityFlag = (runId: string): void => {
    const key = `integrity-flag:${runId}`;
    if (sent.has(key)) return;
    sent.add(key);
    const label = app.getState().runs.items.find((r) => r.id === runId)?.label ?? runId;
    const n: RunNotification = {
      key,
      kind: 'integrity-flag',
      runId,
      title: `Integrity flag: ${label}`,
      body: 'The integrity checks flagged this run; its Integrity tab has the evidence.',
    };
    notifier.show(n, () => {
      const state = app.getState();
      state.nav.setSection('runs');
      state.runs.select(runId);
    });
    store.setState((s) => ({ shown: [...s.shown, n].slice(-MAX_SHOWN) }));
  };

  const unsubscribe = [
    client.on('integrity.changed', (p) => {
      if (p.verdict === 'flagged') integrityFlag(p.runId);
    }),
    client.on('monitor.changed', (list) => store.setState({ runs: byId(list), loaded: true })),
    client.on('monitor.settingsChanged', (settings) => store.setState({ settings })),
    // A serve connection that opens again may have missed pushes: ask for the whole list.
    app.subscribe((state, before) => {
      if (state.app.connection.status === 'open' && before.app.connection.status !== 'open')
        void store.getState().load();
      if (state.runs.items !== before.runs.items || state.runs.loaded !== before.runs.loaded) check();
    }),
    store.subscribe((state, before) => {
      if (state.runs !== before.runs) check();
    }),
  ];
  void store.getState().load();
  return Object.assign(store, { dispose: () => unsubscribe.splice(0).forEach((u) => u()) });
}

const stores = new WeakMap<AppStore, MonitorStore>();

export function monitorStoreFor(app: AppStore): MonitorStore {
  let store = stores.get(app);
  if (!store) {
    const created = createMonitorStore(app);
    stores.set(app, created);
    window.addEventListener('pagehide', () => created.dispose(), { once: true });
    store = created;
  }
  return store;
}

/** Reads from the monitor store; as with useAppStore, selectors return stored values or primitives. */
export function useMonitor<U>(selector: (state: MonitorState) => U): U {
  return useStore(monitorStoreFor(useAppStoreApi()), selector);
}

/** Starts monitoring (and so notifications) for the window; renders nothing. Mounted once at the app's root. */
export function RunNotifications(): null {
  useMonitor((s) => s.loaded);
  return null;
}
