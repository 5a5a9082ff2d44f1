import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ContractRouter, EventHub } from './rpc/contract-router';
import { appName, appVersion } from './app-version';
import { HostStore } from './services/host-store';
import { HostConnectionManager } from './hosts/host-connection-manager';
import { FileHostKeyTrust } from './hosts/host-key-trust';
import { HostService, type ConnectPrompts } from './hosts/host-service';
import { HostSetupService, hostSetupHandlers } from './hosts/host-setup';
import { PromptBroker } from './hosts/prompt-broker';
import { AgentSecretStore, type OsEncryption } from './secrets/secret-store';
import { PrefsStore } from './services/prefs-store';
import { RunService } from './runs/run-service';
import { CheckpointService } from './checkpoints/checkpoint-service';
import { checkpointHandlers } from './checkpoints/checkpoint-handlers';
import { DownloadTickets } from './runs/download-tickets';
import { BundleService } from './runs/bundle-service';
import { cleanStaleImports } from './runs/run-bundle';
import { liveHandlers } from './live/live-handlers';
import { LiveStreamService } from './live/live-stream-service';
import { createDatasetService, datasetsHandlers } from './datasets/datasets-handlers';
import { MonitorService } from './monitor/monitor-service';
import { monitorHandlers } from './monitor/monitor-handlers';
import { trajectoryHandlers } from './trajectory/trajectory-handlers';
import { ReplayService } from './replay/replay-service';
import { replayHandlers } from './replay/replay-handlers';
import { leaderboardHandlers } from './leaderboard/leaderboard-handlers';
import { IntegrityService } from './integrity/integrity-service';
import { integrityHandlers } from './integrity/integrity-handlers';
import { FinalPasses } from './integrity/final-pass';

export interface AppServices {
  readonly home: string;
  readonly router: ContractRouter;
  readonly events: EventHub;
  readonly prefs: PrefsStore;
  readonly hosts: HostService;
  readonly hostStore: HostStore;
  readonly runs: RunService;
  readonly secrets: AgentSecretStore;
  /** One-time tickets for `ptw serve`'s bundle downloads (issued over the contract, redeemed by the HTTP server). */
  readonly downloads: DownloadTickets;
  /** Live terminal streams and peek shells, one per viewer. */
  readonly live: LiveStreamService;
  dispose(): Promise<void>;
}

/**
 * The composition root: every main-process service is created here with its dependencies passed in,
 * and wired to the contract. The Electron shell, `ptw serve` and the CLI all start from this.
 */
