import type { Client, ClientChannel } from 'ssh2';
import { AppError } from '../../shared/errors';
import type { ExecResult } from './host-exec-types';

export interface ExecOverSshOptions {
  readonly timeoutMs: number;
  /** stdout and stderr together; beyond this the command is stopped (a runaway `cat` must not fill memory). */
  readonly maxOutputBytes: number;
  /** How messages name the host (`root@gpu-1:22`). */
  readonly who: string;
  /** Written to the command's stdin, which is then closed (default: stdin stays open and empty). */
  readonly stdin?: string;
}

function shorten(command: string): string {
  const line = command.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}

/**
 * Runs one command on an exec channel of an existing connection and collects its output. Resolves
 * for any exit status (or signal); rejects on timeout (TIMEOUT), on too much output, and when the
 * connection goes away before the command reported how it ended (HOST_UNREACHABLE).
 */
export function execOverSsh(client: Client, command: string, options: ExecOverSshOptions): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    let channel: ClientChannel | undefined;
    let settled = false;
    const settle = (action: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      action();
    };
    const stop = (): void => {
      if (!channel) return;
      try {
        // OpenSSH 7.9+ delivers the signal; older servers ignore it and closing the channel hangs up on the command.
        channel.signal('KILL');
      } catch {
        // The channel is already gone.
      }
      channel.close();
    };
    const timer = setTimeout(
      () =>
        settle(() => {
          stop();
          reject(
            new AppError(
              'TIMEOUT',
              `\`${shorten(command)}\` did not finish within ${options.timeoutMs / 1000} s on ${options.who}`,
              { retryable: true },
            ),
          );
        }),
      options.timeoutMs,
    );
    const lost = (err: unknown): AppError =>
      new AppError(
        'HOST_UNREACHABLE',
        `Could not run \`${shorten(command)}\` on ${options.who}: ${err instanceof Error ? err.message : String(err)}`,
        { retryable: true, cause: err },
      );

    try {
      client.exec(command, (err, ch) => {
        if (err) return settle(() => reject(lost(err)));
        channel = ch;
        if (settled) return stop();
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let bytes = 0;
        let exit: { code: number | null; signal?: string } | undefined;
        const collect =
          (into: Buffer[]) =>
          (chunk: Buffer): void => {
            bytes += chunk.length;
            if (bytes > options.maxOutputBytes) {
              settle(() => {
                stop();
                reject(
                  new AppError(
                    'INTERNAL',
                    `\`${shorten(command)}\` on ${options.who} wrote more than ${options.maxOutputBytes} bytes; stopped it`,
                  ),
                );
              });
              return;
            }
            into.push(chunk);
          };
        ch.on('data', collect(stdout));
        ch.stderr.on('data', collect(stderr));
        // ssh2 names signals as Node does (`SIGKILL`).
        ch.on('exit', (code: number | null, signal?: string) => {
          exit = typeof code === 'number' ? { code } : { code: null, ...(signal ? { signal } : {}) };
        });
        ch.on('error', (e: Error) => settle(() => reject(lost(e))));
        if (options.stdin !== undefined) ch.end(options.stdin);
        ch.on('close', () =>
          settle(() => {
            // OpenSSH always reports exit-status or exit-signal before closing an exec channel;
            // without one, the connection itself went away.
            if (!exit) return reject(lost(new Error('the connection closed before the command finished')));
            resolve({
              code: exit.code,
              ...(exit.signal ? { signal: exit.signal } : {}),
              stdout: Buffer.concat(stdout).toString('utf8'),
              stderr: Buffer.concat(stderr).toString('utf8'),
            });
          }),
        );
      });
    } catch (err) {
      // ssh2 throws synchronously ("Not connected") once the socket is gone.
      settle(() => reject(lost(err)));
    }
  });
}
