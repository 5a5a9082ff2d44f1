import type { hostSetupCommands } from '../../shared/contract-host-setup';
import type { HostProfile, PreflightReport } from '../../shared/hosts';
import type { EventHub } from '../rpc/contract-router';
import type { FeatureRegistration } from '../rpc/feature-registration';
import type { HostSession } from './host-exec-types';
import { HostSetupService } from './host-setup';

/** `hosts.setup`: a fresh GPU host made ready for PostTrainBench runs; each step's progress as `hosts.setupProgress`. */
export function hostSetupFeature(deps: {
  events: EventHub;
  session(host: string): Promise<HostSession>;
  profile(host: string): Promise<HostProfile>;
  saveProfile(profile: HostProfile): Promise<void>;
  /** Preflight, as `hosts.check` runs it (with its progress events). */
  preflight(host: string): Promise<PreflightReport>;
  resourcesDir?: string | undefined;
}): FeatureRegistration<keyof typeof hostSetupCommands> {
  const service = new HostSetupService({
    session: deps.session,
    profile: deps.profile,
    saveProfile: deps.saveProfile,
    emit: (event) => deps.events.emit('hosts.setupProgress', event),
    preflight: deps.preflight,
    ...(deps.resourcesDir ? { resourcesDir: deps.resourcesDir } : {}),
  });
  return { handlers: { 'hosts.setup': (input) => service.setup(input) } };
}
