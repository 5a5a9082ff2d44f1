import { EventEmitter } from 'node:events';
import os from 'node:os';
import type Dockerode from 'dockerode';
import type { Client, ClientCallback, SFTPWrapper } from 'ssh2';
import { AppError } from '../../shared/errors';
import type {
  ConnectionState,
  HostKeyDecision,
  HostKeyPrompt,
  HostProfile,
  PassphrasePrompt,
} from '../../shared/hosts';
import { DockerApiVersionError, negotiateApiVersion } from '../docker/docker-api-version';
import { createDockerOverSsh, type DockerOverSsh } from '../docker/docker-over-ssh';
import { DockerSocketUnreachableError } from '../docker/ssh-docker-agent';
import { streamOverSsh } from './host-command-stream';
import type { ExecOptions, ExecResult, HostCommandStream, HostSession } from './host-exec-types';
import type { HostKeyTrust } from './host-key-trust-types';
import { isIdentityFault, planReconnect, type ReconnectOptions } from './reconnect-policy';
import { identityFilesFor, KeyVault } from './ssh-auth';
import { sftpReadFile, sftpWriteFile } from './sftp-files';
import { execOverSsh } from './ssh-exec';
import { describeHop, type OpenedHop, openHop, type SshHop } from './ssh-hop';

/**
 * The questions a connection may have to ask a person. The UI answers through dialogs (PromptBroker),
 * the CLI through flags (`--accept-new-host-key`, `--passphrase-env`) or a TTY. Each prompt carries a
 * fresh `promptId`; a callback typed on the prompt without it fits too.
 */
export interface ConnectPrompts {
  /** An unknown host key: `once` (this app session), `always` (recorded), or `refuse`. */
  confirmHostKey(prompt: HostKeyPrompt): Promise<HostKeyDecision>;
  /** An encrypted key's passphrase; `retry` after a wrong one; undefined skips the key. */
  askPassphrase(prompt: PassphrasePrompt): Promise<string | undefined>;
}

/** The parts of the environment a connection reads; injected so tests (and the CLI) never touch process.env. */
export interface HostConnectionEnv {
  readonly SSH_AUTH_SOCK?: string | undefined;
  readonly HOME?: string | undefined;
  readonly USER?: string | undefined;
}

export interface HostConnectionOptions extends ConnectPrompts {
  readonly trust: HostKeyTrust;
  /** Default: process.env (read, never written). */
  readonly env?: HostConnectionEnv;
  /** Per hop: TCP connect, key exchange and login, not counting time a prompt is open. Default 20 s. */
  readonly readyTimeoutMs?: number;
  /** SSH keepalive; the connection counts as dropped after `keepaliveCountMax` unanswered ones. Default 15 s × 3. */
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveCountMax?: number;
  readonly reconnect?: Partial<ReconnectOptions>;
  /** Default timeout of `session().exec`. Default 60 s. */
  readonly execTimeoutMs?: number;
  /**
   * Exec channels open at once; more wait their turn. OpenSSH's MaxSessions (default 10) refuses
   * the 11th session channel on a connection, which would fail a busy preflight at random.
   */
  readonly maxConcurrentExecs?: number;
  readonly maxExecOutputBytes?: number;
}

export const DEFAULT_READY_TIMEOUT_MS = 20_000;
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 15_000;
export const DEFAULT_KEEPALIVE_COUNT_MAX = 3;
const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_CONCURRENT_EXECS = 8;
const DEFAULT_MAX_EXEC_OUTPUT_BYTES = 16 * 1024 * 1024;
/** One SFTP open, read or write; a healthy connection moves MBs in well under this. */
const SFTP_TIMEOUT_MS = 120_000;

/** The hops of a profile: its ProxyJump chain (each defaulting to the profile's user and port 22), then the host. */
export function hopsOf(profile: HostProfile, defaultUser: string): SshHop[] {
  const username = profile.user ?? defaultUser;
  return [
    ...profile.proxyJump.map((jump) => ({
      role: 'jump' as const,
      host: jump.host,
      port: jump.port ?? 22,
      username: jump.user ?? username,
    })),
    { role: 'target' as const, host: profile.hostname ?? profile.name, port: profile.port ?? 22, username },
  ];
}

/**
 * Stands in for the ssh2 Client under the host's one dockerode: forwards each channel open to
 * whichever connection is current, and relays 'close' when one drops. So the dockerode (and its
 * negotiated API version) outlives reconnects, and callers may keep it. SshDockerAgent uses only
 * `openssh_forwardOutStreamLocal` and the 'close' event.
 */
