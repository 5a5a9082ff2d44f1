import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleDownloadPath, type BundleExportResult, type BundleImportResult } from '../../shared/contract-bundle';
import { AppError } from '../../shared/errors';
import type { NamedSecret } from '../../shared/redact';
import { locateResourcesDir } from '../catalog/rehearsal-resources';
import type { SecretStore } from '../secrets/secret-store';
import type { DownloadTickets } from './download-tickets';
import { defaultBundlePath, exportRunBundle, importRunBundle, readBundleManifest } from './run-bundle';
import { RunMirror } from './run-mirror';
import type { RunService } from './run-service';

/** The example run the app ships (`resources/examples/`), recorded by `scripts/record-example.mjs`. */
export const EXAMPLE_BUNDLE = path.join('examples', 'example-rehearsal.ptwrun.tar.gz');

export interface BundleServiceOptions {
  home: string;
  runs: Pick<RunService, 'runsDir' | 'redactionSecrets'>;
  /** For the grader keys a run's evaluator was given (run.json `launch.evaluationSecretNames`). */
  secrets: Pick<SecretStore, 'get'>;
  appVersion: string;
  resourcesDir?: string;
  /** Told after an import, so the run list updates everywhere. */
  onImported?: () => void;
  /** `ptw serve`'s one-time download tickets (bundle.downloadTicket). */
  downloads?: DownloadTickets;
}

/** `~/x` as a shell would read it (paths typed into the app's fields); anything else as given. */
export function expandHome(file: string): string {
  if (file === '~') return os.homedir();
  return file.startsWith('~/') ? path.join(os.homedir(), file.slice(2)) : file;
}

/** Export and import of run bundles for the contract and the CLI (the format is in run-bundle.ts). */
export class BundleService {
  constructor(private readonly options: BundleServiceOptions) {}

  async export(id: string, file?: string): Promise<BundleExportResult> {
    const mirror = new RunMirror(this.options.runs.runsDir, id);
    if (!(await mirror.exists())) throw new AppError('NOT_FOUND', `No run ${id} here (ptw run ls lists runs).`);
    const runJson = await mirror.readRunJson();
    // Every key the run's records could hold: the agent's, and the grader keys its evaluation was given.
    const secrets: NamedSecret[] = [...(await this.options.runs.redactionSecrets(runJson?.spec.agent.id))];
    for (const name of runJson?.launch?.evaluationSecretNames ?? []) {
      const found = await this.options.secrets.get(name).catch(() => undefined);
      if (found) secrets.push({ name, value: found.value });
    }
    return exportRunBundle({
      runsDir: this.options.runs.runsDir,
      id,
      file: file ? expandHome(file) : await defaultBundlePath(this.options.home, id),
      secrets,
      appVersion: this.options.appVersion,
    });
  }

  async import(file: string): Promise<BundleImportResult> {
    const result = await importRunBundle({ runsDir: this.options.runs.runsDir, file: expandHome(file) });
    this.options.onImported?.();
    return result;
  }

  /** The shipped example; a second call finds it already imported and leaves it as it is. */
  async importExample(): Promise<BundleImportResult> {
    const file = path.join(this.options.resourcesDir ?? locateResourcesDir(), EXAMPLE_BUNDLE);
    if (!existsSync(file)) {
      throw new AppError('NOT_FOUND', `The example run ${file} is missing; the installation is incomplete.`);
    }
    const manifest = await readBundleManifest(file);
    const localDir = path.join(this.options.runs.runsDir, manifest.runId);
    if (existsSync(localDir)) return { id: manifest.runId, localDir, files: manifest.files.length, alreadyThere: true };
    const result = await importRunBundle({
      runsDir: this.options.runs.runsDir,
      file,
      sourceLabel: 'the example run shipped with the app',
    });
    this.options.onImported?.();
    return result;
  }

  async downloadTicket(id: string): Promise<{ path: string }> {
    const downloads = this.options.downloads;
    if (!downloads)
      throw new AppError('CONFLICT', 'Bundle downloads are offered by ptw serve only; export to a file instead.');
    if (!(await new RunMirror(this.options.runs.runsDir, id).exists())) {
      throw new AppError('NOT_FOUND', `No run ${id} here (ptw run ls lists runs).`);
    }
    return { path: bundleDownloadPath(id, downloads.issue(id)) };
  }
}
