import type Dockerode from 'dockerode';

/** What preflight (and later the run services) need from a connected host. */
export interface HostSession {
  /** Runs a command on the host (a login shell is not implied); never throws for a non-zero exit. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** dockerode for the host's Docker, API version already negotiated. Throws an AppError with DOCKER_UNAVAILABLE. */
  docker(): Promise<Dockerode>;
  /** Round-trip time of a no-op over the connection, in ms. */
  ping(): Promise<number>;
  /** Writes a whole file on the host (absolute path; `~` is not expanded). */
  writeFile(path: string, data: Buffer | string, options?: { mode?: number }): Promise<void>;
  /**
   * Reads a file on the host from `offset` (default 0), at most `maxBytes` (default all): the way run records are
   * tailed, so a dropped connection resumes at the last byte with nothing lost or repeated. NOT_FOUND when absent.
   */
  readFile(path: string, options?: { offset?: number; maxBytes?: number }): Promise<Buffer>;
  /**
   * Starts a long-running command whose output is read as a stream with backpressure (`stdout.pause()` stops
   * reading; over SSH the channel's window then stops the command). Used to follow a run's terminal live.
   */
  stream?(command: string): Promise<HostCommandStream>;
}

/** A command running on the host, read as a stream. */
export interface HostCommandStream {
  readonly stdout: import('node:stream').Readable;
  readonly stderr: import('node:stream').Readable;
  /** Settles when the command has ended or its channel closed (`code` null when it ended without a status). */
  readonly exited: Promise<{ code: number | null; signal?: string }>;
  /** Ends the command: closes its stdin, signals it and closes the channel. Idempotent. */
  close(): void;
}

export interface ExecOptions {
  timeoutMs?: number;
  /**
   * Written to the command's stdin, which is then closed. The way a secret reaches a host process: never on its
   * command line (world-readable in /proc) and never in a file.
   */
  stdin?: string;
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal?: string | undefined;
  readonly stdout: string;
  readonly stderr: string;
}
