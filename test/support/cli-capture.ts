import type { CliIo } from '../../src/main/cli/ptw-cli';

/** A CliIo that keeps what the in-process CLI printed, for assertions. */
export function capture(): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
  };
  return io;
}
