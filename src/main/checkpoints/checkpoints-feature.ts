import type { checkpointsCommands } from '../../shared/contract-checkpoints';
import type { FeatureRegistration } from '../rpc/feature-registration';
import type { RunHostDeps } from '../runs/run-host-deps';
import { CheckpointService } from './checkpoint-service';

/** `checkpoints.*`: a run's checkpoints on its host, and diffs of two (progress to every window). */
export function checkpointsFeature(deps: RunHostDeps): FeatureRegistration<keyof typeof checkpointsCommands> {
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
