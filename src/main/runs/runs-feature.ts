import type { runsCommands } from '../../shared/contract-runs';
import type { EventHub } from '../rpc/contract-router';
import type { FeatureRegistration } from '../rpc/feature-registration';
import { RunService, type RunServiceOptions } from './run-service';

/** What a host that could not be asked found. */
const noFinds = { found: [], mirrored: [], restarted: [], removedContainers: [], problems: [] };

/**
 * `runs.*`: launch, the local mirror of every run, rediscovery, control, following a run to its end; in the app and
 * `ptw serve`, the background syncer that keeps live runs current.
 */
export function runsFeature(
  deps: Omit<RunServiceOptions, 'onChanged'> & {
    events: EventHub;
    /** Hosts to rediscover runs on when the background syncer starts (besides those with runs recorded here). */
    usedHosts(): Promise<string[]>;
  },
): FeatureRegistration<keyof typeof runsCommands> & { runs: RunService } {
  const { events, usedHosts, ...options } = deps;
  const runs = new RunService({
    ...options,
    onChanged: (list) => events.emit('runs.changed', list),
    onIntegrityChanged: (runId, verdict) => events.emit('integrity.changed', { runId, verdict }),
  });
  return {
    runs,
    handlers: {
      'runs.list': () => runs.list(),
      'runs.start': async ({ spec }) => {
        const { summary, warnings } = await runs.start(spec);
        return { ...summary, warnings };
      },
      'runs.get': ({ id, sync }) => runs.get(id, sync === undefined ? {} : { sync }),
      'runs.discover': async () => {
        const reports = await runs.discoverAll();
        await runs.syncLive().catch(() => undefined);
        return reports.map((r) => ('error' in r ? { ...r, ...noFinds } : r));
      },
      'runs.follow': ({ id, output, timeoutMs }, ctx) =>
        runs.follow(id, {
          ...(output
            ? { onOutput: (data: string) => events.emitTo(ctx.peerId, 'runs.followOutput', { id, data }) }
            : {}),
          onNote: (text) => events.emitTo(ctx.peerId, 'runs.followNote', { id, text }),
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
        }),
      'runs.stop': ({ id }) => runs.control(id, { action: 'stop' }),
      'runs.kill': ({ id }) => runs.control(id, { action: 'kill' }),
      'runs.extend': ({ id, seconds }) => runs.control(id, { action: 'extend', seconds }),
    },
    start: () => runs.startBackgroundSync({ usedHosts }),
    dispose: () => runs.dispose(),
  };
}
