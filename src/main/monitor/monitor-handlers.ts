import type { monitorCommands } from '../../shared/contract-monitor';
import type { CommandHandlers } from '../rpc/contract-router';
import type { MonitorService } from './monitor-service';

/** The `monitor.*` commands, spread into the router in app-services.ts. */
export function monitorHandlers(monitor: MonitorService): Pick<CommandHandlers, keyof typeof monitorCommands> {
  return {
    'monitor.gpu': ({ id, maxPoints, tailSeconds }) => monitor.gpu(id, maxPoints, tailSeconds),
    'monitor.gpuProcesses': ({ id }) => monitor.gpuProcesses(id),
    'monitor.overview': () => monitor.overview(),
    'monitor.getSettings': () => monitor.settings(),
    'monitor.setSettings': (patch) => monitor.setSettings(patch),
  };
}