class CurrentClientRelay extends EventEmitter {
  constructor(private readonly current: () => Client | undefined) {
    super();
  }

  openssh_forwardOutStreamLocal(socketPath: string, callback: ClientCallback): this {
    const client = this.current();
    // The agent turns this into DOCKER_UNAVAILABLE "the SSH connection is closed".
    if (!client) throw new Error('Not connected');
    client.openssh_forwardOutStreamLocal(socketPath, callback);
    return this;
  }
}

/** Counts exec channels in flight. */
class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#free = Math.max(1, size);
  }

  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
  }
}

function now(): string {
  return new Date().toISOString();
}

function asAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError('INTERNAL', err instanceof Error ? err.message : String(err), { cause: err });
}

/** Ends every connection of a chain, innermost first, and resolves once each has closed (or after `timeoutMs`). */
async function endChain(chain: readonly OpenedHop[], timeoutMs = 3_000): Promise<void> {
  const closed = chain.map(
    ({ client }) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        client.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      }),
  );
  for (const { client } of [...chain].reverse()) {
    try {
      client.end();
    } catch {
      client.destroy();
    }
  }
  await Promise.all(closed);
  for (const { client } of chain) client.destroy();
}

/**
 * One multiplexed SSH connection to one host (through its ProxyJump chain), shared by every caller:
 * exec, sftp and Docker all ride on it. The host key of every hop is checked before any credential
 * is offered; a dropped connection is restored automatically after transient faults (with backoff)
 * and never after identity faults.
 */
export class HostConnection {
  readonly profile: HostProfile;
  readonly #options: HostConnectionOptions;
  readonly #hops: readonly SshHop[];
  readonly #homeDir: string;
  readonly #vault = new KeyVault();
  readonly #listeners = new Set<(state: ConnectionState) => void>();
  readonly #relay = new CurrentClientRelay(() => this.#chain?.at(-1)?.client);
  readonly #sftps = new Set<SFTPWrapper>();
  /** Fails the SFTP work in flight; called when the connection drops or is disposed. */
  readonly #pending = new Set<(err: AppError) => void>();
  readonly #execSlots: Slots;
  readonly #session: HostSession;
  #state: ConnectionState = { status: 'disconnected', since: now() };
  /** The live connections, outermost jump first, the host last; undefined while not connected. */
  #chain: OpenedHop[] | undefined;
  #attempt: Promise<void> | undefined;
  #abort: AbortController | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #reconnectAttempt = 0;
  #remote: DockerOverSsh | undefined;
  #docker: Promise<Dockerode> | undefined;
  #apiVersion: string | undefined;
  /** Why the state is `failed`. */
  #failure: AppError | undefined;
  #disposed: Promise<void> | undefined;

