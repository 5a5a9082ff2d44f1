import type Dockerode from 'dockerode';

/** What preflight (and later the run services) need from a connected host. */
export interface HostSession {
  /** Runs a command on the host (a login shell is not implied); never throws for a non-zero exit. */
  exec(command: string, options?: { timeoutMs?: number }): Promise<ExecResult>;
  /** dockerode for the host's Docker, API version already negotiated. Throws an AppError with DOCKER_UNAVAILABLE. */
  docker(): Promise<Dockerode>;
  /** Round-trip time of a no-op over the connection, in ms. */
  ping(): Promise<number>;
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal?: string | undefined;
  readonly stdout: string;
  readonly stderr: string;
}
