import type { secretsCommands } from '../../shared/contract-secrets';
import type { FeatureRegistration } from '../rpc/feature-registration';
import { AgentSecretStore, type OsEncryption } from './secret-store';

/** `secrets.*`: which agent and grader keys are set and where; the OS keychain in the desktop app. */
export function secretsFeature(deps: {
  home: string;
  env: NodeJS.ProcessEnv;
  /** Electron's safeStorage; absent in CLI and serve mode, where secrets come from PTW_SECRET_<NAME>. */
  encryption?: OsEncryption | undefined;
}): FeatureRegistration<keyof typeof secretsCommands> & { secrets: AgentSecretStore } {
  const secrets = new AgentSecretStore(deps.home, deps.env, deps.encryption);
  return {
    secrets,
    handlers: {
      'secrets.status': async ({ names }) => ({ writable: secrets.writable, secrets: await secrets.status(names) }),
      'secrets.set': async ({ name, value }) => {
        await secrets.set(name, value);
        return { stored: true };
      },
      'secrets.delete': async ({ name }) => ({ deleted: await secrets.delete(name) }),
    },
  };
}
