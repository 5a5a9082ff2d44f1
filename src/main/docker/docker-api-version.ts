import type Dockerode from 'dockerode';

/**
 * Newest Docker Engine API we speak. Newer daemons serve older API versions unchanged, and
 * Docker 29 refuses anything below 1.44, so this must stay at or above that.
 */
export const MAX_DOCKER_API_VERSION = '1.47';

/** Oldest Docker Engine API we speak: Docker 20.10, the oldest daemon the integration tests run. */
export const MIN_DOCKER_API_VERSION = '1.41';

/** The daemon's API range and ours do not overlap; the user must upgrade Docker (or the app). */
export class DockerApiVersionError extends Error {
  readonly code = 'DOCKER_UNSUPPORTED';

  constructor(message: string) {
    super(message);
    this.name = 'DockerApiVersionError';
  }
}

/** Compares dotted API versions numerically (`1.9` < `1.41`); negative when a < b. */
export function compareApiVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * Picks the API version both sides speak: min(daemon's ApiVersion, ours), checked against both
 * minimums. Pure, so the choice is testable without a daemon.
 */
export function chooseApiVersion(
  server: { ApiVersion: string; MinAPIVersion?: string | undefined },
  ours: { min: string; max: string } = { min: MIN_DOCKER_API_VERSION, max: MAX_DOCKER_API_VERSION },
): string {
  const chosen = compareApiVersions(server.ApiVersion, ours.max) < 0 ? server.ApiVersion : ours.max;
  if (compareApiVersions(chosen, ours.min) < 0) {
    throw new DockerApiVersionError(
      `Docker on the host speaks API ${server.ApiVersion}; PostTrain Workbench needs ${ours.min} or newer (Docker 20.10+). Upgrade Docker on the host.`,
    );
  }
  if (server.MinAPIVersion && compareApiVersions(chosen, server.MinAPIVersion) < 0) {
    throw new DockerApiVersionError(
      `Docker on the host needs API ${server.MinAPIVersion} or newer; PostTrain Workbench speaks up to ${ours.max}. Update PostTrain Workbench.`,
    );
  }
  return chosen;
}

/** docker-modem prefixes every path with `/${version}`; its typings omit the field. */
type VersionedModem = { version?: string | undefined };

/**
 * Asks the daemon for its API range (GET /version, unversioned so any daemon answers) and pins
 * dockerode to the chosen version, so requests keep one meaning whatever Docker the host runs.
 * Returns the chosen version without the `v`, e.g. `1.41`.
 */
export async function negotiateApiVersion(docker: Dockerode, ours?: { min: string; max: string }): Promise<string> {
  const modem = docker.modem as unknown as VersionedModem;
  const previous = modem.version;
  modem.version = undefined;
  try {
    const info = await docker.version();
    const chosen = chooseApiVersion(info, ours);
    modem.version = `v${chosen}`;
    return chosen;
  } catch (err) {
    modem.version = previous;
    throw err;
  }
}
