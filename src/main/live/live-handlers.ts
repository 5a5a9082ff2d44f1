import type { liveCommands } from '../../shared/contract-live';
import type { CommandHandlers } from '../rpc/contract-router';
import type { LiveStreamService } from './live-stream-service';

/** The `live.*` commands: each acts for the peer that calls it (its streams, its events). */
export function liveHandlers(live: LiveStreamService): Pick<CommandHandlers, keyof typeof liveCommands> {
  return {
    'live.open': ({ id, fromOffset, source, catchUp }, ctx) =>
      live.open({ id, fromOffset, source, catchUp }, ctx.peerId),
    'live.ack': ({ streamId, bytes }, ctx) => ({ unacked: live.ack(streamId, bytes, ctx.peerId) }),
    'live.close': ({ streamId }, ctx) => ({ closed: live.close(streamId, ctx.peerId) }),
    'live.peekOpen': ({ id, cols, rows }, ctx) => live.peekOpen({ id, cols, rows }, ctx.peerId),
    'live.input': ({ streamId, data }, ctx) => ({ written: live.input(streamId, data, ctx.peerId) }),
    'live.resize': async ({ streamId, cols, rows }, ctx) => ({
      resized: await live.resize(streamId, cols, rows, ctx.peerId),
    }),
  };
}
