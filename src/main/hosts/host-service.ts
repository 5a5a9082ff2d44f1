import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { HostSummary, SshConfigPreview } from '../../shared/contract';
import { AppError } from '../../shared/errors';
import {
  preflightReportSchema,
  type ConnectionState,
  type HostKeyDecision,
  type HostKeyPrompt,
  type HostProfile,
  type HostProfileInput,
  type PassphrasePrompt,
  type PreflightCheck,
  type PreflightReport,
} from '../../shared/hosts';
import { formatSshAddress, type HostStore } from '../services/host-store';
import { readJsonFile, writeJsonFileAtomic } from '../services/ptw-home';
import type { HostSession } from './host-exec-types';
import { LocalHostSession } from './local-host-session';
import { runPreflight } from './preflight';
import { importSshConfig } from './ssh-config-import';
import { formatJumpHop } from './ssh-jump-spec';

/** The questions a connection may need answered; the UI answers through dialogs, the CLI through flags or a TTY. */
export interface ConnectPrompts {
  confirmHostKey(prompt: Omit<HostKeyPrompt, 'promptId'>): Promise<HostKeyDecision>;
  askPassphrase(prompt: Omit<PassphrasePrompt, 'promptId'>): Promise<string | undefined>;
}

/** SSH connections, one per host (implemented over the connection manager). */
export interface HostConnector {
  open(profile: HostProfile, prompts: ConnectPrompts): Promise<HostSession>;
  state(name: string): ConnectionState | undefined;
  onState(listener: (name: string, state: ConnectionState) => void): () => void;
  close(name: string): Promise<void>;
  disposeAll(): Promise<void>;
}

export interface HostServiceOptions {
  store: HostStore;
  connector: HostConnector;
  prompts: ConnectPrompts;
  home: string;
  homeDir?: string;
  onChanged?: (hosts: HostSummary[]) => void;
}

/**
 * Everything about GPU hosts the app and the CLI share: profiles, ssh_config import, connections with
 * their live state, and preflight (whose last report is kept in `PTW_HOME/hosts/<name>/last-check.json`).
 */
export class HostService {
  private readonly locals = new Map<string, LocalHostSession>();
  private readonly disposeState: () => void;
  private readonly localSince = new Date().toISOString();

  constructor(private readonly options: HostServiceOptions) {
    this.disposeState = options.connector.onState(() => void this.notify());
  }

  async summaries(): Promise<HostSummary[]> {
    const profiles = await this.options.store.list();
    return Promise.all(profiles.map((p) => this.summary(p)));
  }

  async add(input: HostProfileInput): Promise<HostSummary> {
    const [saved] = await this.options.store.upsert([input]);
    await this.options.connector.close(saved!.name);
    void this.notify();
    return this.summary(saved!);
  }

  async remove(name: string): Promise<boolean> {
    await this.options.connector.close(name);
    this.locals.get(name)?.dispose();
    this.locals.delete(name);
    const removed = await this.options.store.remove(name);
    if (removed) void this.notify();
    return removed;
  }

  defaultSshConfigFile(): string {
    return path.join(this.options.homeDir ?? os.homedir(), '.ssh', 'config');
  }

  async previewSshConfig(file = this.defaultSshConfigFile()): Promise<SshConfigPreview> {
    const { candidates, problems, notImported } = await importSshConfig(file, this.homeDirOption());
    const names = new Set((await this.options.store.list()).map((h) => h.name));
    return {
      file,
      candidates,
      problems,
      notImported,
      existing: candidates.filter((c) => names.has(c.alias)).map((c) => c.alias),
    };
  }

  async importSshConfig(aliases: string[], file = this.defaultSshConfigFile()): Promise<HostSummary[]> {
    const { candidates } = await importSshConfig(file, this.homeDirOption());
    const wanted = new Set(aliases);
    const unknown = aliases.filter((a) => !candidates.some((c) => c.alias === a));
    if (unknown.length > 0) {
      throw new AppError(
        'NOT_FOUND',
        `${file} has no concrete Host entry named ${unknown.map((u) => `'${u}'`).join(', ')}`,
      );
    }
    const saved = await this.options.store.upsert(
      candidates
        .filter((c) => wanted.has(c.alias))
        .map((c) => ({
          name: c.alias,
          kind: 'ssh' as const,
          hostname: c.hostname,
          user: c.user,
          port: c.port,
          identityFiles: c.identityFiles,
          proxyJump: c.proxyJump,
          source: c.source,
        })),
    );
    void this.notify();
    return Promise.all(saved.map((p) => this.summary(p)));
  }

