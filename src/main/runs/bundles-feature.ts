import type { bundleCommands } from '../../shared/contract-bundle';
import type { FeatureRegistration } from '../rpc/feature-registration';
import type { SecretStore } from '../secrets/secret-store';
import { BundleService } from './bundle-service';
import type { DownloadTickets } from './download-tickets';
import { cleanStaleImports } from './run-bundle';
import type { RunService } from './run-service';

/**
 * `bundle.*`: a run exported and imported as one file, the shipped example, `ptw serve`'s download tickets. The
 * desktop app's very first start (no PTW_HOME yet) opens on the example run, so every view has something in it.
 */
export function bundlesFeature(deps: {
  home: string;
  runs: Pick<RunService, 'runsDir' | 'redactionSecrets'>;
  secrets: Pick<SecretStore, 'get'>;
  appVersion: string;
  downloads: DownloadTickets;
  resourcesDir?: string | undefined;
  /** After an import added a run (the run list changed). */
  onImported(): void;
  importExample: boolean;
}): FeatureRegistration<keyof typeof bundleCommands> {
  // A bundle import killed mid-way left its staging folder under runs/: removed now (one still running is kept).
  void cleanStaleImports(deps.runs.runsDir).catch(() => undefined);
  const bundles = new BundleService({
    home: deps.home,
    runs: deps.runs,
    secrets: deps.secrets,
    appVersion: deps.appVersion,
    downloads: deps.downloads,
    ...(deps.resourcesDir ? { resourcesDir: deps.resourcesDir } : {}),
    onImported: deps.onImported,
  });
  if (deps.importExample) void bundles.importExample().catch(() => undefined);
  return {
    handlers: {
      'bundle.export': ({ id, file }) => bundles.export(id, file),
      'bundle.import': ({ file }) => bundles.import(file),
      'bundle.importExample': () => bundles.importExample(),
      'bundle.downloadTicket': ({ id }) => bundles.downloadTicket(id),
    },
  };
}
