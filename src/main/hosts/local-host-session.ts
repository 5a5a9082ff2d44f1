import { execFile } from 'node:child_process';
import { chmod, open, writeFile } from 'node:fs/promises';
import type Dockerode from 'dockerode';
import { AppError } from '../../shared/errors';
import { negotiateApiVersion } from '../docker/docker-api-version';
import { createLocalDocker, type LocalDocker } from '../docker/local-docker';
import { streamLocally } from './host-command-stream';
import type { ExecOptions, ExecResult, HostCommandStream, HostSession } from './host-exec-types';

/** A `local` host: this machine's own Docker socket and shell, no SSH (a workstation with its own GPU). */
export class LocalHostSession implements HostSession {
  private local: LocalDocker | undefined;
  private negotiated: Promise<Dockerode> | undefined;

  constructor(private readonly dockerSocket: string) {}

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve) => {
      const child = execFile(
        '/bin/sh',
        ['-c', command],
        { timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
        (error, stdout, stderr) => {
          const err = error as (Error & { code?: number | string; signal?: string }) | null;
          // A number is the exit status; a string (ENOENT…) means the shell itself could not start.
          const code = !err ? 0 : typeof err.code === 'number' ? err.code : err.signal ? null : 127;
          resolve({ code, signal: err?.signal ?? undefined, stdout, stderr });
        },
      );
      // An early exit closes the pipe under us: that is the command's business, not an error of ours.
      child.stdin?.on('error', () => undefined);
      if (options.stdin !== undefined) child.stdin?.end(options.stdin);
    });
  }

  docker(): Promise<Dockerode> {
    this.negotiated ??= (async () => {
      this.local = createLocalDocker({ socketPath: this.dockerSocket });
      try {
        await negotiateApiVersion(this.local.docker);
      } catch (err) {
        this.negotiated = undefined;
        throw new AppError(
          'DOCKER_UNAVAILABLE',
          `Docker is not answering on ${this.dockerSocket}: ${(err as Error).message}. Is dockerd running, and can this user open the socket?`,
          { retryable: true, cause: err },
        );
      }
      return this.local.docker;
    })();
    return this.negotiated;
  }

  async ping(): Promise<number> {
    const started = performance.now();
    await this.exec('true');
    return performance.now() - started;
  }

  async writeFile(path: string, data: Buffer | string, options: { mode?: number } = {}): Promise<void> {
    await writeFile(path, data, { mode: options.mode ?? 0o644 });
    await chmod(path, options.mode ?? 0o644);
  }

  async readFile(path: string, options: { offset?: number; maxBytes?: number } = {}): Promise<Buffer> {
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('NOT_FOUND', `${path} does not exist`);
      throw err;
    }
    try {
      const size = (await handle.stat()).size;
      const start = Math.min(options.offset ?? 0, size);
      const length = Math.min(size - start, options.maxBytes ?? size);
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, start);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  stream(command: string): Promise<HostCommandStream> {
    return streamLocally(command);
  }

  dispose(): void {
    this.local?.dispose();
    this.local = undefined;
    this.negotiated = undefined;
  }
}
