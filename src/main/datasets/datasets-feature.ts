import { locateResourcesDir } from '../catalog/rehearsal-resources';
import type { datasetsCommands } from '../../shared/contract-datasets';
import type { FeatureRegistration } from '../rpc/feature-registration';
import type { RunHostDeps } from '../runs/run-host-deps';
import { DatasetService, type DatasetRunContext } from './dataset-service';

function createDatasetService(deps: RunHostDeps): DatasetService {
  return new DatasetService({
    async run(id): Promise<DatasetRunContext> {
      // The gate: an imported run never reaches a host (runs/run-host.ts).
      const target = await deps.runs.hostTarget(id);
      const detail = await deps.runs.get(id, { sync: false });
      const spec = (detail.spec ?? {}) as { task?: { kind?: unknown; benchmark?: unknown } };
      const task = spec.task ?? {};
      return {
        host: target.host,
        runDir: target.hostRunDir,
        task: {
          kind: typeof task.kind === 'string' ? task.kind : 'unknown',
          ...(typeof task.benchmark === 'string' ? { benchmark: task.benchmark } : {}),
        },
      };
    },
    session: (host) => deps.session(host),
    async hostDirs(host) {
      const profile = await deps.profile(host);
      return { runRoot: profile.runRoot, ptbCheckout: profile.ptbCheckout };
    },
    resourcesDir: () => deps.resourcesDir ?? locateResourcesDir(),
    onProgress: (event) => deps.events.emit('datasets.progress', event),
    // To one peer: the one that started the search.
    onSearchProgress: (peerId, event) => deps.events.emitTo(peerId, 'datasets.searchProgress', event),
  });
}

/** `datasets.*`: the dataset inspector, its pages, stats, search and overlap computed on the run's host. */
export function datasetsFeature(deps: RunHostDeps): FeatureRegistration<keyof typeof datasetsCommands> {
  const service = createDatasetService(deps);
  return {
    handlers: {
      'datasets.list': ({ id }) => service.list(id),
      'datasets.page': ({ id, path, offset, limit, byteOffset }) => service.page(id, path, offset, limit, byteOffset),
      'datasets.indexStatus': ({ id, path }) => service.indexStatus(id, path),
      'datasets.stats': ({ id, path }) => service.stats(id, path),
      'datasets.search': ({ id, path, query, limit, searchId }, ctx) =>
        service.search(id, path, query, limit, searchId ? { searchId, peerId: ctx.peerId } : undefined),
      'datasets.searchCancel': ({ searchId }) => service.cancelSearch(searchId),
      'datasets.overlap': ({ id, path, benchmark, n }) => service.overlap(id, path, benchmark, n),
    },
  };
}
