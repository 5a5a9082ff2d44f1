import type { checkpointsCommands } from '../../shared/contract-checkpoints';
import type { CommandHandlers } from '../rpc/contract-router';
import type { EventHub } from '../rpc/contract-router';
import type { CheckpointService } from './checkpoint-service';

/** `checkpoints.*` commands; progress of a diff goes to every window as `checkpoints.diffProgress`. */
export function checkpointHandlers(
  service: CheckpointService,
  events: EventHub,
): Pick<CommandHandlers, keyof typeof checkpointsCommands> {
  return {
    'checkpoints.list': ({ id }) => service.list(id),
    'checkpoints.diff': ({ id, a, b, bRun }) =>
      service.diff(id, a, b, { onProgress: (p) => events.emit('checkpoints.diffProgress', p), bRun }),
  };
}