  /** A live session on the host, connecting first if needed. */
  async session(name: string, prompts: ConnectPrompts = this.options.prompts): Promise<HostSession> {
    const profile = await this.options.store.get(name);
    if (profile.kind === 'local') {
      let local = this.locals.get(name);
      if (!local) this.locals.set(name, (local = new LocalHostSession(profile.dockerSocket)));
      return local;
    }
    return this.options.connector.open(profile, prompts);
  }

  async connect(name: string, prompts?: ConnectPrompts): Promise<ConnectionState> {
    await this.session(name, prompts);
    return this.stateOf(await this.options.store.get(name)) ?? disconnected();
  }

  async disconnect(name: string): Promise<ConnectionState> {
    const profile = await this.options.store.get(name);
    await this.options.connector.close(name);
    this.locals.get(name)?.dispose();
    this.locals.delete(name);
    return this.stateOf(profile) ?? disconnected();
  }

  async check(
    name: string,
    options: { prompts?: ConnectPrompts; onProgress?: (check: PreflightCheck) => void } = {},
  ): Promise<PreflightReport> {
    const profile = await this.options.store.get(name);
    const session = await this.session(name, options.prompts);
    const report = await runPreflight({
      host: name,
      session,
      dockerSocket: profile.dockerSocket,
      runRoot: profile.runRoot,
      requiredImages: profile.requiredImages,
      hostKind: profile.kind,
      onProgress: (check) => options.onProgress?.(check),
    });
    await mkdir(path.dirname(this.lastCheckFile(name)), { recursive: true });
    await writeJsonFileAtomic(this.lastCheckFile(name), report);
    void this.notify();
    return report;
  }

  async lastCheck(name: string): Promise<PreflightReport | null> {
    const raw = await readJsonFile(this.lastCheckFile(name)).catch(() => undefined);
    const parsed = preflightReportSchema.safeParse(raw);
    return parsed.success ? parsed.data : null;
  }

  async dispose(): Promise<void> {
    this.disposeState();
    for (const local of this.locals.values()) local.dispose();
    this.locals.clear();
    await this.options.connector.disposeAll();
  }

  private lastCheckFile(name: string): string {
    return path.join(this.options.home, 'hosts', name, 'last-check.json');
  }

  private homeDirOption(): { homeDir?: string } {
    return this.options.homeDir === undefined ? {} : { homeDir: this.options.homeDir };
  }

  /** Undefined for a host not connected in this app session. */
  private stateOf(profile: HostProfile): ConnectionState | undefined {
    if (profile.kind === 'local') {
      return this.locals.has(profile.name) ? { status: 'connected', since: this.localSince } : undefined;
    }
    return this.options.connector.state(profile.name);
  }

  private async summary(profile: HostProfile): Promise<HostSummary> {
    const last = await this.lastCheck(profile.name);
    const state = this.stateOf(profile);
    return {
      name: profile.name,
      kind: profile.kind,
      address: profile.kind === 'local' ? profile.dockerSocket : formatSshAddress(profile),
      jump: profile.proxyJump.map(formatJumpHop).join(','),
      dockerSocket: profile.dockerSocket,
      runRoot: profile.runRoot,
      identityFiles: profile.identityFiles,
      requiredImages: profile.requiredImages,
      ...(profile.source === undefined ? {} : { source: profile.source }),
      ...(profile.scheduler ? { scheduler: profile.scheduler } : {}),
      ...(state === undefined ? {} : { state }),
      ...(last?.finishedAt ? { lastCheck: { overall: last.overall, finishedAt: last.finishedAt } } : {}),
    };
  }

  private async notify(): Promise<void> {
    if (!this.options.onChanged) return;
    try {
      this.options.onChanged(await this.summaries());
    } catch {
      // A broken hosts.json is reported by the next explicit list call, with the file named.
    }
  }
}

function disconnected(): ConnectionState {
  return { status: 'disconnected', since: new Date().toISOString() };
}
