import type Dockerode from 'dockerode';

/** What preflight (and later the run services) need from a connected host. */
export interface HostSession {
  /** Runs a command on the host (a login shell is not implied); never throws for a non-zero exit. */
  exec(command: string, options?: { timeoutMs?: number }): Promise<ExecResult>;
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
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal?: string | undefined;
  readonly stdout: string;
  readonly stderr: string;
}
