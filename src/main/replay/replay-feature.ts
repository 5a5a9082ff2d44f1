import type { replayCommands } from '../../shared/contract-replay';
import type { EventHub } from '../rpc/contract-router';
import type { FeatureRegistration } from '../rpc/feature-registration';
import { ReplayService } from './replay-service';

/** `replay.*`: a run's cast (or any cast file) as an index with keyframes, segments and search. */
export function replayFeature(deps: {
  home: string;
  events: EventHub;
}): FeatureRegistration<keyof typeof replayCommands> & { replay: ReplayService } {
  const replay = new ReplayService({ home: deps.home, onProgress: (p) => deps.events.emit('replay.indexProgress', p) });
  return {
    replay,
    handlers: {
      'replay.open': ({ id }) => replay.openRun(id),
      'replay.openFile': ({ path }) => replay.openPath(path),
      'replay.openDropped': ({ name, text }) => replay.openDropped(name, text),
      'replay.segment': ({ id, n }) => replay.segment(id, n),
      'replay.search': ({ id, query, limit }) => replay.search(id, query, limit),
    },
    dispose: () => replay.dispose(),
  };
}
