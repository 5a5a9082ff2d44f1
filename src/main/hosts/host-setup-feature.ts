import type { hostSetupCommands } from '../../shared/contract-host-setup';
import type { EventHub } from '../rpc/contract-router';
import type { FeatureRegistration } from '../rpc/feature-registration';
import { HostSetupService, type HostSetupDeps } from './host-setup';

/** `hosts.setup`: a fresh GPU host made ready for PostTrainBench runs; each step's progress as `hosts.setupProgress`. */
export function hostSetupFeature(
  deps: Omit<HostSetupDeps, 'emit'> & { events: EventHub },
): FeatureRegistration<keyof typeof hostSetupCommands> {
  const { events, ...rest } = deps;
  const service = new HostSetupService({ ...rest, emit: (event) => events.emit('hosts.setupProgress', event) });
  return { handlers: { 'hosts.setup': (input) => service.setup(input) } };
}
