import type { RunNotification } from '../../shared/monitor/run-notifications';
import type { ContractClient } from '../../shared/rpc/contract-client';

/** What shows a notification: the web Notification API in a browser, the OS's own through main in the desktop app. */
export interface Notifier {
  permission(): NotificationPermission | 'unsupported';
  request(): Promise<NotificationPermission | 'unsupported'>;
  show(notification: RunNotification, onClick: () => void): void;
  dispose?(): void;
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

/**
 * The desktop app's notifier (issue 19): the same notifications, shown by main with Electron's `Notification`
 * (`monitor.notify`), which needs no page permission; a click comes back as `monitor.notificationClicked`.
 */
export function desktopNotifier(client: ContractClient): Notifier {
  const clicks = new Map<string, () => void>();
  const unsubscribe = client.on('monitor.notificationClicked', ({ key }) => {
    const onClick = clicks.get(key);
    clicks.delete(key);
    onClick?.();
  });
  return {
    permission: () => 'granted',
    request: () => Promise.resolve('granted'),
    show(n, onClick) {
      clicks.set(n.key, onClick);
      void client.call('monitor.notify', n).then((reply) => {
        // Where the OS has no notifications, the page's own API is the fallback.
        if (!(reply.ok && reply.data.shown)) {
          clicks.delete(n.key);
          webNotifier.show(n, onClick);
        }
      });
    },
    dispose: () => {
      clicks.clear();
      unsubscribe();
    },
  };
}
