import type { leaderboardCommands } from '../../shared/contract-leaderboard';
import type { CommandHandlers } from '../rpc/contract-router';
import { TrajectoryService } from '../trajectory/trajectory-service';
import { LeaderboardService } from './leaderboard-service';

/** `leaderboard.get` and `runs.compare`, spread into the router in app-services.ts. */
export function leaderboardHandlers(deps: {
  runsDir: string;
}): Pick<CommandHandlers, keyof typeof leaderboardCommands> {
  // Its own reader of steps and GPU series (the trajectory handlers keep theirs); both only read the local records.
  const service = new LeaderboardService({ runsDir: deps.runsDir, trajectory: new TrajectoryService(deps.runsDir) });
  return {
    'leaderboard.get': (filter) => service.leaderboard(filter),
    'runs.compare': ({ a, b }) => service.compare(a, b),
  };
}
