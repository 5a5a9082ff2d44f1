import type { checkpointsCommands } from '../../shared/contract-checkpoints';
import type { HostProfile } from '../../shared/hosts';
import type { HostSession } from '../hosts/host-exec-types';
import type { EventHub } from '../rpc/contract-router';
import type { FeatureRegistration } from '../rpc/feature-registration';
import type { RunService } from '../runs/run-service';
import { CheckpointService } from './checkpoint-service';

/** `checkpoints.*`: a run's checkpoints on its host, and diffs of two (progress to every window). */
export function checkpointsFeature(deps: {
  runs: Pick<RunService, 'get' | 'hostTarget'>;
  session(host: string): Promise<HostSession>;
  profile(host: string): Promise<HostProfile>;
  events: EventHub;
  resourcesDir?: string | undefined;
}): FeatureRegistration<keyof typeof checkpointsCommands> {
  const service = new CheckpointService({
    run: (id) => deps.runs.get(id),
    runHost: (id) => deps.runs.hostTarget(id),
    session: deps.session,
    profile: deps.profile,
    ...(deps.resourcesDir ? { resourcesDir: deps.resourcesDir } : {}),
  });
  return {
    handlers: {
      'checkpoints.list': ({ id }) => service.list(id),
      'checkpoints.diff': ({ id, a, b, bRun }) =>
        service.diff(id, a, b, { onProgress: (p) => deps.events.emit('checkpoints.diffProgress', p), bRun }),
    },
  };
}
