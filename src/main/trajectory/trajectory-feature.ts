import type { trajectoryCommands } from '../../shared/contract-trajectory';
import type { NamedSecret } from '../../shared/redact';
import { AGENT_IDS } from '../../shared/runs/agent-catalog';
import type { FeatureRegistration } from '../rpc/feature-registration';
import { TrajectoryService } from './trajectory-service';

/** `trajectory.*`: agent steps (paged), one step whole, the run's one timeline, PostTrainBench import. */
export function trajectoryFeature(deps: {
  runsDir: string;
  /** An agent's key values as this app holds them (RunService.redactionSecrets). */
  redactionSecrets: (agentId: string) => Promise<NamedSecret[]>;
  /** After an import added runs (the run list changed). */
  onImported?: () => void;
}): FeatureRegistration<keyof typeof trajectoryCommands> & { trajectory: TrajectoryService } {
  const service = new TrajectoryService(deps.runsDir, {
    // An imported trace is redacted of every agent key this app holds (and of API-key shapes).
    secrets: async () => (await Promise.all(AGENT_IDS.map((id) => deps.redactionSecrets(id)))).flat(),
  });
  return {
    trajectory: service,
    handlers: {
      'trajectory.steps': (input) => service.steps(input),
      'trajectory.step': ({ id, index }) => service.step(id, index),
      'trajectory.timeline': ({ id }) => service.timeline(id),
      'trajectory.importPtb': async ({ path }) => {
        const result = await service.importPtb(path);
        if (result.imported.length > 0) deps.onImported?.();
        return result;
      },
    },
  };
}
