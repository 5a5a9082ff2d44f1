import type { CatalogTask, catalogCommands } from '../../shared/contract-catalog';
import type { HostProfile } from '../../shared/hosts';
import { REHEARSAL_TASK } from '../../shared/runs/task-catalog';
import type { HostSession } from '../hosts/host-exec-types';
import type { FeatureRegistration } from '../rpc/feature-registration';
import { readPtbCheckout } from './ptb-checkout';

/** `catalog.tasks`: the built-in rehearsal, plus the benchmarks of the host's PostTrainBench checkout. */
export function catalogFeature(deps: {
  session(host: string): Promise<HostSession>;
  profile(host: string): Promise<HostProfile>;
}): FeatureRegistration<keyof typeof catalogCommands> {
  return {
    handlers: {
      async 'catalog.tasks'({ name }) {
        const profile = await deps.profile(name);
        const tasks: CatalogTask[] = [{ kind: 'rehearsal', displayName: REHEARSAL_TASK.label, requiredApiKeys: [] }];
        if (!profile.ptbCheckout) return tasks;
        const checkout = await readPtbCheckout(await deps.session(name), profile.ptbCheckout);
        for (const task of checkout.tasks) {
          tasks.push({
            kind: 'ptb',
            benchmark: task.benchmark,
            displayName: task.displayName,
            requiredApiKeys: task.requiredApiKeys,
          });
        }
        return tasks;
      },
    },
  };
}
