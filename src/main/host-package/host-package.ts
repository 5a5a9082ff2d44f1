import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { AppError } from '../../shared/errors';
import { shellQuote } from '../../shared/shell-quote';

/**
 * The host side is one Python package, `resources/host/ptw_host/` (standard library only), shipped to a host as one
 * file: a zipapp, `python3 ptw-host.pyz <subcommand> …` (issue 12). It is built here, in memory, from the package's
 * folder: no build step, so the app, `ptw` and the tests all ship exactly the sources they were started with. The
 * build is deterministic (sorted names, a fixed timestamp), and its content hash is written into the archive
 * (`ptw_host/BUILD`, printed by `ptw-host.pyz version`) so a host copy can be compared with this one.
 */

export const HOST_PACKAGE_FILE = 'ptw-host.pyz';
export const HOST_PACKAGE_DIR = 'ptw_host';

export interface HostPackage {
  /** The zipapp's bytes: a `#!/usr/bin/env python3` line, then the zip. */
  readonly bytes: Buffer;
  /** sha256 of the package's sources (names and contents), hex: the same sources give the same hash. */
  readonly hash: string;
}

// Zip's DOS timestamps start in 1980; a fixed one keeps the archive's bytes a function of the sources alone.
const FIXED_MTIME = new Date('1980-01-01T00:00:00Z');
const SHEBANG = Buffer.from('#!/usr/bin/env python3\n');

const cache = new Map<string, Promise<HostPackage>>();

/** The zipapp built from `<resourcesDir>/host/ptw_host/` (once per folder and process). */
export function loadHostPackage(resourcesDir: string): Promise<HostPackage> {
  const dir = path.join(resourcesDir, 'host', HOST_PACKAGE_DIR);
  let built = cache.get(dir);
  if (!built) {
    built = buildHostPackage(dir);
    cache.set(dir, built);
    built.catch(() => cache.delete(dir));
  }
  return built;
}

async function packageFiles(dir: string, rel = ''): Promise<Array<{ name: string; data: Buffer }>> {
  let entries;
  try {
    entries = await readdir(path.join(dir, rel), { withFileTypes: true });
  } catch (err) {
    throw new AppError('NOT_FOUND', `The app's host package is missing (${path.join(dir, rel)}): ${String(err)}`);
  }
  const out: Array<{ name: string; data: Buffer }> = [];
  for (const e of entries) {
    if (e.name === '__pycache__' || e.name.endsWith('.pyc') || e.name.startsWith('.')) continue;
    const name = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await packageFiles(dir, name)));
    else if (e.isFile()) out.push({ name, data: await readFile(path.join(dir, name)) });
  }
  return out;
}

/** Builds the zipapp from a package folder (exported for the tests; the app uses loadHostPackage). */
export async function buildHostPackage(dir: string): Promise<HostPackage> {
  const files = (await packageFiles(dir)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (!files.some((f) => f.name === '__main__.py')) {
    throw new AppError('NOT_FOUND', `The app's host package has no __main__.py (${dir})`);
  }
  const hash = createHash('sha256');
  for (const f of files) {
    hash.update(`${f.name}\0${f.data.length}\0`);
    hash.update(f.data);
  }
  const digest = hash.digest('hex');
  const tree: Zippable = {};
  for (const f of files) tree[`${HOST_PACKAGE_DIR}/${f.name}`] = [f.data, { mtime: FIXED_MTIME }];
  tree[`${HOST_PACKAGE_DIR}/BUILD`] = [Buffer.from(`${digest}\n`), { mtime: FIXED_MTIME }];
  // The archive's own entry point runs the package's, so `python3 ptw-host.pyz …` and `python3 -m ptw_host …` agree.
  tree['__main__.py'] = [
    Buffer.from('import runpy\nrunpy.run_module("ptw_host", run_name="__main__", alter_sys=True)\n'),
    { mtime: FIXED_MTIME },
  ];
  const zip = zipSync(tree, { level: 6 });
  return { bytes: Buffer.concat([SHEBANG, Buffer.from(zip)]), hash: digest };
}

/** A shell command line that runs one subcommand of an uploaded zipapp (every argument quoted). */
export function hostPackageCommand(pyzPath: string, subcommand: string, args: readonly string[] = []): string {
  return ['python3', pyzPath, subcommand, ...args].map(shellQuote).join(' ');
}
