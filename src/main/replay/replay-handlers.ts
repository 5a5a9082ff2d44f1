import type { replayCommands } from '../../shared/contract-replay';
import type { CommandHandlers } from '../rpc/contract-router';
import type { ReplayService } from './replay-service';

/** The `replay.*` commands, spread into the router in app-services.ts. */
export function replayHandlers(replay: ReplayService): Pick<CommandHandlers, keyof typeof replayCommands> {
  return {
    'replay.open': ({ id }) => replay.openRun(id),
    'replay.openFile': ({ path }) => replay.openPath(path),
    'replay.openDropped': ({ name, text }) => replay.openDropped(name, text),
    'replay.segment': ({ id, n }) => replay.segment(id, n),
    'replay.search': ({ id, query, limit }) => replay.search(id, query, limit),
  };
}
