import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import { locateResourcesDir } from '../catalog/rehearsal-resources';
import { HOST_PACKAGE_DIR } from './host-package';

/**
 * The source of a self-contained module of the host package (standard library only, no import from the package, a
 * `__main__` guard), to run as `python3 -c SOURCE ARGS…`. For the few host commands that must work where no
 * `ptw-host.pyz` has been uploaded: listing a host's run folders, and a run folder an older app launched. The same
 * module is a subcommand of the zipapp (`ptw-host.pyz discover`, `manifest`) and is tested in test/host.
 */
export type StandaloneHostModule = 'discovery' | 'manifest';

const cache = new Map<string, string>();

export function hostModuleProgram(module: StandaloneHostModule, resourcesDir?: string): string {
  const file = path.join(resourcesDir ?? locateResourcesDir(), 'host', HOST_PACKAGE_DIR, `${module}.py`);
  let source = cache.get(file);
  if (source === undefined) {
    try {
      source = readFileSync(file, 'utf8');
    } catch (err) {
      throw new AppError('NOT_FOUND', `The app's host package is missing ${file}: ${(err as Error).message}`);
    }
    cache.set(file, source);
  }
  return source;
}
