import { randomBytes } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { RunDetail, RunSummary } from '../../shared/contract';
import type { IntegrityVerdict } from '../../shared/contract-integrity';
import { CastEventReader, parseCastHeader } from '../../shared/replay/asciicast';
import { AppError } from '../../shared/errors';
import { summarizeStream } from '../../shared/trajectory/stream-summary';
import type { HostProfile } from '../../shared/hosts';
import type { NamedSecret } from '../../shared/redact';
import { getAgent, isAgentId } from '../../shared/runs/agent-catalog';
import { isFinalRunStatus, parseEventsJsonl, type RunState } from '../../shared/runs/run-status';
import { locateResourcesDir } from '../catalog/rehearsal-resources';
import type { HostSession } from '../hosts/host-exec-types';
import type { SecretStore } from '../secrets/secret-store';
import { placeControlScript, startSupervisorScript, supervisorSecretsLine } from './host-scripts';
import { discoverHostRuns, type DiscoveryReport } from './run-discovery';
import { integrityTimelineEvents } from './integrity-marks';
import { launchRun } from './run-launcher';
import { hostRunPaths, LOCAL_FILES, MIRRORED_FILES } from './run-layout';
import { listMirrors, quietSync, RunMirror, type SyncResult } from './run-mirror';
import { summarizeRun } from './run-summary';
import { readPtbRecord, runVerdict } from './run-verdict';
import { SummaryCache } from './summary-cache';
import { AnnouncedRuns, newestFirst } from './announced-runs';
import { TickLoop } from '../services/tick-loop';
import { cancelSlurmJob, readSchedulerRecord, refreshSlurmState, writeSchedulerRecord } from '../slurm/slurm-launch';
import { requireRunHost, runHostOf, type RunHost } from './run-host';

/**
 * Runs, as the app and the CLI see them: launch, the local mirror of every run (list, detail, catch-up), control
 * requests, rediscovery of runs on hosts, and the background syncer that keeps live runs current. The host is the
 * source of truth; everything here can be rebuilt from it (docs/run-folder.md, docs/runs.md).
 */

export interface RunServiceOptions {
  home: string;
  /**
   * A session on the host. `background` work (the syncer, discovery at start) must never ask a person anything:
   * an unknown host key or a locked key then fails instead of opening a dialog nobody asked for.
   */
  session(host: string, options?: { background?: boolean }): Promise<HostSession>;
  profile(host: string): Promise<HostProfile>;
  profiles(): Promise<HostProfile[]>;
  secrets: Pick<SecretStore, 'get'>;
  appVersion: string;
  /** Who control requests are from (`app`, `cli`). */
  by: string;
  resourcesDir?: string;
  onChanged?: (runs: RunSummary[]) => void;
  /** How long stop/kill/extend wait for the supervisor's confirmation. */
  controlTimeoutMs?: number;
  /** A sync brought a new integrity verdict from the host (`integrity.changed`). */
  onIntegrityChanged?: (runId: string, verdict: IntegrityVerdict['verdict'] | null) => void;
  /** The cache of finished runs' summaries (a test counts the summaries made through it); a new one by default. */
  summaryCache?: SummaryCache;
  /** A sync copied something new into the run's mirror (Replay indexes the cast's new part in the background). */
  onRecordChanged?: (runId: string) => void;
}

export type ControlRequest = { action: 'stop' } | { action: 'kill' } | { action: 'extend'; seconds: number };

/**
 * A run as the syncer last mirrored it, for a viewer following the host's recording (the live terminal): whether
 * the agent has stopped, and how much of the host's `terminal.cast` the mirror has copied.
 */
export interface SyncedRun {
  /** state.json as last mirrored says the agent has stopped (or the run is over): no more terminal output. */
  agentStopped: boolean;
  /** Bytes of the host's terminal.cast the mirror has copied (complete lines). */
  castBytes: number;
  /** That sync copied every record up to the host's size (the per-sync cap left nothing behind). */
  caughtUp: boolean;
  /** When that sync started (this process's clock): a new value after every sync; null when none has been made. */
  syncedAt: number | null;
}

