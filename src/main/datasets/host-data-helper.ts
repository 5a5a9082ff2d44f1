import path from 'node:path';
import { parseJsonExact } from '../../shared/datasets/exact-json';
import { AppError, errorCodeSchema } from '../../shared/errors';
import { shellQuote } from '../../shared/shell-quote';
import { HostPackageUploader } from '../host-package/host-package-upload';
import type { HostSession } from '../hosts/host-exec-types';

/**
 * Runs the host package's `data` subcommand (resources/host/ptw_host/datasets/, Python 3 standard library only) on
 * the host, next to a run: the package (one zipapp) is copied to `<runDir>/inspect/ptw-host.pyz` (outside the
 * workspace, so the agent never sees it or its line indexes) the first time this process needs it for that run, and
 * each call is one exec that prints one JSON object.
 */

/** How the helper is named in messages: the subcommand of the host package. */
export const HELPER_NAME = 'ptw-host.pyz data';

export function inspectDir(runDir: string): string {
  return path.posix.join(runDir, 'inspect');
}

export class HostDataHelper {
  private readonly packages: HostPackageUploader;

  constructor(resourcesDir: () => string) {
    this.packages = new HostPackageUploader(resourcesDir);
  }

  /** The command line that runs the helper with `args` (uploaded first), for a caller that streams its output. */
  async command(session: HostSession, target: { key: string; runDir: string }, args: string[]): Promise<string> {
    const pyz = await this.packages.ensure(session, target.key, inspectDir(target.runDir));
    // -S: no site-packages (the helper is standard library only), a faster start on hosts with many of them.
    return ['python3', '-S', pyz, 'data', ...args].map(shellQuote).join(' ');
  }

  /**
   * Runs one helper command and returns its JSON. Errors the helper reports (`{"error": {code, message}}`) become
   * AppErrors with its code; anything else that goes wrong names the command and the host's stderr.
   */
  async run<T>(
    session: HostSession,
    target: { key: string; runDir: string },
    args: string[],
    timeoutMs = 10 * 60_000,
  ): Promise<T> {
    const command = await this.command(session, target, args);
    const result = await session.exec(command, { timeoutMs });
    let parsed: unknown;
    try {
      // A page's rows (a JSON array file) keep 64-bit integers and 1e400 / NaN as the file wrote them; the other
      // answers are the helper's own numbers (sizes, nanosecond mtimes compared as JSON.parse reads them).
      parsed =
        args[0] === 'page'
          ? parseJsonExact(result.stdout, Number.MAX_SAFE_INTEGER)
          : (JSON.parse(result.stdout) as unknown);
    } catch {
      if (result.code === 127 || /python3: (command )?not found/.test(result.stderr)) {
        throw new AppError('HOST_REQUIREMENT_MISSING', 'The host has no python3, which the dataset inspector needs.');
      }
      throw new AppError(
        'INTERNAL',
        `${HELPER_NAME} ${args[0]} failed on the host (exit ${result.code ?? result.signal}): ${result.stderr.trim().slice(-2000) || result.stdout.slice(0, 500)}`,
      );
    }
    const error = (parsed as { error?: { code?: unknown; message?: unknown } }).error;
    if (error && typeof error === 'object') {
      const code = errorCodeSchema.safeParse(error.code);
      throw new AppError(code.success ? code.data : 'INTERNAL', String(error.message));
    }
    return parsed as T;
  }
}
