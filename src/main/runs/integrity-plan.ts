import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { HostProfile } from '../../shared/hosts';
import { credentialEnvNames, getAgent, isAgentId } from '../../shared/runs/agent-catalog';
import type { IntegrityPlan } from '../../shared/runs/run-json';
import type { RunSpec } from '../../shared/runs/run-spec';
import { hfCacheCandidates } from '../hosts/hf-cache';
import { resolveHostPath } from './host-scripts';

/**
 * run.json's `supervisor.integrity` (issue 13): what the host supervisor's integrity passes read besides the run
 * folder: the host profile's test sets, Hugging Face caches and PostTrainBench checkout (as absolute host paths), the
 * run's benchmark and base model, the agent's own key names and the model pairs the user added.
 */

/** Seconds between live passes while the agent works (an unchanged workspace costs well under a second). */
export const INTEGRITY_INTERVAL_SECONDS = 300;

/** Model pairs the user added (`PTW_HOME/integrity-models.json`: {"ORG/BASE": "ORG/INSTRUCT"}) as `BASE=INSTRUCT`. */
export function integrityModelPairs(ptwHome: string): string[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path.join(ptwHome, 'integrity-models.json'), 'utf8'));
  } catch {
    return [];
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return [];
  return Object.entries(raw as Record<string, unknown>)
    .filter((e): e is [string, string] => typeof e[1] === 'string')
    .map(([base, instruct]) => `${base}=${instruct}`);
}

export function integrityPlanFor(input: {
  spec: RunSpec;
  profile: HostProfile;
  /** The SSH user's HOME on the host (for `~` in the profile's paths). */
  home: string;
  runRoot: string;
  /** The variables that carried the agent's key. */
  secretNames: string[];
  ptwHome: string;
}): IntegrityPlan {
  const { spec, profile, home } = input;
  const own = new Set(input.secretNames);
  if (isAgentId(spec.agent.id)) for (const name of credentialEnvNames(getAgent(spec.agent.id))) own.add(name);
  const task = spec.task as { benchmark?: unknown; baseModel?: unknown };
  return {
    intervalSeconds: INTEGRITY_INTERVAL_SECONDS,
    // The rehearsal's benchmark is its own task's test.jsonl: a rehearsal tries the integrity passes too.
    ...(spec.task.kind === 'rehearsal' ? { benchmark: 'rehearsal', testSetFiles: ['task/test.jsonl'] } : {}),
    ...(typeof task.benchmark === 'string' ? { benchmark: task.benchmark } : {}),
    ...(typeof task.baseModel === 'string' ? { baseModel: task.baseModel } : {}),
    testSetsDirs: [
      ...(profile.testSets ? [resolveHostPath(profile.testSets, home)] : []),
      path.posix.join(input.runRoot, 'benchmarks'),
    ],
    hfCaches: hfCacheCandidates(profile).map((dir) => resolveHostPath(dir, home)),
    ...(profile.ptbCheckout ? { ptbCheckout: resolveHostPath(profile.ptbCheckout, home) } : {}),
    ownKeys: [...own],
    pairs: integrityModelPairs(input.ptwHome),
  };
}
