import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { ContractRouter, EventHub } from './rpc/contract-router';
import { featureHandlers } from './rpc/feature-registration';
import { appVersion } from './app-version';
import type { HostStore } from './services/host-store';
import type { PrefsStore } from './services/prefs-store';
import type { HostService, ConnectPrompts } from './hosts/host-service';
import type { AgentSecretStore, OsEncryption } from './secrets/secret-store';
import type { RunService } from './runs/run-service';
import { DownloadTickets } from './runs/download-tickets';
import type { LiveStreamService } from './live/live-stream-service';
import { appFeature } from './app/app-feature';
import { hostsFeature } from './hosts/hosts-feature';
import { hostSetupFeature } from './hosts/host-setup-feature';
import { secretsFeature } from './secrets/secrets-feature';
import { runsFeature } from './runs/runs-feature';
import { bundlesFeature } from './runs/bundles-feature';
import { catalogFeature } from './catalog/catalog-feature';
import { liveFeature } from './live/live-feature';
import type { DesktopNotifierOptions } from './monitor/desktop-notifier';
import { monitorFeature } from './monitor/monitor-feature';
import { replayFeature } from './replay/replay-feature';
import { trajectoryFeature } from './trajectory/trajectory-feature';
import { checkpointsFeature } from './checkpoints/checkpoints-feature';
import { datasetsFeature } from './datasets/datasets-feature';
import { leaderboardFeature } from './leaderboard/leaderboard-feature';
import { integrityFeature } from './integrity/integrity-feature';
import { experimentsFeature } from './experiments/experiments-feature';

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
 * The composition root: the shared infrastructure (state folder, event hub, host sessions) and the list of feature
 * registrations, each built by its folder's `<feature>-feature.ts` with its dependencies passed in. The Electron
 * shell, `ptw serve` and the CLI all start from this.
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
  /** Electron's `Notification` and the window to focus on a click: the desktop app's own notifications. */
  desktopNotifications?: DesktopNotifierOptions;
}): Promise<AppServices> {
  const { home, shell, resourcesDir } = options;
  const firstStart = !existsSync(home);
  await mkdir(home, { recursive: true, mode: 0o700 });
  const events = new EventHub();
  const by = shell === 'cli' ? 'cli' : 'app';
  const downloads = new DownloadTickets();

  const app = appFeature({ home, shell, events });
  const hosts = hostsFeature({ home, events, connectPrompts: options.connectPrompts });
  const profile = (host: string) => hosts.hostStore.get(host);
  const session = (host: string) => hosts.session(host);
  const secrets = secretsFeature({ home, env: options.env ?? process.env, encryption: options.encryption });
  const replay = replayFeature({ home, events });
  const runs = runsFeature({
    home,
    events,
    session: hosts.session,
    profile,
    profiles: () => hosts.hostStore.list(),
    secrets: secrets.secrets,
    appVersion,
    by,
    resourcesDir,
    usedHosts: () => hosts.checkedHosts(),
    // The app and `ptw serve` index a run's cast as it is mirrored (a CLI command exits before that would pay).
    ...(shell === 'cli' ? {} : { onRecordChanged: (id: string) => replay.replay.prepareRun(id) }),
  });
  const runsChanged = (): void =>
    void runs.runs.list().then(
      (list) => events.emit('runs.changed', list),
      () => undefined,
    );
  const trajectory = trajectoryFeature({
    runsDir: runs.runs.runsDir,
    redactionSecrets: (agentId) => runs.runs.redactionSecrets(agentId),
    onImported: runsChanged,
  });
  const onRun = { runs: runs.runs, session, profile, events, resourcesDir };
  const live = liveFeature({ runs: runs.runs, session, events });

  const features = [
    app,
    hosts,
    hostSetupFeature({
      events,
      session,
      profile,
      saveProfile: async (p) => {
        await hosts.hostStore.upsert([p]);
      },
      preflight: hosts.check,
      resourcesDir,
    }),
    secrets,
    catalogFeature({ session, profile }),
    runs,
    bundlesFeature({
      home,
      runs: runs.runs,
      secrets: secrets.secrets,
      appVersion,
      downloads,
      resourcesDir,
      onImported: runsChanged,
      importExample: firstStart && shell === 'electron',
    }),
    live,
    monitorFeature({
      home,
      events,
      session: (host) => hosts.session(host, { background: true }),
      desktopNotifications: options.desktopNotifications,
    }),
    replay,
    trajectory,
    checkpointsFeature(onRun),
    datasetsFeature(onRun),
    leaderboardFeature({ runsDir: runs.runs.runsDir, trajectory: trajectory.trajectory }),
    integrityFeature({ ...onRun, secret: (name) => secrets.secrets.get(name) }),
    experimentsFeature({
      home,
      events,
      runs: runs.runs,
      profiles: () => hosts.hostStore.list(),
      launch: { session, profile, secrets: secrets.secrets, resourcesDir, runsDir: runs.runs.runsDir, appVersion },
      env: options.env ?? process.env,
    }),
  ] as const;
  const router = new ContractRouter(featureHandlers(features));

  if (options.backgroundSync ?? shell !== 'cli') for (const feature of features) feature.start?.();

  return {
    home,
    router,
    events,
    prefs: app.prefs,
    hosts: hosts.hosts,
    hostStore: hosts.hostStore,
    runs: runs.runs,
    secrets: secrets.secrets,
    downloads,
    live: live.live,
    async dispose() {
      // The features last listed first: each goes before those it was built on.
      for (const feature of [...features].reverse()) await feature.dispose?.();
    },
  };
}
