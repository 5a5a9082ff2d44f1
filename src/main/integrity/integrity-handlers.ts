import type { integrityCommands } from '../../shared/contract-integrity';
import type { CommandHandlers } from '../rpc/contract-router';
import type { IntegrityService } from './integrity-service';

/** `integrity.*` commands; `integrity.changed` goes out from the service's onChanged. */
export function integrityHandlers(service: IntegrityService): Pick<CommandHandlers, keyof typeof integrityCommands> {
  return {
    'integrity.check': ({ id, references, testSets, ptbCheckout }) =>
      service.check(id, { references, testSets, ptbCheckout }),
    'integrity.get': ({ id }) => service.get(id),
    'integrity.decide': ({ id, flag, decision, note }) => service.decide(id, flag, decision, note),
  };
}
