import path from 'node:path';
import type { integrityCommands } from '../../shared/contract-integrity';
import type { FeatureRegistration } from '../rpc/feature-registration';
import type { RunHostDeps } from '../runs/run-host-deps';
import { IntegrityModelTable } from './integrity-models';
import { IntegrityService } from './integrity-service';
import { PtbJudgeService } from './ptb-judge-service';

/**
 * `integrity.*`: the reward-hacking checks on request, the stored verdict, a person's decision on a flag (issue 13).
 * The live and final passes of a run on a host are the host supervisor's (ptw_host/integrity_watch.py); the run
 * mirror brings their verdict and announces it (`integrity.changed`), with no app needed while they run.
 */
export function integrityFeature(
  deps: RunHostDeps & {
    /** The secret store: PostTrainBench's optional judge runs with the user's CODEX_API_KEY. */
    secret(name: string): Promise<{ value: string } | undefined>;
  },
): FeatureRegistration<keyof typeof integrityCommands> {
  const { runs, events } = deps;
  // Both services reach a run's mirror and host the same way.
  const runAccess = {
    runsDir: runs.runsDir,
    run: (id: string) => runs.get(id),
    runHost: (id: string) => runs.hostTarget(id),
    session: deps.session,
    profile: deps.profile,
  };
  const service = new IntegrityService({
    ...runAccess,
    resourcesDir: deps.resourcesDir,
    onChanged: (runId, verdict) => events.emit('integrity.changed', { runId, verdict }),
  });
  const judge = new PtbJudgeService({ ...runAccess, secret: deps.secret });
  const models = new IntegrityModelTable(path.join(path.dirname(runs.runsDir), 'integrity-models.json'));
  return {
    handlers: {
      'integrity.check': ({ id, references, testSets, ptbCheckout }) =>
        service.check(id, { references, testSets, ptbCheckout }),
      'integrity.get': ({ id }) => service.get(id),
      'integrity.decide': ({ id, flag, decision, note }) => service.decide(id, flag, decision, note),
      'integrity.models': ({ add, remove }) => models.edit(add, remove),
      'integrity.judge': ({ id }) => judge.get(id),
      'integrity.runJudge': ({ id }) => judge.run(id),
    },
  };
}
