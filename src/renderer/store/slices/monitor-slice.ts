import type { MonitorSettings, RunMonitor } from '../../../shared/contract-monitor';
import type { AppErrorData } from '../../../shared/errors';
import type { ContractClient } from '../../../shared/rpc/contract-client';
import type { RunNotification } from '../../../shared/monitor/run-notifications';
import type { Notifier } from '../notifier';
import type { SliceUpdate } from '../slice';

/** Live monitoring facts per run (`monitor.overview`, then `monitor.changed` pushes) and the notifications shown. */
export interface MonitorSlice {
  readonly runs: ReadonlyMap<string, RunMonitor>;
  readonly settings: MonitorSettings | null;
  readonly loaded: boolean;
  readonly error: AppErrorData | null;
  /** The Notification API's permission in this window (`unsupported` where there is none). */
  readonly permission: NotificationPermission | 'unsupported';
  /** Notifications shown in this window, newest last (also for tests: the API's pop-ups are outside the page). */
  readonly shown: readonly RunNotification[];
  load(): Promise<void>;
  /** Applies a `monitor.changed` event (every run's monitor). */
  receive(list: readonly RunMonitor[]): void;
  receiveSettings(settings: MonitorSettings): void;
  setSettings(patch: Partial<MonitorSettings>): Promise<AppErrorData | null>;
  /** Asks for permission to notify; call from a user action (a click), as browsers require. */
  requestPermission(): Promise<void>;
  /** Records notifications just shown. */
  addShown(notifications: readonly RunNotification[]): void;
}

const MAX_SHOWN = 50;

function byId(list: readonly RunMonitor[]): ReadonlyMap<string, RunMonitor> {
  return new Map(list.map((m) => [m.id, m]));
}

export function createMonitorSlice(
  client: ContractClient,
  update: SliceUpdate<MonitorSlice>,
  notifier: Notifier,
): MonitorSlice {
  return {
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
      update((s) => ({
        ...s,
        ...(overview.ok ? { runs: byId(overview.data), loaded: true, error: null } : { error: overview.error }),
        ...(settings.ok ? { settings: settings.data } : {}),
      }));
    },
    receive: (list) => update((s) => ({ ...s, runs: byId(list), loaded: true })),
    receiveSettings: (settings) => update((s) => ({ ...s, settings })),
    async setSettings(patch) {
      const result = await client.call('monitor.setSettings', patch);
      if (!result.ok) return result.error;
      update((s) => ({ ...s, settings: result.data }));
      return null;
    },
    async requestPermission() {
      const permission = await notifier.request();
      update((s) => ({ ...s, permission }));
    },
    addShown: (notifications) => update((s) => ({ ...s, shown: [...s.shown, ...notifications].slice(-MAX_SHOWN) })),
  };
}
