import type { leaderboardCommands } from '../../shared/contract-leaderboard';
import type { FeatureRegistration } from '../rpc/feature-registration';
import { LeaderboardService } from './leaderboard-service';

/** `leaderboard.get` and `runs.compare`: PostTrainBench's score over every finished run, and two runs side by side. */
export function leaderboardFeature(deps: {
  runsDir: string;
  /** Steps and the GPU series of a run (the trajectory feature's reader of the local records). */
  trajectory: ConstructorParameters<typeof LeaderboardService>[0]['trajectory'];
}): FeatureRegistration<keyof typeof leaderboardCommands> {
  const service = new LeaderboardService({ runsDir: deps.runsDir, trajectory: deps.trajectory });
  return {
    handlers: {
      'leaderboard.get': (filter) => service.leaderboard(filter),
      'runs.compare': ({ a, b }) => service.compare(a, b),
    },
  };
}
