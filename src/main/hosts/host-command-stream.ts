import { spawn } from 'node:child_process';
import type { Client } from 'ssh2';
import { AppError } from '../../shared/errors';
import type { HostCommandStream } from './host-exec-types';

/**
 * Long-running host commands read as streams (HostSession.stream): an ssh2 exec channel, or a local child process
 * for `local` hosts. Backpressure is the stream's own: `stdout.pause()` stops reading, and over SSH the channel's
 * window then fills and sshd stops reading the command, which blocks on its next write.
 */

type Exit = { code: number | null; signal?: string };

/** Opens `command` on an exec channel of an existing connection. HOST_UNREACHABLE when the channel cannot open. */
export function streamOverSsh(client: Client, command: string, who: string): Promise<HostCommandStream> {
  return new Promise((resolve, reject) => {
    const fail = (err: unknown): void =>
      reject(
        new AppError(
          'HOST_UNREACHABLE',
          `Could not start a stream on ${who}: ${err instanceof Error ? err.message : String(err)}`,
          { retryable: true, cause: err },
        ),
      );
    try {
      client.exec(command, (err, channel) => {
        if (err) return fail(err);
        let exit: Exit | undefined;
        channel.on('exit', (code: number | null, signal?: string) => {
          exit = typeof code === 'number' ? { code } : { code: null, ...(signal ? { signal } : {}) };
        });
        const exited = new Promise<Exit>((done) => channel.once('close', () => done(exit ?? { code: null })));
        // An error on the channel (the connection dropped) ends it like a close; the caller sees `exited`.
        channel.on('error', () => undefined);
        channel.stderr.on('error', () => undefined);
        let closed = false;
        resolve({
          stdout: channel,
          stderr: channel.stderr,
          exited,
          close() {
            if (closed) return;
            closed = true;
            try {
              // EOF on its stdin: commands written for streaming (see live-host-scripts) stop on it. No signal: it
              // would reach only the login shell and orphan what the shell started.
              channel.end();
            } catch {
              // Already gone.
            }
            channel.close();
          },
        });
      });
    } catch (err) {
      // ssh2 throws synchronously ("Not connected") once the socket is gone.
      fail(err);
    }
  });
}

/** Runs `command` with /bin/sh on this machine (a `local` host). */
export function streamLocally(command: string): Promise<HostCommandStream> {
  // Its own process group, so close() stops everything the shell started.
  const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const exited = new Promise<Exit>((done) => {
    child.once('close', (code, signal) =>
      done(typeof code === 'number' ? { code } : { code: null, ...(signal ? { signal } : {}) }),
    );
    child.once('error', () => done({ code: null }));
  });
  child.stdin.on('error', () => undefined);
  let closed = false;
  return Promise.resolve({
    stdout: child.stdout,
    stderr: child.stderr,
    exited,
    close() {
      if (closed) return;
      closed = true;
      child.stdin.end();
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      // A paused pipe would hold the child's last output (and its close) forever.
      child.stdout.resume();
      child.stderr.resume();
    },
  });
}
