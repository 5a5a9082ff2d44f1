import http from 'node:http';
import Dockerode from 'dockerode';
import { DEFAULT_DOCKER_SOCKET_PATH } from './ssh-docker-agent';

export interface LocalDocker {
  docker: Dockerode;
  agent: http.Agent;
  /** Closes the sockets this dockerode opened. */
  dispose(): void;
}

type DockerOptionsWithAgent = Dockerode.DockerOptions & { agent: http.Agent };

/**
 * A dockerode on a local unix socket, with its own agent: the default global agent keeps sockets
 * alive across the whole process, so nothing could close them.
 */
export function createLocalDocker(opts: { socketPath?: string; version?: string } = {}): LocalDocker {
  const agent = new http.Agent();
  const options: DockerOptionsWithAgent = {
    socketPath: opts.socketPath ?? DEFAULT_DOCKER_SOCKET_PATH,
    agent,
    ...(opts.version === undefined ? {} : { version: opts.version }),
  };
  const docker = new Dockerode(options);
  return { docker, agent, dispose: () => agent.destroy() };
}