  constructor(profile: HostProfile, options: HostConnectionOptions) {
    if (profile.kind !== 'ssh') {
      throw new AppError('INVALID_INPUT', `Host ${profile.name} is a ${profile.kind} host, not an SSH host`);
    }
    this.profile = profile;
    this.#options = options;
    const env = options.env ?? process.env;
    this.#homeDir = env.HOME ?? os.homedir();
    this.#hops = hopsOf(profile, env.USER ?? os.userInfo().username);
    this.#execSlots = new Slots(options.maxConcurrentExecs ?? DEFAULT_MAX_CONCURRENT_EXECS);
    this.#session = {
      exec: (command, execOptions) => this.exec(command, execOptions),
      docker: () => this.docker(),
      ping: () => this.ping(),
      writeFile: (path, data, fileOptions) => this.writeFile(path, data, fileOptions),
      readFile: (path, readOptions) => this.readFile(path, readOptions),
      stream: (command) => this.stream(command),
    };
  }

  /** Writes a file over a short-lived SFTP session on the shared connection. */
  async writeFile(path: string, data: Buffer | string, options: { mode?: number } = {}): Promise<void> {
    const sftp = await this.sftp();
    try {
      const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
      await this.#untilDropped(sftpWriteFile(sftp, path, bytes, options.mode), `Writing ${path}`, SFTP_TIMEOUT_MS);
    } finally {
      sftp.end();
    }
  }

  async readFile(path: string, options: { offset?: number; maxBytes?: number } = {}): Promise<Buffer> {
    const sftp = await this.sftp();
    try {
      return await this.#untilDropped(sftpReadFile(sftp, path, options), `Reading ${path}`, SFTP_TIMEOUT_MS);
    } finally {
      sftp.end();
    }
  }

  /**
   * `work`, failed at once when the connection drops (or after `timeoutMs`): an SFTP request in flight when the
   * network goes can otherwise wait for an answer forever, and with it a run's sync.
   */
  #untilDropped<T>(work: Promise<T>, what: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#pending.delete(fail);
      };
      const fail = (err: AppError): void => {
        done();
        reject(err);
      };
      const timer = setTimeout(
        () =>
          fail(
            new AppError('TIMEOUT', `${what} on ${this.address} did not finish within ${timeoutMs / 1000} s`, {
              retryable: true,
            }),
          ),
        timeoutMs,
      );
      this.#pending.add(fail);
      work.then(
        (value) => {
          done();
          resolve(value);
        },
        (err: unknown) => {
          done();
          reject(err);
        },
      );
    });
  }

  #failPending(error: AppError): void {
    for (const fail of [...this.#pending]) fail(error);
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** `root@gpu-1:22`: how messages name the host. */
  get address(): string {
    return describeHop(this.#hops.at(-1)!);
  }

  /** Called on every state change; returns the unsubscribe. */
  onState(listener: (state: ConnectionState) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  /**
   * Connects (or reconnects) if not connected. Idempotent: concurrent callers share one attempt (the
   * first caller's `prompts` answer its questions). While `reconnecting`, tries at once instead of
   * waiting out the backoff.
   */
  connect(options: { prompts?: Partial<ConnectPrompts> } = {}): Promise<void> {
    if (this.#disposed) return Promise.reject(this.#disposedError());
    if (this.#chain) return Promise.resolve();
    if (!this.#attempt) {
      this.#clearReconnectTimer();
      const attempt = this.#state.status === 'reconnecting' ? this.#reconnectAttempt : 0;
      this.#attempt = this.#run(attempt, options.prompts ?? {}).finally(() => {
        this.#attempt = undefined;
      });
    }
    return this.#attempt;
  }

  /** exec / docker / ping over this connection, connecting first when needed. */
  session(): HostSession {
    return this.#session;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const client = await this.#client();
    const release = await this.#execSlots.acquire();
    try {
      return await execOverSsh(client, command, {
        timeoutMs: options.timeoutMs ?? this.#options.execTimeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
        maxOutputBytes: this.#options.maxExecOutputBytes ?? DEFAULT_MAX_EXEC_OUTPUT_BYTES,
        who: this.address,
        ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
      });
    } finally {
      release();
    }
  }

  /**
   * A long-running command read as a stream (a live terminal's `tail -F`). It holds a session channel while it
   * runs, outside the exec slots (it would starve short execs); OpenSSH's MaxSessions bounds how many are open.
   */
  async stream(command: string): Promise<HostCommandStream> {
    return streamOverSsh(await this.#client(), command, this.address);
  }

  /**
   * Round trip over the connection, in ms (connecting first is not counted): the time for sshd to open a session
   * channel and accept `exec true`, not for the command to finish, so a slow login shell (pyenv, conda in .bashrc)
   * does not read as network latency.
   */
  async ping(): Promise<number> {
    const client = await this.#client();
    const release = await this.#execSlots.acquire();
    const started = performance.now();
    return new Promise<number>((resolve, reject) => {
      try {
        client.exec('true', (err, channel) => {
          const elapsed = performance.now() - started;
          if (err) {
            release();
            reject(
              new AppError('HOST_UNREACHABLE', `${this.address} did not answer: ${err.message}`, { retryable: true }),
            );
            return;
          }
          // Drain and let the command finish so the session slot is given back.
          channel.on('data', () => undefined);
          channel.stderr.on('data', () => undefined);
          channel.once('close', release);
          resolve(elapsed);
        });
      } catch (err) {
        release();
        reject(err);
      }
    });
  }

  /**
   * An SFTP session on the shared connection. The caller ends it (`sftp.end()`) when done; dispose
   * ends any still open. It does not survive a reconnect.
   */
  async sftp(): Promise<SFTPWrapper> {
    const client = await this.#client();
    return new Promise<SFTPWrapper>((resolve, reject) => {
      const fail = (err: unknown): void =>
        reject(
          new AppError('HOST_UNREACHABLE', `Could not open SFTP on ${this.address}: ${(err as Error).message}`, {
            retryable: true,
            cause: err,
          }),
        );
      try {
        const opened = new Promise<SFTPWrapper>((resolveOpen, rejectOpen) =>
          client.sftp((err, sftp) => (err ? rejectOpen(err) : resolveOpen(sftp))),
        );
        this.#untilDropped(opened, 'Opening SFTP', SFTP_TIMEOUT_MS).then((sftp) => {
          if (this.#disposed || !this.#chain) {
            sftp.end();
            return reject(this.#disposed ? this.#disposedError() : new Error('the connection was lost'));
          }
          this.#sftps.add(sftp);
          sftp.once('close', () => this.#sftps.delete(sftp));
          resolve(sftp);
        }, fail);
      } catch (err) {
        fail(err);
      }
    });
  }

  /**
   * dockerode for the host's Docker socket (profile.dockerSocket), reached by stream-local forwarding
   * over this connection, API version negotiated once per connection. The same instance keeps
   * working across reconnects. DOCKER_UNAVAILABLE / DOCKER_UNSUPPORTED when Docker cannot be used.
   */
  docker(): Promise<Dockerode> {
    this.#docker ??= this.#openDocker().catch((err: unknown) => {
      this.#docker = undefined;
      throw err;
    });
    return this.#docker;
  }

  /** Ends everything: Docker channels, SFTP sessions, the host and jump connections, timers, listeners. */
  dispose(): Promise<void> {
    this.#disposed ??= (async () => {
      this.#clearReconnectTimer();
      this.#abort?.abort();
      await this.#attempt?.catch(() => undefined);
      const remote = this.#remote;
      this.#remote = undefined;
      this.#docker = undefined;
      // While the connection is still up, so the server acknowledges each channel's close.
      await remote?.agent.dispose(2_000);
      for (const sftp of this.#sftps) sftp.end();
      this.#sftps.clear();
      this.#failPending(this.#disposedError());
      const chain = this.#chain;
      this.#chain = undefined;
      this.#relay.emit('close');
      if (chain) await endChain(chain);
      this.#vault.clear();
      this.#setState({ status: 'disconnected' });
      this.#listeners.clear();
      this.#relay.removeAllListeners();
    })();
    return this.#disposed;
  }

  async #openDocker(): Promise<Dockerode> {
    const socketPath = this.profile.dockerSocket;
    await this.#client();
    if (this.#disposed) throw this.#disposedError();
    // SshDockerAgent needs only the two members the relay has.
    this.#remote ??= createDockerOverSsh(this.#relay as unknown as Client, { socketPath });
    const { docker } = this.#remote;
    if (this.#apiVersion !== undefined) return docker;
    try {
      this.#apiVersion = await negotiateApiVersion(docker);
      return docker;
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (err instanceof DockerApiVersionError) {
        throw new AppError('DOCKER_UNSUPPORTED', `${this.profile.name}: ${err.message}`, { cause: err });
      }
      if (err instanceof DockerSocketUnreachableError) {
        throw new AppError('DOCKER_UNAVAILABLE', `${this.profile.name}: ${err.message}`, {
          retryable: true,
          cause: err,
        });
      }
      throw new AppError(
        'DOCKER_UNAVAILABLE',
        `${this.profile.name}: Docker did not answer on ${socketPath} (${(err as Error).message}). ` +
          `Check that dockerd is running on the host and that ${this.#hops.at(-1)!.username} may open the socket (root or the docker group).`,
        { retryable: true, cause: err },
      );
    }
  }

  /**
   * The host's ssh2 client, connecting (or reconnecting) first if needed. Not after an identity
   * fault: only an explicit connect() (a person pressing Retry) may try again, or a poller's exec
   * would keep re-asking about an unknown key or re-offering keys.
   */
  async #client(): Promise<Client> {
    const failed = this.#state.status === 'failed' ? this.#failure : undefined;
    if (failed && isIdentityFault(failed)) throw failed;
    if (!this.#chain) await this.connect();
    const client = this.#chain?.at(-1)?.client;
    if (!client) {
      throw new AppError('HOST_UNREACHABLE', `The connection to ${this.address} was lost`, { retryable: true });
    }
    return client;
  }

  /** One connection attempt; `attempt` 0 is a user's connect, 1.. are reconnects. */
  async #run(attempt: number, prompts: Partial<ConnectPrompts>): Promise<void> {
    const abort = new AbortController();
    this.#abort = abort;
    if (attempt === 0) this.#setState({ status: 'connecting' });
    try {
      const chain = await this.#openChain(prompts, abort.signal);
      this.#install(chain);
      this.#reconnectAttempt = 0;
      this.#setState({ status: 'connected' });
    } catch (err) {
      const error = asAppError(err);
      if (this.#disposed) throw error;
      if (attempt > 0) {
        const plan = planReconnect(error, attempt + 1, this.#options.reconnect);
        if (plan.retry) {
          this.#scheduleReconnect(attempt + 1, plan.delayMs, error);
          throw error;
        }
      }
      this.#fail(error);
      throw error;
    } finally {
      if (this.#abort === abort) this.#abort = undefined;
    }
  }

  async #openChain(prompts: Partial<ConnectPrompts>, signal: AbortSignal): Promise<OpenedHop[]> {
    const env = this.#options.env ?? process.env;
    const common = {
      hostName: this.profile.name,
      trust: this.#options.trust,
      // Called as methods, so a prompts object that relies on `this` (a PromptBroker) keeps it.
      confirmHostKey: (prompt: HostKeyPrompt) =>
        prompts.confirmHostKey ? prompts.confirmHostKey(prompt) : this.#options.confirmHostKey(prompt),
      askPassphrase: (prompt: PassphrasePrompt) =>
        prompts.askPassphrase ? prompts.askPassphrase(prompt) : this.#options.askPassphrase(prompt),
      agentSocket: env.SSH_AUTH_SOCK || undefined,
      identityFiles: identityFilesFor(this.profile.identityFiles, this.#homeDir),
      vault: this.#vault,
      readyTimeoutMs: this.#options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
      keepaliveIntervalMs: this.#options.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: this.#options.keepaliveCountMax ?? DEFAULT_KEEPALIVE_COUNT_MAX,
      signal,
    };
    const opened: OpenedHop[] = [];
    try {
      for (const hop of this.#hops) {
        const via = opened.at(-1);
        opened.push(await openHop({ ...common, hop, via: via && { client: via.client, hop: via.hop } }));
        if (signal.aborted) throw this.#disposedError();
      }
      return opened;
    } catch (err) {
      // The jumps already open for this attempt: closed before the attempt reports, so nothing lingers.
      await endChain(opened, 1_000);
      throw err;
    }
  }

  #install(chain: OpenedHop[]): void {
    this.#chain = chain;
    // Any hop closing takes the host down with it (its tunnel runs through the hop).
    for (const opened of chain) opened.client.once('close', () => this.#onDrop(chain, opened));
  }

  #onDrop(chain: OpenedHop[], dropped: OpenedHop): void {
    if (this.#chain !== chain) return;
    this.#chain = undefined;
    this.#relay.emit('close');
    for (const sftp of this.#sftps) sftp.end();
    this.#sftps.clear();
    void endChain(chain, 1_000);
    const cause = dropped.lastError();
    const error = new AppError(
      'HOST_UNREACHABLE',
      `The connection to ${describeHop(dropped.hop)} was lost${cause ? `: ${cause.message}` : ''}`,
      { retryable: true, ...(cause ? { cause } : {}) },
    );
    this.#failPending(error);
    if (this.#disposed) return;
    const plan = planReconnect(error, 1, this.#options.reconnect);
    if (plan.retry) this.#scheduleReconnect(1, plan.delayMs, error);
    else this.#fail(error);
  }

  #scheduleReconnect(attempt: number, delayMs: number, error: AppError): void {
    this.#reconnectAttempt = attempt;
    this.#setState({
      status: 'reconnecting',
      error: error.toData(),
      attempt,
      nextAttemptAt: new Date(Date.now() + delayMs).toISOString(),
    });
    this.#clearReconnectTimer();
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      // connect() reports the outcome through state; nobody awaits this attempt.
      this.connect().catch(() => undefined);
    }, delayMs);
    // A pending reconnect alone should not keep a CLI process alive.
    this.#reconnectTimer.unref();
  }

  #clearReconnectTimer(): void {
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
  }

  #fail(error: AppError): void {
    this.#failure = error;
    this.#setState({ status: 'failed', error: error.toData() });
  }

  #setState(state: Omit<ConnectionState, 'since'>): void {
    this.#state = { ...state, since: now() };
    for (const listener of [...this.#listeners]) {
      try {
        listener(this.#state);
      } catch {
        // A listener's bug must not stop the connection's own bookkeeping.
      }
    }
  }

  #disposedError(): AppError {
    return new AppError('TRANSPORT_CLOSED', `The connection to ${this.address} was closed`, { retryable: true });
  }
}