export interface FollowOptions {
  /** Terminal output ("o" events of the cast), from the beginning, as it arrives. */
  onOutput?: (data: string) => void;
  /** Something the user should know while waiting (the host went away, came back). */
  onNote?: (text: string) => void;
  pollMs?: number;
  /** Gives up (TIMEOUT) after this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The cast's name in the mirror (and its sync.json entry). */
const CAST_FILE = MIRRORED_FILES.find((file) => file.kind === 'cast')?.local ?? 'terminal.cast';

/** A resumed supervisor gets this long to take over before another is started. */
const RESUME_INTERVAL_MS = 60_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether the run's folder is there (a removed one leaves the list). */
async function folderExists(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface HostHealth {
  failures: number;
  nextTryAt: number;
  /** Rediscover once it answers again (after an SSH drop runs may have changed without us). */
  rediscover: boolean;
}

export class RunService {
  readonly runsDir: string;
  private readonly health = new Map<string, HostHealth>();
  /** Runs whose mirror is complete: never synced again (completeness does not revert). */
  private readonly completeRuns = new Set<string>();
  private readonly syncer = new TickLoop();
  private readonly summaries: SummaryCache;
  /** The list as last announced, patched after a sync with the runs it touched (not every run read again). */
  private readonly announced: AnnouncedRuns;
  /** The last sync of each run made here: when it started and whether it caught up with the host's records. */
  private readonly lastSyncs = new Map<string, { startedAt: number; caughtUp: boolean }>();
  /** Syncs made for {@link recentSync}, shared by every caller that wants the same run. */
  private readonly freshening = new Map<string, Promise<unknown>>();
  /** The discovery of every host looking for runs not known here, shared by the lookups that arrive meanwhile. */
  private lookingUp: Promise<unknown> | undefined;

  constructor(private readonly options: RunServiceOptions) {
    this.runsDir = path.join(options.home, 'runs');
    this.summaries = options.summaryCache ?? new SummaryCache();
    this.announced = new AnnouncedRuns({
      all: () => this.list(),
      one: async (id) => {
        const mirror = new RunMirror(this.runsDir, id);
        if (!(await folderExists(mirror.dir))) return null;
        return this.summaries.summary(mirror, () => this.summaryOf(mirror));
      },
      ids: async () => (await listMirrors(this.runsDir)).map((m) => m.id),
      announce: (list) => this.options.onChanged?.(list),
    });
  }

  private get resourcesDir(): string {
    return this.options.resourcesDir ?? locateResourcesDir();
  }

  // --- reading the local record ---------------------------------------------------------------------------

  async list(): Promise<RunSummary[]> {
    const mirrors = await listMirrors(this.runsDir);
    this.summaries.keepOnly(new Set(mirrors.map((m) => m.id)));
    const summaries = await Promise.all(mirrors.map((m) => this.summaries.summary(m, () => this.summaryOf(m))));
    return newestFirst(summaries);
  }

  async summary(id: string): Promise<RunSummary> {
    return this.summaryOf(await this.known(id));
  }

  private async summaryOf(mirror: RunMirror): Promise<RunSummary> {
    const [runJson, state, sync] = await Promise.all([mirror.readRunJson(), mirror.readState(), mirror.syncFacts()]);
    const ptb = sync?.imported?.kind === 'ptb' ? await readPtbRecord(mirror) : null;
    const verdict = await runVerdict(mirror, ptb);
    const flagged = verdict.state === 'flagged' ? true : verdict.state === 'clean' ? false : null;
    const summary = summarizeRun({ id: mirror.id, runJson, state, sync, now: Date.now(), flagged });
    const scheduler = await readSchedulerRecord(mirror.dir);
    return scheduler ? { ...summary, scheduler } : summary;
  }

  /**
   * The run's host and folder there, for a service about to act on the host; refused for an imported run or one
   * whose host profile is gone (the one check, runs/run-host.ts).
   */
  async hostTarget(id: string): Promise<RunHost> {
    await this.known(id);
    return runHostOf(this.runsDir, id, async (name) =>
      (await this.options.profiles()).some((profile) => profile.name === name),
    );
  }

  /** The run's mirror; a run this app does not know yet is looked for on every host first. */
  private async known(id: string): Promise<RunMirror> {
    const mirror = new RunMirror(this.runsDir, id);
    if (await mirror.exists()) return mirror;
    // Lookups arriving together share one discovery (an experiment page asks after 100 new runs at once: 100 of
    // them, each on every host, took minutes, bench:experiment). One that joined a discovery begun before it asked
    // may have missed its run: it gets one more, shared again.
    for (const joined of [this.lookingUp !== undefined, false]) {
      this.lookingUp ??= this.discoverAll()
        .catch(() => undefined)
        .finally(() => (this.lookingUp = undefined));
      await this.lookingUp;
      if (await mirror.exists()) return mirror;
      if (!joined) break;
    }
    throw new AppError('NOT_FOUND', `No run ${id} here or on any host (ptw run ls lists them).`);
  }

  async get(id: string, options: { sync?: boolean } = {}): Promise<RunDetail> {
    const mirror = await this.known(id);
    if (options.sync !== false) await this.sync(id).catch(() => undefined);
    const [summary, runJson, state, sync, manifest] = await Promise.all([
      this.summaryOf(mirror),
      mirror.readRunJson(),
      mirror.readRawState(),
      mirror.readSync(),
      mirror.readManifest(),
    ]);
    const eventsText = await readFile(mirror.file('events.jsonl'), 'utf8').catch(() => '');
    const parsed = parseEventsJsonl(eventsText, 'events.jsonl');
    const events: Record<string, unknown>[] = [];
    for (const line of eventsText.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const value = JSON.parse(line) as unknown;
        if (value && typeof value === 'object' && !Array.isArray(value)) events.push(value as Record<string, unknown>);
      } catch {
        // Reported in problems.
      }
    }
    const metricsRaw = await readFile(mirror.file('eval/metrics.json'), 'utf8').catch(() => null);
    let metrics: Record<string, unknown> | null = null;
    try {
      const value = metricsRaw ? (JSON.parse(metricsRaw) as unknown) : null;
      if (value && typeof value === 'object' && !Array.isArray(value)) metrics = value as Record<string, unknown>;
    } catch {
      metrics = null;
    }
    const ptb = sync?.imported?.kind === 'ptb' ? await readPtbRecord(mirror) : null;
    // Flags of passes the app ran (imported runs, `ptw integrity check`) on the Overview's timeline too.
    events.push(...(await integrityTimelineEvents(mirror.file('integrity/record.json'), events)));
    const streamText = await readFile(mirror.file('agent-stream.jsonl'), 'utf8').catch(() => '');
    const agentSpec = runJson?.spec.agent as { id: string; streamFormat?: unknown } | undefined;
    return {
      summary,
      spec: runJson?.spec ?? null,
      state,
      events,
      problems: [
        ...parsed.problems.map((p) => ({ source: p.source, line: p.line, message: p.message })),
        ...(sync?.problems ?? []).map((message) => ({ source: LOCAL_FILES.sync, line: 0, message })),
      ],
      metrics,
      hostRunDir: sync?.hostRunDir ?? '',
      localDir: mirror.dir,
      finalModel: manifest,
      ptb,
      trajectory: streamText.trim() === '' ? null : summarizeStream(streamText, agentSpec),
    };
  }

  // --- launching ---------------------------------------------------------------------------------------------

  async start(specInput: unknown): Promise<{ summary: RunSummary; warnings: string[] }> {
    const result = await launchRun(
      {
        session: (host) => this.options.session(host),
        profile: (host) => this.options.profile(host),
        secrets: this.options.secrets,
        resourcesDir: this.resourcesDir,
        runsDir: this.runsDir,
        appVersion: this.options.appVersion,
      },
      specInput,
    );
    await this.sync(result.id).catch(() => undefined);
    this.announced.touch(result.id);
    void this.emitIfChanged();
    return { summary: await this.summary(result.id), warnings: result.warnings };
  }

  // --- catching up with the host ----------------------------------------------------------------------------

  /** The values to redact from a run's records: every key the agent could have been given, current values. */
  async redactionSecrets(agentId: string | undefined): Promise<NamedSecret[]> {
    if (!agentId || !isAgentId(agentId)) return [];
    const secrets: NamedSecret[] = [];
    for (const credential of getAgent(agentId).credentials) {
      for (const name of credential.secretNames) {
        const found = await this.options.secrets.get(name).catch(() => undefined);
        if (found) secrets.push({ name: credential.env, value: found.value });
      }
    }
    return secrets;
  }

  /** The grader keys a run's evaluator was given (names from run.json), current values, where this app has them. */
  private async graderSecrets(names: readonly string[]): Promise<NamedSecret[]> {
    const secrets: NamedSecret[] = [];
    for (const name of names) {
      const found = await this.options.secrets.get(name).catch(() => undefined);
      if (found) secrets.push({ name, value: found.value });
    }
    return secrets;
  }

  /**
   * Brings one run's mirror up to date. A failure (host unreachable) is recorded in the mirror and rethrown; what
   * was already recorded stays. A live run whose supervisor died is handed to a new one.
   */
  async sync(id: string, options: { background?: boolean } = {}): Promise<SyncResult> {
    const mirror = new RunMirror(this.runsDir, id);
    const sync = await mirror.readSync();
    if (!sync) throw new AppError('NOT_FOUND', `No run ${id} here (ptw run ls lists runs on your hosts).`);
    if (sync.imported) {
      // Imported from a file: there is no host to catch up with; the record is as complete as it will get.
      const state = await mirror.readState();
      return quietSync(state, { skipped: true, complete: true, gone: false });
    }
    const runJson = await mirror.readRunJson();
    const secrets = [
      ...(await this.redactionSecrets(runJson?.spec.agent.id)),
      ...(await this.graderSecrets(runJson?.launch?.evaluationSecretNames ?? [])),
    ];
    let session: HostSession;
    let result: SyncResult;
    const startedAt = Date.now();
    try {
      session = await this.options.session(sync.host, options);
      result = await mirror.sync(session, secrets);
    } catch (err) {
      await mirror.recordError(`${sync.host}: ${errorText(err)}`).catch(() => undefined);
      this.announced.touch(id);
      throw err;
    }
    if (!result.skipped) this.lastSyncs.set(id, { startedAt, caughtUp: result.caughtUp });
    const state = result.state;
    // A SLURM run: what the scheduler says now (pending and why, the node), by the job id in the run folder. Its
    // supervisor lives and dies with the job, so it is never restarted from here.
    const hostProfile = (await this.options.profiles()).find((p) => p.name === sync.host);
    const scheduled = hostProfile?.scheduler;
    if (hostProfile && scheduled && !result.skipped) {
      await refreshSlurmState({
        session,
        hostRunDir: sync.hostRunDir,
        dockerSocket: hostProfile.dockerSocket,
        write: (scheduler) => writeSchedulerRecord(mirror.dir, scheduler),
      }).catch(() => null);
    }
    if (
      !scheduled &&
      !result.skipped &&
      !result.gone &&
      state &&
      !isFinalRunStatus(state.status) &&
      !result.supervisorAlive
    ) {
      const containerId = state.agentContainerId ?? runJson?.supervisor.agentContainerId ?? null;
      if (containerId) {
        await this.restartSupervisor({ host: sync.host, session, mirror, containerId, fresh: false }).catch(
          () => false,
        );
      }
    }
    // Whoever synced (the background loop, runs.get, a control), the run list is announced when the record
    // changed: otherwise a sync made by runs.get would leave the background loop nothing new to announce, and the
    // list would keep showing a status the record has left.
    if (result.changed) {
      this.announced.touch(id);
      void this.emitIfChanged();
      this.options.onRecordChanged?.(id);
    }
    // A verdict the host's supervisor wrote (a live or final integrity pass): an open run view and the
    // notification watcher hear it at once.
    if (result.integrityVerdict !== undefined) this.options.onIntegrityChanged?.(id, result.integrityVerdict);
    return result;
  }

  /**
   * The run as the syncer last mirrored it, synced first when that is older than `maxAgeMs`. Every viewer of a run
   * reads this one view of the host instead of asking the host itself; the background syncer keeps a live run fresh
   * anyway, and without it one sync serves every caller that asks at the same time. Never asks a person anything.
   */
  async recentSync(id: string, maxAgeMs: number): Promise<SyncedRun> {
    const mirror = new RunMirror(this.runsDir, id);
    let sync = await mirror.readSync();
    if (!sync) throw new AppError('NOT_FOUND', `No run ${id} here (ptw run ls lists runs on your hosts).`);
    if (!sync.complete) {
      const last = this.lastSyncs.get(id);
      if (!last || Date.now() - last.startedAt > maxAgeMs) {
        let syncing = this.freshening.get(id);
        if (!syncing) {
          syncing = this.sync(id, { background: true }).finally(() => this.freshening.delete(id));
          this.freshening.set(id, syncing);
        }
        // Bounded: a sync held up (a slow host, the final model being listed) leaves the facts as they were.
        await Promise.race([syncing.catch(() => undefined), sleep(maxAgeMs)]);
        sync = (await mirror.readSync()) ?? sync;
      }
    }
    const last = this.lastSyncs.get(id);
    // A complete record has everything the host will ever have: as good as a sync made now.
    return {
      agentStopped: agentStopped(await mirror.readRawState()),
      castBytes: sync.files[CAST_FILE]?.hostOffset ?? 0,
      caughtUp: sync.complete || (last?.caughtUp ?? false),
      syncedAt: sync.complete ? Date.now() : (last?.startedAt ?? null),
    };
  }

  private async restartSupervisor(input: {
    host: string;
    session: HostSession;
    mirror: RunMirror;
    containerId: string;
    fresh: boolean;
  }): Promise<boolean> {
    const sync = await input.mirror.readSync();
    if (!sync) return false;
    const now = Date.now();
    if (sync.lastResumeAt !== null && now - sync.lastResumeAt < RESUME_INTERVAL_MS) return false;
    const profile = await this.options.profile(input.host);
    await input.mirror.markResumed(now);
    const runJson = await input.mirror.readRunJson();
    const started = await input.session.exec(
      startSupervisorScript({
        runDir: sync.hostRunDir,
        dockerSocket: profile.dockerSocket,
        containerId: input.containerId,
        resume: !input.fresh,
      }),
      // The agent's current key, if this app has it, so the resumed recording is redacted on the host too.
      {
        timeoutMs: 30_000,
        stdin: supervisorSecretsLine(
          await this.redactionSecrets(runJson?.spec.agent.id),
          await this.graderSecrets(runJson?.launch?.evaluationSecretNames ?? []),
        ),
      },
    );
    return started.code === 0;
  }

  /** Finds every run on one host, mirrors the unknown ones and restarts dead supervisors. */
  async discover(host: string, options: { background?: boolean } = {}): Promise<DiscoveryReport> {
    const profile = await this.options.profile(host);
    const session = await this.options.session(host, options);
    const report = await discoverHostRuns(
      { runsDir: this.runsDir, restartSupervisor: (input) => this.restartSupervisor(input) },
      profile,
      session,
    );
    for (const id of [...report.mirrored, ...report.restarted]) this.announced.touch(id);
    if (report.mirrored.length > 0 || report.restarted.length > 0) void this.emitIfChanged();
    return report;
  }

  /** {@link discover} on every host; a host that cannot be reached is reported, not thrown. */
  async discoverAll(
    options: { background?: boolean; hosts?: readonly string[] } = {},
  ): Promise<Array<DiscoveryReport | { host: string; error: string }>> {
    const profiles = (await this.options.profiles()).filter((p) => !options.hosts || options.hosts.includes(p.name));
    return Promise.all(
      profiles.map((p) =>
        this.discover(p.name, options).catch((err: unknown) => ({ host: p.name, error: errorText(err) })),
      ),
    );
  }

  /** Syncs every run that is not complete yet, host by host; hosts that failed recently wait their turn. */
  async syncLive(): Promise<boolean> {
    const mirrors = await listMirrors(this.runsDir);
    const byHost = new Map<string, RunMirror[]>();
    for (const mirror of mirrors) {
      if (this.completeRuns.has(mirror.id)) continue;
      const sync = await mirror.readSync().catch(() => undefined);
      if (sync?.complete) this.completeRuns.add(mirror.id);
      if (!sync || sync.complete) continue;
      byHost.set(sync.host, [...(byHost.get(sync.host) ?? []), mirror]);
    }
    let changed = false;
    await Promise.all(
      [...byHost].map(async ([host, runs]) => {
        const health = this.health.get(host) ?? { failures: 0, nextTryAt: 0, rediscover: false };
        if (Date.now() < health.nextTryAt) return;
        for (const mirror of runs) {
          try {
            const result = await this.sync(mirror.id, { background: true });
            changed ||= result.changed;
            health.failures = 0;
            health.nextTryAt = 0;
          } catch {
            health.failures += 1;
            health.nextTryAt = Date.now() + Math.min(30_000, 1_000 * 2 ** Math.min(health.failures, 5));
            health.rediscover = true;
            changed = true;
            break;
          }
        }
        if (health.failures === 0 && health.rediscover) {
          health.rediscover = false;
          await this.discover(host, { background: true }).catch(() => undefined);
        }
        this.health.set(host, health);
      }),
    );
    return changed;
  }

  /**
   * The app's background syncer: rediscovers the runs on every host the app has used (one with runs recorded here
   * or a saved preflight: `usedHosts`), then keeps live runs current every `intervalMs`.
   */
  startBackgroundSync(options: { intervalMs?: number; usedHosts?: () => Promise<string[]> } = {}): void {
    const rediscover = async (): Promise<void> => {
      const hosts = new Set(await options.usedHosts?.().catch(() => []));
      for (const mirror of await listMirrors(this.runsDir).catch(() => [])) {
        const sync = await mirror.readSync().catch(() => undefined);
        if (sync && !sync.imported) hosts.add(sync.host);
      }
      await this.discoverAll({ background: true, hosts: [...hosts] }).catch(() => undefined);
      // Every run read again: what other processes (the CLI) did to the folders since shows too.
      await this.emitIfChanged({ full: true });
    };
    const catchUp = async (): Promise<void> => {
      try {
        if (await this.syncLive()) await this.emitIfChanged();
      } catch {
        // A broken local record shows up in the list; the loop goes on.
      }
    };
    this.syncer.start(options.intervalMs ?? 1_000, catchUp, rediscover);
  }

  /** Announces the list (`onChanged`) when it changed: the runs touched since the last time read again, or all. */
  private async emitIfChanged(options: { full?: boolean } = {}): Promise<void> {
    if (!this.options.onChanged) return;
    await this.announced.announce(options);
  }

  // --- control -----------------------------------------------------------------------------------------------

  /**
   * Writes a control request into the run's `control/` (uploaded under a dot-name, then renamed into place) and
   * waits for the supervisor's `intervention` event for it, or its rejection.
   */
  async control(id: string, request: ControlRequest): Promise<RunSummary> {
    const mirror = await this.known(id);
    const first = await this.sync(id);
    const state: RunState | null = first.state ?? (await mirror.readState());
    const target = requireRunHost(id, await mirror.readSync());
    if (!state && (request.action === 'stop' || request.action === 'kill')) {
      // A SLURM run whose job still pends has no supervisor to ask: the job is cancelled instead (docs/slurm.md).
      const hostProfile = (await this.options.profiles()).find((p) => p.name === target.host);
      const cancelled = hostProfile?.scheduler
        ? await cancelSlurmJob({
            session: await this.options.session(target.host),
            hostRunDir: target.hostRunDir,
            dockerSocket: hostProfile.dockerSocket,
          })
        : null;
      if (cancelled) {
        await writeSchedulerRecord(mirror.dir, cancelled);
        await this.sync(id).catch(() => undefined);
        this.announced.touch(id);
        void this.emitIfChanged();
        return this.summaryOf(mirror);
      }
    }
    if (!state) throw new AppError('CONFLICT', `Run ${id} has not started yet; try again in a moment.`);
    if (isFinalRunStatus(state.status) || state.stoppedAt !== null) {
      throw new AppError(
        'CONFLICT',
        `Run ${id} has already ended (${state.status}); there is nothing to ${request.action}.`,
      );
    }
    if (request.action === 'extend' && state.status === 'stopping') {
      throw new AppError(
        'CONFLICT',
        `Run ${id} is already stopping (${state.stopReason ?? 'stop'}); it cannot be extended.`,
      );
    }
    await this.placeControl(
      mirror,
      target,
      request,
      request.action,
      (seconds, file) =>
        `The host's supervisor did not confirm the ${request.action} within ${seconds} s. The request stays in ` +
        `${file} and takes effect when the supervisor reads it.`,
    );
    this.announced.touch(id);
    void this.emitIfChanged();
    return this.summaryOf(mirror);
  }

  /**
   * Records a peek shell into the run's sandbox: a `peek-shell` control request, answered by the supervisor's
   * `intervention` event before anything opens (every peek into a sandbox is recorded first). The request's name.
   */
  async recordPeekShell(target: RunHost): Promise<string> {
    const mirror = new RunMirror(this.runsDir, target.id);
    return this.placeControl(
      mirror,
      target,
      { action: 'peek-shell' },
      'peek shell',
      (seconds) =>
        `The host's supervisor did not record the peek shell within ${seconds} s; the shell was not opened (every ` +
        'peek into a sandbox is recorded first).',
    );
  }

  /**
   * Writes a control request into the run's `control/` (uploaded under a dot-name, then renamed into place) and
   * waits for the supervisor's `intervention` event for it (its name is returned), or its rejection.
   */
  private async placeControl(
    mirror: RunMirror,
    target: RunHost,
    request: ControlRequest | { action: 'peek-shell' },
    what: string,
    timedOut: (seconds: number, file: string) => string,
  ): Promise<string> {
    const session = await this.options.session(target.host);
    const paths = hostRunPaths(target.hostRunDir);
    const name = `${request.action}-${Date.now()}-${randomBytes(3).toString('hex')}.json`;
    const tmp = path.posix.join(paths.control, `.${name}.tmp`);
    await session.writeFile(tmp, `${JSON.stringify({ ...request, by: this.options.by })}\n`, { mode: 0o644 });
    const placed = await session.exec(placeControlScript(tmp, path.posix.join(paths.control, name)));
    if (placed.code !== 0) {
      throw new AppError('INTERNAL', `Placing the ${what} request on ${target.host} failed: ${placed.stderr.trim()}`);
    }
    const timeoutMs = this.options.controlTimeoutMs ?? 20_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.sync(target.id).catch(() => undefined);
      const events = await this.localEvents(mirror);
      const answer = events.find(
        (e) => e.request === name && (e.type === 'intervention' || e.type === 'supervisor-error'),
      );
      if (answer?.type === 'intervention') return name;
      if (answer) throw new AppError('CONFLICT', `The supervisor refused the ${what}: ${String(answer.message)}`);
      if (Date.now() >= deadline) {
        throw new AppError('TIMEOUT', timedOut(Math.round(timeoutMs / 1000), `${paths.control}/${name}`), {
          retryable: true,
        });
      }
      await sleep(300);
    }
  }

