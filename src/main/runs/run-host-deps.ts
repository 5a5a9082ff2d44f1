import type { HostProfile } from '../../shared/hosts';
import type { HostSession } from '../hosts/host-exec-types';
import type { EventHub } from '../rpc/contract-router';
import type { RunService } from './run-service';

/** What a feature that works in a run's folder on its host is built from (checkpoints, datasets, integrity). */
export interface RunHostDeps {
  runs: Pick<RunService, 'runsDir' | 'get' | 'hostTarget' | 'list'>;
  session(host: string): Promise<HostSession>;
  profile(host: string): Promise<HostProfile>;
  events: EventHub;
  /** The app's resources/ (found from the bundle's location by default). */
  resourcesDir?: string | undefined;
}
