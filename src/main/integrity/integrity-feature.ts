import path from 'node:path';
import type { integrityCommands } from '../../shared/contract-integrity';
import type { FeatureRegistration } from '../rpc/feature-registration';
import type { RunHostDeps } from '../runs/run-host-deps';
import { FinalPasses } from './final-pass';
import { IntegrityModelTable } from './integrity-models';
import { IntegrityService } from './integrity-service';

/**
 * `integrity.*`: the reward-hacking checks, the stored verdict, a person's decision on a flag; in the app and
 * `ptw serve`, the live passes while an agent works and the final pass once it stopped (issue 13).
 */
export function integrityFeature(deps: RunHostDeps): FeatureRegistration<keyof typeof integrityCommands> {
  const { runs, events } = deps;
  const service = new IntegrityService({
    runsDir: runs.runsDir,
    run: (id) => runs.get(id),
    runHost: (id) => runs.hostTarget(id),
    session: deps.session,
    profile: deps.profile,
    resourcesDir: deps.resourcesDir,
    onChanged: (runId, verdict) => events.emit('integrity.changed', { runId, verdict }),
  });
  const models = new IntegrityModelTable(path.join(path.dirname(runs.runsDir), 'integrity-models.json'));
  let finalPasses: FinalPasses | undefined;
  return {
    handlers: {
      'integrity.check': ({ id, references, testSets, ptbCheckout }) =>
        service.check(id, { references, testSets, ptbCheckout }),
      'integrity.get': ({ id }) => service.get(id),
      'integrity.decide': ({ id, flag, decision, note }) => service.decide(id, flag, decision, note),
      'integrity.models': ({ add, remove }) => models.edit(add, remove),
    },
    start() {
      finalPasses = new FinalPasses({ runsDir: runs.runsDir, service, list: () => runs.list() });
      finalPasses.start(events);
    },
    dispose: () => finalPasses?.dispose(),
  };
}
