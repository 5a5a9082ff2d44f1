import { open } from 'node:fs/promises';
import { shellQuote } from '../../shared/shell-quote';

/** Reading a run's terminal.cast for a live stream: on the host as it grows, or the local copy's header. */

/**
 * Follows the cast from a byte offset until stdin closes (the app closed the channel or the connection dropped):
 * `tail` goes in the background so that EOF on stdin (`cat` returns) stops it too, whatever the shell does with a
 * closed channel. `-F` waits for a cast that does not exist yet.
 */
export function followCastScript(castPath: string, fromOffset: number): string {
  return `tail -c +${fromOffset + 1} -F -- ${shellQuote(castPath)} 2>/dev/null & t=$!; cat >/dev/null; kill $t 2>/dev/null; wait`;
}

/** A problem in the cast, as a line in the viewer's terminal. */
export function noticeLine(problem: string): string {
  // The problem quotes the damaged line: its control characters must not drive the viewer's terminal.
  const plain = [...problem].map((c) => (c < ' ' || c === '\x7f' ? ' ' : c)).join('');
  return `\r\n\x1b[33m[ptw] ${plain}\x1b[0m\r\n`;
}

/** The first line of a local file (a cast's header); empty when there is none. */
export async function firstLine(file: string): Promise<string> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return '';
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').split('\n')[0] ?? '';
  } finally {
    await handle.close();
  }
}
