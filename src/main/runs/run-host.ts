import { AppError } from '../../shared/errors';
import { RunMirror, type SyncState } from './run-mirror';

/**
 * The one gate between a run and its host (issue 18): every service that runs anything on a host for a run (sync,
 * control, the live terminal and peek shell, GPU processes, checkpoints, datasets) asks this first. A run imported
 * from a file (a bundle, a PostTrainBench folder) names a host and a folder only as what its file says; acting on
 * them would let a crafted bundle point the app at any folder on any of the user's hosts. So an imported run never
 * reaches a host, and a run whose host profile is gone is refused before any connection.
 */

export interface RunHost {
  id: string;
  /** The host profile's name. */
  host: string;
  /** The run folder on the host, as the launcher or discovery recorded it (never a bundle's word). */
  hostRunDir: string;
}

/** The check on a mirror's sync record; `knownHost` says whether a host profile of that name exists. */
export function requireRunHost(
  id: string,
  sync: SyncState | null | undefined,
  knownHost?: (name: string) => boolean,
): RunHost {
  if (!sync) throw new AppError('NOT_FOUND', `No run ${id} here (ptw run ls lists runs on your hosts).`);
  if (sync.imported) {
    const what = sync.imported.kind === 'bundle' ? 'a run bundle' : 'a PostTrainBench result folder';
    throw new AppError(
      'CONFLICT',
      `Run ${id} was imported from ${what} (${sync.imported.source}): it has no host, so nothing runs on one for it. ` +
        'Its record is all there is; the host and folder its file names are never used.',
    );
  }
  if (!sync.host || !sync.hostRunDir) {
    throw new AppError(
      'NOT_FOUND',
      `Run ${id} has not been synced from its host yet, so its folder there is unknown.`,
      {
        retryable: true,
      },
    );
  }
  if (knownHost && !knownHost(sync.host)) {
    throw new AppError(
      'NOT_FOUND',
      `Run ${id} is on ${sync.host}, which is not one of your hosts any more (ptw host ls); add it back to reach the run.`,
    );
  }
  return { id, host: sync.host, hostRunDir: sync.hostRunDir };
}

/** {@link requireRunHost} on the run's local mirror under `runsDir`. */
export async function runHostOf(
  runsDir: string,
  id: string,
  knownHost?: (name: string) => Promise<boolean>,
): Promise<RunHost> {
  const sync = await new RunMirror(runsDir, id).readSync();
  // The profile list is asked only once the record names a host to look for.
  const known = sync?.host && knownHost ? await knownHost(sync.host) : true;
  return requireRunHost(id, sync, () => known);
}
