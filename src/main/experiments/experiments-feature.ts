import type { experimentsCommands } from '../../shared/contract-experiments';
import { locateResourcesDir } from '../catalog/rehearsal-resources';
import type { EventHub } from '../rpc/contract-router';
import type { FeatureRegistration } from '../rpc/feature-registration';
import type { RunService } from '../runs/run-service';
import { ExperimentService, type ExperimentServiceOptions } from './experiment-service';
import { RebalanceLoop } from './rebalance-loop';
import { queueBackendFor, slurmQueueBackend } from './slurm-queue';

/** `experiments.*`: a run matrix queued over several hosts' GPUs (issue 17; docs/experiments.md). */
export function experimentsFeature(
  deps: Omit<ExperimentServiceOptions, 'onChanged' | 'stopRun' | 'flagged' | 'launch' | 'dispatcherTickSeconds'> & {
    events: EventHub;
    runs: RunService;
    launch: Omit<ExperimentServiceOptions['launch'], 'resourcesDir'> & { resourcesDir: string | undefined };
    /**
     * `PTW_DISPATCH_TICK_S`: seconds between a dispatcher's looks at its queue (tests shorten the default 5);
     * `PTW_REBALANCE_S`: seconds between the open app's rebalancing passes (default 60).
     */
    env: Readonly<Record<string, string | undefined>>;
  },
): FeatureRegistration<keyof typeof experimentsCommands> & { experiments: ExperimentService } {
  const { events, runs, launch, env, ...options } = deps;
  const tick = Number(env.PTW_DISPATCH_TICK_S);
  const launchDeps = { ...launch, resourcesDir: launch.resourcesDir ?? locateResourcesDir() };
  // A SLURM cluster's queue is SLURM's own: each cell an sbatch job (slurm-queue.ts).
  const slurm = slurmQueueBackend(launchDeps);
  const experiments = new ExperimentService({
    backendFor: (profile) => queueBackendFor(profile, slurm),
    ...options,
    launch: launchDeps,
    ...(tick > 0 ? { dispatcherTickSeconds: tick } : {}),
    onChanged: (id) => events.emit('experiments.changed', { id }),
    // A run the dispatcher started is mirrored here by the run service's discovery, then stopped like any run.
    stopRun: async (host, runId) => {
      await runs.discover(host);
      await runs.control(runId, { action: 'stop' });
    },
    flagged: async (runId) => (await runs.summary(runId)).flagged ?? null,
  });
  const rebalanceSeconds = Number(env.PTW_REBALANCE_S);
  const loop = new RebalanceLoop(experiments, (rebalanceSeconds > 0 ? rebalanceSeconds : 60) * 1000);
  return {
    experiments,
    start: () => loop.start(),
    dispose: () => loop.dispose(),
    handlers: {
      'experiments.preview': ({ text }) => experiments.preview(text),
      'experiments.start': ({ text, file }) => experiments.start(text, file),
      'experiments.list': () => experiments.list(),
      'experiments.get': ({ id }) => experiments.get(id),
      'experiments.stop': ({ id }) => experiments.stop(id),
      'experiments.resume': ({ id }) => experiments.resume(id),
      'experiments.rebalance': ({ id }) => experiments.rebalance(id),
    },
  };
}
