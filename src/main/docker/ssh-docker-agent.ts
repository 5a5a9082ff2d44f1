import http from 'node:http';
import { Duplex } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';

export const DEFAULT_DOCKER_SOCKET_PATH = '/var/run/docker.sock';

/** SSH_MSG_CHANNEL_OPEN_FAILURE reason codes (RFC 4254 §5.1) that change what we tell the user. */
const OPEN_ADMINISTRATIVELY_PROHIBITED = 1;

/**
 * The host's Docker socket could not be reached through the SSH connection.
 * `code` is the error code the app reports (named for what the user must do: make Docker available).
 */
export class DockerSocketUnreachableError extends Error {
  readonly code = 'DOCKER_UNAVAILABLE';
  readonly socketPath: string;

  constructor(socketPath: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DockerSocketUnreachableError';
    this.socketPath = socketPath;
  }
}

export interface SshDockerAgentOptions extends http.AgentOptions {
  /** Path of the Docker API socket on the remote host. */
  socketPath?: string;
}

/**
 * An `http.Agent` whose connections are SSH `direct-streamlocal@openssh.com` channels to the host's
 * Docker socket, so dockerode speaks HTTP to the remote daemon without a TCP port or a `docker` CLI
 * on the host (docker-modem's own ssh mode needs `docker system dial-stdio` there).
 */
export class SshDockerAgent extends http.Agent {
  readonly socketPath: string;
  readonly #client: Client;
  /** Every channel we opened that SSH has not closed yet, hijacked ones included (the Agent forgets those). */
  readonly #channels = new Set<ClientChannel>();
  readonly #sockets = new Set<ChannelSocket>();
  #disposed = false;

  constructor(client: Client, options: SshDockerAgentOptions = {}) {
    const { socketPath = DEFAULT_DOCKER_SOCKET_PATH, ...agentOptions } = options;
    super(agentOptions);
    this.#client = client;
    this.socketPath = socketPath;
    client.on('close', this.#onClientClose);
  }

  /** SSH channels this agent has open right now; 0 once every request (and stream) has finished. */
  get openChannelCount(): number {
    return this.#channels.size;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  override createConnection(
    _options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): undefined {
    // Node's Agent types the error path as `(err, stream)`; it ignores the stream when err is set.
    const fail = (err: Error): void => {
      process.nextTick(() => callback?.(err, undefined as unknown as Duplex));
    };
    if (this.#disposed) {
      fail(new Error(`Docker connection to ${this.socketPath} was disposed`));
      return undefined;
    }
    try {
      this.#client.openssh_forwardOutStreamLocal(this.socketPath, (err, channel) => {
        if (err) {
          callback?.(this.#describeOpenFailure(err), undefined as unknown as Duplex);
          return;
        }
        this.#channels.add(channel);
        channel.once('close', () => this.#channels.delete(channel));
        const socket = new ChannelSocket(channel);
        this.#sockets.add(socket);
        socket.once('close', () => this.#sockets.delete(socket));
        if (this.#disposed) {
          // dispose() ran while the open was in flight.
          socket.destroy();
          callback?.(new Error(`Docker connection to ${this.socketPath} was disposed`), socket);
          return;
        }
        callback?.(null, socket);
      });
    } catch (err) {
      // ssh2 throws synchronously ("Not connected") when the connection is already gone.
      fail(
        new DockerSocketUnreachableError(
          this.socketPath,
          `Cannot reach the Docker socket ${this.socketPath} on the host: the SSH connection is closed`,
          { cause: err },
        ),
      );
    }
    return undefined;
  }

  /**
   * Destroys every socket (pooled, in use, or hijacked for attach/exec) and resolves once SSH has
   * closed their channels, or after `timeoutMs` if the server never answers the close.
   */
  async dispose(timeoutMs = 5_000): Promise<void> {
    this.#disposed = true;
    this.#client.off('close', this.#onClientClose);
    super.destroy();
    for (const socket of this.#sockets) socket.destroy();
    const pending = [...this.#channels].map(
      (channel) => new Promise<void>((resolve) => channel.once('close', () => resolve())),
    );
    for (const channel of this.#channels) channel.destroy();
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(pending),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** With the connection gone no channel will ever see a close from the server; fail them all now. */
  readonly #onClientClose = (): void => {
    const err = new Error(`SSH connection closed under the Docker connection to ${this.socketPath}`);
    for (const socket of this.#sockets) socket.destroy(err);
    this.#channels.clear();
  };

  #describeOpenFailure(err: unknown): Error {
    const cause = err instanceof Error ? err : new Error(String(err));
    const reason = (cause as { reason?: unknown }).reason;
    const detail =
      reason === OPEN_ADMINISTRATIVELY_PROHIBITED
        ? 'the SSH server refuses stream-local forwarding (set AllowStreamLocalForwarding yes in sshd_config)'
        : // OpenSSH answers every failed stream-local open alike (CONNECT_FAILED, "open failed"),
          // whether the socket is missing, unreadable or forwarding is off; name all three.
          `${cause.message}. Check that dockerd is running and listening there, that this SSH user may open the socket (root or the docker group), and that sshd allows it (AllowStreamLocalForwarding yes)`;
    return new DockerSocketUnreachableError(
      this.socketPath,
      `Cannot reach the Docker socket ${this.socketPath} on the host over SSH: ${detail}`,
      { cause },
    );
  }
}

/**
 * Presents an ssh2 channel as the net.Socket-like Duplex Node's http client expects.
 * A wrapper rather than patching the channel because ssh2's `Channel.destroy()` ignores its error
 * and never sets `destroyed`, which the Agent relies on to drop dead sockets.
 */
class ChannelSocket extends Duplex {
  readonly #channel: ClientChannel;
  #idleTimer: NodeJS.Timeout | undefined;
  /** Read by `http.Agent#keepSocketAlive`, as on net.Socket. */
  timeout = 0;

  constructor(channel: ClientChannel) {
    // Like net.Socket: when the daemon ends its side, we end ours.
    super({ allowHalfOpen: false });
    this.#channel = channel;
    channel.on('data', (chunk: Buffer) => {
      // After destroy, drop data rather than pause: ssh2 only closes a channel whose data was read.
      if (this.destroyed) return;
      this.#touch();
      if (!this.push(chunk)) channel.pause();
    });
    channel.once('end', () => this.push(null));
    channel.once('close', () => this.destroy());
    channel.on('error', (err: Error) => this.destroy(err));
  }

  override _read(): void {
    this.#channel.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#touch();
    this.#channel.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // Sends SSH EOF: the half-close an attach/exec stdin needs.
    this.#channel.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#clearIdleTimer();
    // Drain anything still buffered so ssh2 sees 'end' and can emit the channel's 'close'.
    this.#channel.resume();
    this.#channel.destroy();
    callback(error);
  }

  /** net.Socket#setTimeout semantics: emit 'timeout' after `ms` without traffic in either direction. */
  setTimeout(ms: number, callback?: () => void): this {
    this.timeout = ms;
    if (callback) {
      if (ms === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    this.#clearIdleTimer();
    if (ms > 0) this.#touch();
    return this;
  }

  // TCP-only knobs; an SSH channel has no Nagle or keepalive of its own, and the SSH
  // connection (not this channel) is what holds the event loop open.
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  setKeepAlive(_enable?: boolean, _initialDelay?: number): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  #touch(): void {
    if (this.timeout <= 0 || this.destroyed) return;
    if (this.#idleTimer) {
      this.#idleTimer.refresh();
      return;
    }
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      this.emit('timeout');
    }, this.timeout);
    this.#idleTimer.unref();
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}
