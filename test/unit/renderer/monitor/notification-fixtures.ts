import { vi } from 'vitest';
import { watchRunNotifications } from '../../../../src/renderer/monitor/run-notification-watch';
import { createAppStore } from '../../../../src/renderer/store/app-store';
import type { Notifier } from '../../../../src/renderer/store/notifier';
import type { RunMonitor } from '../../../../src/shared/contract-monitor';
import type { RunSummary } from '../../../../src/shared/contract';
import type { RunNotification } from '../../../../src/shared/monitor/run-notifications';
import { fakeClient } from '../fakes';

/**
 * An app store over a fake client with these runs and monitors, a notifier that records what it shows (and the
 * click handlers), and the notifications watch started on it.
 */
export function watchedStore(runs: RunSummary[], monitors: RunMonitor[] = []) {
  const fake = fakeClient({
    'runs.list': () => ({ ok: true, data: runs }),
    'monitor.overview': () => ({ ok: true, data: monitors }),
    'monitor.getSettings': () => ({ ok: true, data: { idleMinutes: 10, idleThresholdPct: 5 } }),
  });
  const shown: RunNotification[] = [];
  const clicks: Array<() => void> = [];
  const notifier: Notifier = {
    permission: () => 'granted',
    request: vi.fn(async () => 'granted' as const),
    show: (n, onClick) => {
      shown.push(n);
      clicks.push(onClick);
    },
  };
  const app = createAppStore(fake.client, { shell: { kind: 'electron' }, notifier });
  const stopWatching = watchRunNotifications(app);
  return { fake, app, stopWatching, shown, clicks, notifier };
}
