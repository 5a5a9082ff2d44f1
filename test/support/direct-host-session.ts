import type Dockerode from 'dockerode';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import { AppError } from '../../src/shared/errors';
import { DockerApiVersionError, negotiateApiVersion } from '../../src/main/docker/docker-api-version';
import { createDockerOverSsh, type DockerOverSsh } from '../../src/main/docker/docker-over-ssh';
import type { ExecResult, HostSession } from '../../src/main/hosts/host-exec-types';
import { connectSsh } from './connect-ssh';
import { sftpReadFile, sftpWriteFile } from '../../src/main/hosts/sftp-files';
import type { SFTPWrapper } from 'ssh2';

/**
 * A HostSession over one plain ssh2 Client, for tests that need a session without the app's connection manager
 * (which owns reconnects, prompts and channel limits). Swap it for the real one where that matters.
 */
export class DirectHostSession implements HostSession {
  readonly client: Client;
  readonly dockerSocket: string;
  #remote: DockerOverSsh | undefined;
  #negotiated: Promise<Dockerode> | undefined;
  #closed = false;

  constructor(client: Client, dockerSocket: string) {
    this.client = client;
    this.dockerSocket = dockerSocket;
    // Tests kill servers under live connections; an unhandled 'error' would crash the worker.
    client.on('error', () => {});
    client.once('close', () => {
      this.#closed = true;
    });
  }

  async writeFile(path: string, data: Buffer | string, options: { mode?: number } = {}): Promise<void> {
    const sftp = await this.#sftp();
    try {
      await sftpWriteFile(sftp, path, Buffer.isBuffer(data) ? data : Buffer.from(data), options.mode);
    } finally {
      sftp.end();
    }
  }

  async readFile(path: string, options: { offset?: number; maxBytes?: number } = {}): Promise<Buffer> {
    const sftp = await this.#sftp();
    try {
      return await sftpReadFile(sftp, path, options);
    } finally {
      sftp.end();
    }
  }

  #sftp(): Promise<SFTPWrapper> {
    return new Promise((resolve, reject) => this.client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
  }

  static async connect(config: ConnectConfig, opts: { dockerSocket: string }): Promise<DirectHostSession> {
    return new DirectHostSession(await connectSsh(config), opts.dockerSocket);
  }

  exec(command: string, options: { timeoutMs?: number; stdin?: string } = {}): Promise<ExecResult> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err: Error | undefined, channel: ClientChannel) => {
        if (err) {
          reject(err);
          return;
        }
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let code: number | null = null;
        let signal: string | undefined;
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          channel.close();
        }, timeoutMs);
        channel.on('data', (chunk: Buffer) => stdout.push(chunk));
        channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        channel.on('exit', (exitCode: number | null, signalName?: string) => {
          code = exitCode ?? null;
          signal = signalName ?? undefined;
        });
        channel.on('close', () => {
          clearTimeout(timer);
          if (timedOut) {
            reject(
              new AppError('TIMEOUT', `\`${command}\` did not finish within ${timeoutMs} ms`, { retryable: true }),
            );
            return;
          }
          resolve({
            code,
            signal,
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
          });
        });
        // stdin, if any, then EOF, so a command that reads it does not wait forever.
        channel.end(options.stdin);
      });
    });
  }

  docker(): Promise<Dockerode> {
    this.#negotiated ??= (async () => {
      const remote = createDockerOverSsh(this.client, { socketPath: this.dockerSocket });
      this.#remote = remote;
      try {
        await negotiateApiVersion(remote.docker);
        return remote.docker;
      } catch (err) {
        this.#negotiated = undefined;
        this.#remote = undefined;
        await remote.dispose();
        const unsupported = err instanceof DockerApiVersionError;
        throw new AppError(
          unsupported ? 'DOCKER_UNSUPPORTED' : 'DOCKER_UNAVAILABLE',
          err instanceof Error ? err.message : String(err),
          { retryable: !unsupported, cause: err },
        );
      }
    })();
    return this.#negotiated;
  }

  async ping(): Promise<number> {
    const started = performance.now();
    await this.exec(':', { timeoutMs: 10_000 });
    return performance.now() - started;
  }

  /** Closes Docker's channels and the SSH connection, and waits for the socket to close. */
  async close(): Promise<void> {
    await this.#remote?.dispose();
    this.#remote = undefined;
    this.#negotiated = undefined;
    if (this.#closed) return;
    await new Promise<void>((resolve) => {
      this.client.once('close', () => resolve());
      this.client.end();
    });
  }
}
