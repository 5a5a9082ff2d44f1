import path from 'node:path';
import type { hostsCommands } from '../../shared/contract-hosts';
import type { PreflightReport } from '../../shared/hosts';
import type { EventHub } from '../rpc/contract-router';
import type { FeatureRegistration } from '../rpc/feature-registration';
import { HostStore } from '../services/host-store';
import type { HostSession } from './host-exec-types';
import { HostConnectionManager } from './host-connection-manager';
import { FileHostKeyTrust } from './host-key-trust';
import { HostService, type ConnectPrompts } from './host-service';
import { PromptBroker } from './prompt-broker';

/** Background work never asks a person: an unknown host key or a locked key fails quietly until the user connects. */
const silent: ConnectPrompts = { confirmHostKey: async () => 'refuse', askPassphrase: async () => undefined };

/**
 * `hosts.*`: profiles, ssh_config import, connections and preflight. Every other feature reaches a host through
 * its `session`: questions go to `connectPrompts` (the CLI's flags and terminal) or, without them, to the app's
 * windows through the PromptBroker; background work gets none.
 */
export function hostsFeature(deps: {
  home: string;
  events: EventHub;
  /** How the CLI answers host-key and passphrase questions (the app asks its windows through the PromptBroker). */
  connectPrompts?: ConnectPrompts | undefined;
}): FeatureRegistration<keyof typeof hostsCommands> & {
  hosts: HostService;
  hostStore: HostStore;
  session(host: string, options?: { background?: boolean }): Promise<HostSession>;
  /** Preflight with each check sent as `hosts.preflightProgress`. */
  check(name: string): Promise<PreflightReport>;
  /** The hosts the app has used: those with a preflight on record. */
  checkedHosts(): Promise<string[]>;
} {
  const { events } = deps;
  const hostStore = new HostStore(deps.home);
  const prompts = new PromptBroker(events);
  const trust = new FileHostKeyTrust({ appKnownHostsFile: path.join(deps.home, 'known_hosts') });
  const hosts = new HostService({
    store: hostStore,
    connector: new HostConnectionManager({
      trust,
      confirmHostKey: (p) => prompts.confirmHostKey(p),
      askPassphrase: (p) => prompts.askPassphrase(p),
    }),
    prompts: deps.connectPrompts ?? prompts,
    home: deps.home,
    onChanged: (list) => events.emit('hosts.changed', list),
  });
  const check = (name: string): Promise<PreflightReport> =>
    hosts.check(name, { onProgress: (c) => events.emit('hosts.preflightProgress', { name, check: c }) });
  return {
    hosts,
    hostStore,
    session: (host, options) => hosts.session(host, options?.background ? silent : undefined),
    check,
    async checkedHosts() {
      const names: string[] = [];
      for (const profile of await hostStore.list()) if (await hosts.lastCheck(profile.name)) names.push(profile.name);
      return names;
    },
    handlers: {
      'hosts.list': () => hosts.summaries(),
      'hosts.add': (profile) => hosts.add(profile),
      'hosts.remove': async ({ name }) => ({ removed: await hosts.remove(name) }),
      'hosts.previewSshConfig': ({ file }) => hosts.previewSshConfig(file),
      'hosts.importSshConfig': ({ file, aliases }) => hosts.importSshConfig(aliases, file),
      'hosts.connect': ({ name }) => hosts.connect(name),
      'hosts.disconnect': ({ name }) => hosts.disconnect(name),
      'hosts.check': ({ name }) => check(name),
      'hosts.lastCheck': ({ name }) => hosts.lastCheck(name),
      'hosts.answerHostKey': ({ promptId, decision }) => ({ accepted: prompts.answerHostKey(promptId, decision) }),
      'hosts.answerPassphrase': ({ promptId, passphrase }) => ({
        accepted: prompts.answerPassphrase(promptId, passphrase),
      }),
    },
    async dispose() {
      prompts.dispose();
      await hosts.dispose();
    },
  };
}
