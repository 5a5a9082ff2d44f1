import type http from 'node:http';
import Dockerode from 'dockerode';
import type { Client } from 'ssh2';
import { DEFAULT_DOCKER_SOCKET_PATH, SshDockerAgent } from './ssh-docker-agent';

export interface DockerOverSshOptions {
  /** Docker API socket on the host; defaults to /var/run/docker.sock. */
  socketPath?: string;
  /** Pin an API version up front (e.g. `v1.41`); usually left unset and set by `negotiateApiVersion`. */
  version?: string;
  /** Passed to docker-modem: per-request idle timeout in ms. */
  timeout?: number;
}

export interface DockerOverSsh {
  docker: Dockerode;
  agent: SshDockerAgent;
  /** Closes every SSH channel this dockerode opened; the SSH connection itself stays up (it is the caller's). */
  dispose(): Promise<void>;
}

/** docker-modem accepts `agent`, but @types/dockerode's DockerOptions leaves it out. */
type DockerOptionsWithAgent = Dockerode.DockerOptions & { agent: http.Agent };

/**
 * A dockerode that reaches the host's Docker socket through an existing SSH connection
 * (stream-local forwarding; nothing to install on the host, no TCP port opened).
 */
export function createDockerOverSsh(client: Client, opts: DockerOverSshOptions = {}): DockerOverSsh {
  const agent = new SshDockerAgent(client, { socketPath: opts.socketPath ?? DEFAULT_DOCKER_SOCKET_PATH });
  const options: DockerOptionsWithAgent = {
    // host/port only name the agent's pool and the Host header; the agent ignores them.
    protocol: 'http',
    host: 'docker',
    port: 80,
    agent,
    ...(opts.version === undefined ? {} : { version: opts.version }),
    ...(opts.timeout === undefined ? {} : { timeout: opts.timeout }),
  };
  const docker = new Dockerode(options);
  return { docker, agent, dispose: () => agent.dispose() };
}
