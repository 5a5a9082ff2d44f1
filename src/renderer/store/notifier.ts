import type { RunNotification } from '../../shared/monitor/run-notifications';

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
