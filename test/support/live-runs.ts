import type { HostSession } from '../../src/main/hosts/host-exec-types';
import { RunService } from '../../src/main/runs/run-service';

/**
 * The run service a live-stream test gives the stream service: runs under `home/runs`, the host reached through
 * `session` (a finished run's bundle needs none), and the agents' keys from `keys` (by secret name).
 */
export function liveTestRuns(
  home: string,
  options: { session?: HostSession; keys?: Readonly<Record<string, string>> } = {},
): RunService {
  return new RunService({
    home,
    session: () => (options.session ? Promise.resolve(options.session) : Promise.reject(new Error('no host'))),
    profile: () => Promise.reject(new Error('no host profiles in this test')),
    profiles: () => Promise.resolve([]),
    secrets: {
      get: (name) => {
        const value = options.keys?.[name];
        return Promise.resolve(value === undefined ? undefined : { value, source: 'environment' as const });
      },
    },
    appVersion: 'test',
    by: 'app',
  });
}
