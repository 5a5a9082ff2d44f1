import type { RunNotification } from '../../shared/monitor/run-notifications';

/**
 * The desktop app's notifications (issue 19): the renderer decides them (`runNotifications`, the same text the
 * browser's Notification API shows under `ptw serve`) and main shows them with Electron's `Notification`, which
 * the OS attributes to the app and which works whatever the page's permission state. Only the shape of Electron's
 * class is used here, so this stays type-checked and testable outside Electron; electron-main.ts passes the real one.
 */

/** What this uses of an Electron `Notification`. */
export interface DesktopNotificationLike {
  on(event: 'click', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  show(): void;
}

/** What this uses of Electron's `Notification` class. */
export interface DesktopNotificationApi {
  new (options: { title: string; body: string }): DesktopNotificationLike;
  isSupported(): boolean;
}

export interface DesktopNotifierOptions {
  readonly Notification: DesktopNotificationApi;
  /** Brings the app's window forward when a notification is clicked. */
  readonly focus: () => void;
}

export class DesktopNotifier {
  /**
   * Shown notifications by key: one per key however many windows ask (the web API's `tag` does this in a browser),
   * and each kept referenced until clicked or closed, or Electron's garbage collector drops its click handler.
   */
  private readonly shown = new Map<string, DesktopNotificationLike>();
  private readonly seen = new Set<string>();

  constructor(private readonly options: DesktopNotifierOptions) {}

  /** Shows `n` unless a notification with its key was shown already; false where the OS has none. */
  show(n: RunNotification, onClick: () => void): boolean {
    const { Notification } = this.options;
    if (!Notification.isSupported()) return false;
    if (this.seen.has(n.key)) return true;
    this.seen.add(n.key);
    const shown = new Notification({ title: n.title, body: n.body });
    this.shown.set(n.key, shown);
    shown.on('click', () => {
      this.shown.delete(n.key);
      this.options.focus();
      onClick();
    });
    shown.on('close', () => this.shown.delete(n.key));
    shown.show();
    return true;
  }

  /** Notifications still on screen (tests). */
  get open(): number {
    return this.shown.size;
  }
}