  private async localEvents(mirror: RunMirror): Promise<Record<string, unknown>[]> {
    const text = await readFile(mirror.file('events.jsonl'), 'utf8').catch(() => '');
    const out: Record<string, unknown>[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // A damaged line is reported by get(); here it is just not an answer.
      }
    }
    return out;
  }

  // --- following a run (ptw run watch / wait) ---------------------------------------------------------------

  /**
   * Syncs the run until it has ended and its record is complete, handing the terminal output to `onOutput` from
   * the beginning as it arrives. A host that cannot be reached is waited for (noted once per outage).
   */
  async follow(id: string, options: FollowOptions = {}): Promise<RunSummary> {
    const mirror = await this.known(id);
    const pollMs = options.pollMs ?? 1_000;
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    let castOffset = 0;
    let header = true;
    let castLine = 0;
    let reader: CastEventReader | null = null;
    let outage: string | null = null;
    for (;;) {
      let complete = false;
      try {
        const result = await this.sync(id);
        if (outage) options.onNote?.(`${(await mirror.readSync())?.host ?? 'the host'} answers again; catching up.`);
        outage = null;
        complete = result.complete || (result.skipped && ((await mirror.readSync())?.complete ?? false));
      } catch (err) {
        const message = `${(await mirror.readSync().catch(() => undefined))?.host ?? 'the host'}: ${errorText(err)}`;
        if (outage === null) options.onNote?.(`${message} (the run goes on on the host; retrying)`);
        outage = message;
        complete = (await mirror.readSync())?.complete ?? false;
      }
      if (options.onOutput) {
        const read = await readCastFrom(mirror.file('terminal.cast'), castOffset);
        castOffset = read.offset;
        for (const line of read.lines) {
          castLine++;
          if (header) {
            header = false;
            try {
              reader = new CastEventReader(parseCastHeader(line).version);
              continue;
            } catch (err) {
              // Still shown as far as its lines are events (a v2 reader's rules).
              options.onNote?.(`terminal.cast line ${castLine}: ${(err as Error).message}`);
              reader = new CastEventReader(2);
              if (line.startsWith('{')) continue;
            }
          }
          const r = (reader ?? new CastEventReader(2)).read(line);
          // A bad line is reported where it is, and the output goes on.
          if (r.kind === 'problem') options.onNote?.(`terminal.cast line ${castLine}: ${r.message}`);
          else if (r.kind === 'event' && r.event.code === 'o') options.onOutput(r.event.data);
        }
      }
      if (complete) return this.summaryOf(mirror);
      if (options.signal?.aborted) throw new AppError('TIMEOUT', 'Stopped waiting.');
      if (Date.now() >= deadline) {
        const summary = await this.summaryOf(mirror);
        const heard = summary.syncedAt ? ` (last synced ${new Date(summary.syncedAt).toISOString()})` : '';
        throw new AppError(
          'TIMEOUT',
          `Run ${id} is still ${summary.status}${heard}${outage ? `; ${outage}` : ''}. Stopped waiting; the run goes on on the host.`,
          { retryable: true },
        );
      }
      await sleep(pollMs);
    }
  }

  async dispose(): Promise<void> {
    await this.syncer.stop();
  }
}

/** state.json (read leniently: any record with these fields) says the agent has stopped or the run is over. */
function agentStopped(raw: unknown): boolean {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return false;
  const state = raw as { stoppedAt?: unknown; status?: unknown };
  if (typeof state.stoppedAt === 'number') return true;
  return typeof state.status === 'string' && isFinalRunStatus(state.status as RunState['status']);
}

/** Complete lines of the local cast from `offset`. */
async function readCastFrom(file: string, offset: number): Promise<{ lines: string[]; offset: number }> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return { lines: [], offset };
  }
  try {
    const size = (await handle.stat()).size;
    if (size <= offset) return { lines: [], offset };
    const buffer = Buffer.alloc(size - offset);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
    const data = buffer.subarray(0, bytesRead);
    const end = data.lastIndexOf(0x0a) + 1;
    if (end === 0) return { lines: [], offset };
    const lines = data.subarray(0, end).toString('utf8').split('\n');
    lines.pop();
    return { lines, offset: offset + end };
  } finally {
    await handle.close();
  }
}
