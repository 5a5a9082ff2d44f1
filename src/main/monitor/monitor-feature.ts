import type { monitorCommands } from '../../shared/contract-monitor';
import type { HostSession } from '../hosts/host-exec-types';
import type { EventHub } from '../rpc/contract-router';
import type { FeatureRegistration } from '../rpc/feature-registration';
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
}): FeatureRegistration<keyof typeof monitorCommands> {
  const { events } = deps;
  const monitor = new MonitorService({
    home: deps.home,
    session: deps.session,
    watching: () => events.peerCount > 0,
    emit: (list) => events.emit('monitor.changed', list),
    emitSettings: (settings) => events.emit('monitor.settingsChanged', settings),
  });
  return {
    handlers: {
      'monitor.gpu': ({ id, maxPoints, tailSeconds }) => monitor.gpu(id, maxPoints, tailSeconds),
      'monitor.gpuProcesses': ({ id }) => monitor.gpuProcesses(id),
      'monitor.overview': () => monitor.overview(),
      'monitor.getSettings': () => monitor.settings(),
      'monitor.setSettings': (patch) => monitor.setSettings(patch),
    },
    start: () => monitor.start(),
    dispose: () => monitor.dispose(),
  };
}
