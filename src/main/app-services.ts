import { mkdir } from 'node:fs/promises';
import { ContractRouter, EventHub } from './rpc/contract-router';
import { appName, appVersion } from './app-version';
import { HostStore } from './services/host-store';
import { PrefsStore } from './services/prefs-store';
import { RunStore } from './services/run-store';

export interface AppServices {
  readonly home: string;
  readonly router: ContractRouter;
  readonly events: EventHub;
  readonly prefs: PrefsStore;
  readonly hosts: HostStore;
  readonly runs: RunStore;
  dispose(): Promise<void>;
}

/**
 * The composition root: every main-process service is created here with its dependencies passed in,
 * and wired to the contract. The Electron shell, `ptw serve` and the CLI all start from this.
 */
export async function createAppServices(options: { home: string; shell: 'electron' | 'serve' }): Promise<AppServices> {
  await mkdir(options.home, { recursive: true, mode: 0o700 });
  const events = new EventHub();
  const prefs = new PrefsStore(options.home);
  const hosts = new HostStore(options.home);
  const runs = new RunStore(options.home);

  const disposers: Array<() => void> = [prefs.onChange((p) => events.emit('prefs.changed', p))];

  const router = new ContractRouter({
    'app.info': () => ({
      name: appName,
      version: appVersion,
      home: options.home,
      shell: options.shell,
      platform: process.platform,
      nodeVersion: process.versions.node,
    }),
    'prefs.get': () => prefs.get(),
    'prefs.set': (patch) => prefs.set(patch),
    'hosts.list': () => hosts.summaries(),
    'runs.list': () => runs.list(),
  });

  return {
    home: options.home,
    router,
    events,
    prefs,
    hosts,
    runs,
    async dispose() {
      for (const dispose of disposers.splice(0)) dispose();
    },
  };
}