export async function createAppServices(options: {
  home: string;
  shell: 'electron' | 'serve' | 'cli';
  /** Electron's safeStorage; absent in CLI and serve mode, where secrets come from PTW_SECRET_<NAME>. */
  encryption?: OsEncryption;
  env?: NodeJS.ProcessEnv;
  /** How the CLI answers host-key and passphrase questions (the app asks its windows through the PromptBroker). */
  connectPrompts?: ConnectPrompts;
  /** Keep live runs in sync and rediscover runs on hosts in the background; default: not in the CLI. */
  backgroundSync?: boolean;
  /** For tests: the app's resources/ folder (found from the bundle's location otherwise). */
  resourcesDir?: string;
}): Promise<AppServices> {
  const firstStart = !existsSync(options.home);
  await mkdir(options.home, { recursive: true, mode: 0o700 });
  const events = new EventHub();
  const prefs = new PrefsStore(options.home);
  const hostStore = new HostStore(options.home);
  const prompts = new PromptBroker(events);
  const trust = new FileHostKeyTrust({ appKnownHostsFile: path.join(options.home, 'known_hosts') });
  const hosts = new HostService({
    store: hostStore,
    connector: new HostConnectionManager({
      trust,
      confirmHostKey: (p) => prompts.confirmHostKey(p),
      askPassphrase: (p) => prompts.askPassphrase(p),
    }),
    prompts,
    home: options.home,
    onChanged: (list) => events.emit('hosts.changed', list),
  });
  const secrets = new AgentSecretStore(options.home, options.env ?? process.env, options.encryption);
  // Background work never asks a person: an unknown host key or a locked key fails quietly until the user connects.
  const silent: ConnectPrompts = { confirmHostKey: async () => 'refuse', askPassphrase: async () => undefined };
  const runs = new RunService({
    home: options.home,
    session: (host, o) => hosts.session(host, o?.background ? silent : options.connectPrompts),
    profile: (host) => hostStore.get(host),
    profiles: () => hostStore.list(),
    secrets,
    appVersion,
    by: options.shell === 'cli' ? 'cli' : 'app',
    ...(options.resourcesDir ? { resourcesDir: options.resourcesDir } : {}),
    onChanged: (list) => events.emit('runs.changed', list),
  });

  const disposers: Array<() => void> = [prefs.onChange((p) => events.emit('prefs.changed', p))];
  // Live monitoring (GPU charts, idle alerts, countdown offsets) reads the local mirror the run syncer keeps.
  const monitor = new MonitorService({
    home: options.home,
    session: (host) => hosts.session(host, silent),
    watching: () => events.peerCount > 0,
    emit: (list) => events.emit('monitor.changed', list),
    emitSettings: (settings) => events.emit('monitor.settingsChanged', settings),
  });

  const live = new LiveStreamService({
    runsDir: runs.runsDir,
    session: (host) => hosts.session(host, options.connectPrompts),
    secrets,
    events,
    syncRun: (id) => runs.sync(id),
    by: options.shell === 'cli' ? 'cli' : 'app',
  });

  // A bundle import killed mid-way left its staging folder under runs/: removed now (one still running is kept).
  void cleanStaleImports(runs.runsDir).catch(() => undefined);
  const downloads = new DownloadTickets();
  const bundles = new BundleService({
    home: options.home,
    runs,
    secrets,
    appVersion,
    downloads,
    ...(options.resourcesDir ? { resourcesDir: options.resourcesDir } : {}),
    onImported: () =>
      void runs.list().then(
        (list) => events.emit('runs.changed', list),
        () => undefined,
      ),
  });
  // The desktop app's very first start (no PTW_HOME yet) opens on the example run, so every view has something in it.
  if (firstStart && options.shell === 'electron') void bundles.importExample().catch(() => undefined);

  const integrity = new IntegrityService({
    runsDir: runs.runsDir,
    run: (id) => runs.get(id),
    runHost: (id) => runs.hostTarget(id),
    session: (host) => hosts.session(host, options.connectPrompts),
    profile: (host) => hostStore.get(host),
    resourcesDir: options.resourcesDir,
    onChanged: (runId, verdict) => events.emit('integrity.changed', { runId, verdict }),
  });

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
    'hosts.add': (profile) => hosts.add(profile),
    'hosts.remove': async ({ name }) => ({ removed: await hosts.remove(name) }),
    'hosts.previewSshConfig': ({ file }) => hosts.previewSshConfig(file),
    'hosts.importSshConfig': ({ file, aliases }) => hosts.importSshConfig(aliases, file),
    'hosts.connect': ({ name }) => hosts.connect(name),
    'hosts.disconnect': ({ name }) => hosts.disconnect(name),
    'hosts.check': ({ name }) =>
      hosts.check(name, { onProgress: (check) => events.emit('hosts.preflightProgress', { name, check }) }),
    'hosts.lastCheck': ({ name }) => hosts.lastCheck(name),
    'hosts.answerHostKey': ({ promptId, decision }) => ({ accepted: prompts.answerHostKey(promptId, decision) }),
    'hosts.answerPassphrase': ({ promptId, passphrase }) => ({
      accepted: prompts.answerPassphrase(promptId, passphrase),
    }),
    'runs.list': () => runs.list(),
    'runs.start': async ({ spec }) => (await runs.start(spec)).summary,
    'runs.get': ({ id }) => runs.get(id),
    'runs.stop': ({ id }) => runs.control(id, { action: 'stop' }),
    'runs.kill': ({ id }) => runs.control(id, { action: 'kill' }),
    'runs.extend': ({ id, seconds }) => runs.control(id, { action: 'extend', seconds }),
    'catalog.tasks': ({ name }) => runs.catalogTasks(name),
    'secrets.status': async ({ names }) => ({ writable: secrets.writable, secrets: await secrets.status(names) }),
    'secrets.set': async ({ name, value }) => {
      await secrets.set(name, value);
      return { stored: true };
    },
    'secrets.delete': async ({ name }) => ({ deleted: await secrets.delete(name) }),
    ...bundles.handlers(),
    ...hostSetupHandlers(
      new HostSetupService({
        session: (name) => hosts.session(name, options.connectPrompts),
        profile: (name) => hostStore.get(name),
        saveProfile: async (profile) => {
          await hostStore.upsert([profile]);
        },
        emit: (event) => events.emit('hosts.setupProgress', event),
        preflight: (name) =>
          hosts.check(name, { onProgress: (check) => events.emit('hosts.preflightProgress', { name, check }) }),
        ...(options.resourcesDir ? { resourcesDir: options.resourcesDir } : {}),
      }),
    ),
    ...datasetsHandlers(
      createDatasetService({
        runs,
        session: (host) => hosts.session(host, options.connectPrompts),
        profile: (host) => hostStore.get(host),
        resourcesDir: options.resourcesDir,
        emit: (event) => events.emit('datasets.progress', event),
        emitSearch: (peerId, event) => events.emitTo(peerId, 'datasets.searchProgress', event),
      }),
    ),
    ...checkpointHandlers(
      new CheckpointService({
        run: (id) => runs.get(id),
        runHost: (id) => runs.hostTarget(id),
        session: (host) => hosts.session(host, options.connectPrompts),
        profile: (host) => hostStore.get(host),
        ...(options.resourcesDir ? { resourcesDir: options.resourcesDir } : {}),
      }),
      events,
    ),
    ...monitorHandlers(monitor),
    ...liveHandlers(live),
    ...replayHandlers(
      new ReplayService({ home: options.home, onProgress: (p) => events.emit('replay.indexProgress', p) }),
    ),
    ...leaderboardHandlers({ runsDir: runs.runsDir }),
    ...integrityHandlers(integrity),
    ...trajectoryHandlers({
      runsDir: runs.runsDir,
      redactionSecrets: (agentId) => runs.redactionSecrets(agentId),
      onImported: () =>
        void runs.list().then(
          (list) => events.emit('runs.changed', list),
          () => undefined,
        ),
    }),
  });

  if (options.backgroundSync ?? options.shell !== 'cli') {
    monitor.start();
    // The integrity checks' live passes while an agent works and the final pass once it stopped (issue 13).
    const finalPasses = new FinalPasses({ runsDir: runs.runsDir, service: integrity, list: () => runs.list() });
    finalPasses.start(events);
    disposers.push(() => finalPasses.dispose());
    runs.startBackgroundSync({
      usedHosts: async () => {
        const names: string[] = [];
        for (const profile of await hostStore.list()) if (await hosts.lastCheck(profile.name)) names.push(profile.name);
        return names;
      },
    });
  }

  return {
    home: options.home,
    router,
    events,
    prefs,
    hosts,
    hostStore,
    runs,
    secrets,
    downloads,
    live,
    async dispose() {
      for (const dispose of disposers.splice(0)) dispose();
      live.dispose();
      await monitor.dispose();
      await runs.dispose();
      prompts.dispose();
      await hosts.dispose();
    },
  };
}
