import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import { shellQuote } from '../../shared/shell-quote';
import type { HostSession } from '../hosts/host-exec-types';
import { HOST_PACKAGE_FILE, loadHostPackage } from './host-package';

/**
 * Puts the host package (the one zipapp, host-package.ts) in a folder on a host before a feature runs one of its
 * subcommands there: the checkpoint inspector, the dataset inspector, the integrity checks, the caches step of host
 * set-up. Uploaded once per process per host and folder (a newer app that starts again uploads its own), in one exec:
 * the folder, then the archive from stdin (base64, since stdin is text), replaced whole so a reader never sees half.
 */
export class HostPackageUploader {
  readonly #uploaded = new Map<string, Promise<string>>();

  constructor(private readonly resourcesDir: () => string) {}

  /** The zipapp's path in `dir` on the host that `hostKey` names (a host id), uploaded the first time this process needs it. */
  ensure(session: Pick<HostSession, 'exec'>, hostKey: string, dir: string): Promise<string> {
    const key = `${hostKey}\0${dir}`;
    let done = this.#uploaded.get(key);
    if (!done) {
      done = this.#upload(session, dir);
      this.#uploaded.set(key, done);
      done.catch(() => this.#uploaded.delete(key));
    }
    return done;
  }

  async #upload(session: Pick<HostSession, 'exec'>, dir: string): Promise<string> {
    const pkg = await loadHostPackage(this.resourcesDir());
    const file = path.posix.join(dir, HOST_PACKAGE_FILE);
    const tmp = `${file}.${pkg.hash.slice(0, 12)}.tmp`;
    const q = shellQuote;
    const made = await session.exec(
      `mkdir -p ${q(dir)} && base64 -d > ${q(tmp)} && chmod 644 ${q(tmp)} && mv -f ${q(tmp)} ${q(file)}`,
      { timeoutMs: 60_000, stdin: pkg.bytes.toString('base64') },
    );
    if (made.code !== 0) {
      throw new AppError(
        'RUN_ROOT_NOT_WRITABLE',
        `Could not write ${file} on the host: ${made.stderr.trim() || made.stdout.trim()}`,
      );
    }
    return file;
  }
}

/**
 * The zipapp as a file on this machine, for a subcommand run here (the integrity checks of an imported run): one file
 * per package hash in `dir` (the app's own folder, not a shared temp folder), written once and reused.
 */
export async function localHostPackage(resourcesDir: string, dir: string): Promise<string> {
  const pkg = await loadHostPackage(resourcesDir);
  const file = path.join(dir, `ptw-host-${pkg.hash.slice(0, 16)}.pyz`);
  const existing = await stat(file).catch(() => null);
  if (existing?.size === pkg.bytes.length) return file;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, pkg.bytes, { mode: 0o644 });
  await rename(tmp, file);
  return file;
}
