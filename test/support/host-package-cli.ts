import path from 'node:path';

/**
 * The host package (resources/host/ptw_host/) run from its sources, the way the tests run its subcommands with a
 * python3 of this machine: `python3 -m ptw_host <subcommand> …` with the package's folder on PYTHONPATH. The app ships
 * the same files as one zipapp (src/main/host-package/); test/unit/main/host-package/ checks that the zipapp runs.
 */
export const HOST_PACKAGE_ROOT = path.resolve(__dirname, '..', '..', 'resources', 'host');

/** python3's arguments for one subcommand of the host package. */
export function hostPackageArgv(subcommand: string, args: readonly string[] = []): string[] {
  return ['-m', 'ptw_host', subcommand, ...args];
}

/** The environment that finds the package: `base` with PYTHONPATH set to the package's folder. */
export function hostPackageEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, PYTHONPATH: HOST_PACKAGE_ROOT };
}
