import type { liveCommands } from '../../shared/contract-live';
import type { HostSession } from '../hosts/host-exec-types';
import type { EventHub } from '../rpc/contract-router';
import type { FeatureRegistration } from '../rpc/feature-registration';
import type { RunService } from '../runs/run-service';
import { LiveStreamService, type LiveRuns } from './live-stream-service';

/** `live.*`: per-viewer terminal streams and the peek shell; each command acts for the peer that calls it. */
export function liveFeature(deps: {
  /** The run service: its syncer's view of the run, its redaction values and its control requests. */
  runs: Pick<RunService, 'runsDir'> & LiveRuns;
  session(host: string): Promise<HostSession>;
  events: EventHub;
}): FeatureRegistration<keyof typeof liveCommands> & { live: LiveStreamService } {
  const live = new LiveStreamService({
    runsDir: deps.runs.runsDir,
    session: deps.session,
    runs: deps.runs,
    events: deps.events,
  });
  return {
    live,
    handlers: {
      'live.open': ({ id, fromOffset, source, catchUp }, ctx) =>
        live.open({ id, fromOffset, source, catchUp }, ctx.peerId),
      'live.ack': ({ streamId, bytes }, ctx) => ({ unacked: live.ack(streamId, bytes, ctx.peerId) }),
      'live.close': ({ streamId }, ctx) => ({ closed: live.close(streamId, ctx.peerId) }),
      'live.peekOpen': ({ id, cols, rows }, ctx) => live.peekOpen({ id, cols, rows }, ctx.peerId),
      'live.input': ({ streamId, data }, ctx) => ({ written: live.input(streamId, data, ctx.peerId) }),
      'live.resize': async ({ streamId, cols, rows }, ctx) => ({
        resized: await live.resize(streamId, cols, rows, ctx.peerId),
      }),
    },
    dispose: () => live.dispose(),
  };
}
