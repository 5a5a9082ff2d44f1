import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseJsonExact } from '../../shared/datasets/exact-json';
import { AppError, errorCodeSchema } from '../../shared/errors';
import { shellQuote } from '../../shared/shell-quote';
import type { HostSession } from '../hosts/host-exec-types';

/**
 * Runs `resources/host/ptw-data.py` (Python 3 standard library only) on the host, next to a run: the script is
 * copied to `<runDir>/inspect/ptw-data.py` (outside the workspace, so the agent never sees it or its line indexes)
 * the first time this process needs it for that run, and each call is one exec that prints one JSON object.
 */

export const HELPER_NAME = 'ptw-data.py';

export function inspectDir(runDir: string): string {
  return path.posix.join(runDir, 'inspect');
}

export class HostDataHelper {
  private readonly uploaded = new Map<string, Promise<void>>();
  private source: Promise<Buffer> | undefined;

  constructor(private readonly resourcesDir: () => string) {}

  private script(): Promise<Buffer> {
    this.source ??= readFile(path.join(this.resourcesDir(), 'host', HELPER_NAME)).catch((err: unknown) => {
      this.source = undefined;
      throw new AppError('NOT_FOUND', `The app's ${HELPER_NAME} is missing from resources/host/: ${String(err)}`);
    });
    return this.source;
  }

  /** Puts the helper in the run's inspect/ folder (once per run and process). */
  private ensure(session: HostSession, key: string, runDir: string): Promise<void> {
    let done = this.uploaded.get(key);
    if (!done) {
      done = (async () => {
        const dir = inspectDir(runDir);
        const file = path.posix.join(dir, HELPER_NAME);
        // One exec (the folder, then the script from stdin, replaced whole): the first look at a dataset waits for it.
        const made = await session.exec(
          `mkdir -p ${shellQuote(dir)} && cat > ${shellQuote(`${file}.tmp`)} && chmod 644 ${shellQuote(`${file}.tmp`)} && mv -f ${shellQuote(`${file}.tmp`)} ${shellQuote(file)}`,
          { timeoutMs: 30_000, stdin: (await this.script()).toString('utf8') },
        );
        if (made.code !== 0) {
          throw new AppError('RUN_ROOT_NOT_WRITABLE', `Could not write ${file} on the host: ${made.stderr.trim()}`);
        }
      })();
      this.uploaded.set(key, done);
      done.catch(() => this.uploaded.delete(key));
    }
    return done;
  }

  /** The command line that runs the helper with `args` (uploaded first), for a caller that streams its output. */
  async command(session: HostSession, target: { key: string; runDir: string }, args: string[]): Promise<string> {
    await this.ensure(session, target.key, target.runDir);
    const script = path.posix.join(inspectDir(target.runDir), HELPER_NAME);
    // -S: no site-packages (the helper is standard library only), a faster start on hosts with many of them.
    return ['python3', '-S', shellQuote(script), ...args.map(shellQuote)].join(' ');
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
