import type { AgentCredential, AgentDefinition } from '../../shared/runs/agent-catalog';
import type { TaskOption } from './launch-form';

/** The agent's keys and the task's grader keys: which the secret store has, and where from (never their values). */

export type SecretSource = 'environment' | 'keychain' | null;

export interface SecretStatus {
  readonly name: string;
  readonly source: SecretSource;
}

/** One credential the agent accepts, and whether (and under which name) the secret store has it. */
export interface CredentialStatus {
  readonly credential: AgentCredential;
  /** The name a new key is stored under (the first the agent tries). */
  readonly storeName: string;
  /** The stored name that was found, and where; null when none of its names is set (or not known yet). */
  readonly found: { readonly name: string; readonly source: Exclude<SecretSource, null> } | null;
}

/** Every name to ask `secrets.status` about: the agent's credentials and the task's grader keys. */
export function secretNamesToCheck(agent: AgentDefinition, task: TaskOption | null): string[] {
  const names = agent.credentials.flatMap((c) => c.secretNames);
  for (const name of task?.requiredApiKeys ?? []) names.push(name);
  return [...new Set(names)];
}

export function credentialStatuses(
  agent: AgentDefinition,
  secrets: readonly SecretStatus[] | null,
): CredentialStatus[] {
  const sources = new Map((secrets ?? []).map((s) => [s.name, s.source]));
  return agent.credentials.map((credential) => {
    let found: CredentialStatus['found'] = null;
    for (const name of credential.secretNames) {
      const source = sources.get(name);
      if (source) {
        found = { name, source };
        break;
      }
    }
    return { credential, storeName: credential.secretNames[0] ?? credential.env, found };
  });
}

/** The agent can authenticate: it needs no key, or one of its credentials is stored. */
export function agentHasKey(agent: AgentDefinition, statuses: readonly CredentialStatus[]): boolean {
  return agent.credentials.length === 0 || statuses.some((s) => s.found !== null);
}

/** The variable `ptw` reads a secret from when there is no keychain (serve mode, CLI). */
export function secretEnvName(name: string): string {
  return `PTW_SECRET_${name}`;
}
