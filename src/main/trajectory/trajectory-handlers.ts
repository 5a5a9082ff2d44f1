import type { CommandHandlers } from '../rpc/contract-router';
import type { trajectoryCommands } from '../../shared/contract-trajectory';
import type { TrajectoryService } from './trajectory-service';

/** The trajectory commands (steps, timeline, PostTrainBench import), spread into the router in app-services.ts. */
export function trajectoryHandlers(
  service: TrajectoryService,
  options: { onImported?: () => void } = {},
): Pick<CommandHandlers, keyof typeof trajectoryCommands> {
  return {
    'trajectory.steps': (input) => service.steps(input),
    'trajectory.timeline': ({ id }) => service.timeline(id),
    'trajectory.importPtb': async ({ path }) => {
      const result = await service.importPtb(path);
      if (result.imported.length > 0) options.onImported?.();
      return result;
    },
  };
}
