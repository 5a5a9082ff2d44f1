import type { monitorCommands } from '../../shared/contract-monitor';
import type { HostSession } from '../hosts/host-exec-types';
import type { EventHub } from '../rpc/contract-router';
import type { FeatureRegistration } from '../rpc/feature-registration';
import { DesktopNotifier, type DesktopNotifierOptions } from './desktop-notifier';
import { MonitorService } from './monitor-service';

/**
 * `monitor.*`: GPU charts, idle alerts and countdown offsets, read from the local mirror the run syncer keeps;
 * `monitor.changed` every second while someone watches (app and `ptw serve` only).
 */
export function monitorFeature(deps: {
  home: string;
  events: EventHub;
  /** A background session: it never asks a person anything. */
  session(host: string): Promise<HostSession>;
  /** The desktop app's own notifications (Electron's `Notification`); none under `ptw serve` and the CLI. */
  desktopNotifications?: DesktopNotifierOptions | undefined;
}): FeatureRegistration<keyof typeof monitorCommands> {
  const { events } = deps;
  const monitor = new MonitorService({
    home: deps.home,
    session: deps.session,
    watching: () => events.peerCount > 0,
    emit: (list) => events.emit('monitor.changed', list),
    emitSettings: (settings) => events.emit('monitor.settingsChanged', settings),
  });
  const notifier = deps.desktopNotifications && new DesktopNotifier(deps.desktopNotifications);
  return {
    handlers: {
      'monitor.gpu': ({ id, maxPoints, tailSeconds }) => monitor.gpu(id, maxPoints, tailSeconds),
      'monitor.gpuProcesses': ({ id }) => monitor.gpuProcesses(id),
      'monitor.overview': () => monitor.overview(),
      'monitor.getSettings': () => monitor.settings(),
      'monitor.setSettings': (patch) => monitor.setSettings(patch),
      'monitor.notify': (n, ctx) => ({
        shown:
          notifier?.show(n, () =>
            events.emitTo(ctx.peerId, 'monitor.notificationClicked', { key: n.key, runId: n.runId }),
          ) ?? false,
      }),
    },
    start: () => monitor.start(),
    dispose: () => monitor.dispose(),
  };
}
