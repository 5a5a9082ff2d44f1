import { open } from 'node:fs/promises';

/**
 * Splits a byte range of a file into lines without ever holding more than one chunk and one line: a cast can be
 * gigabytes (far past the ~512 MiB a JS string can hold). Lines are decoded one at a time; a trailing `\r` is
 * dropped (CRLF files). A line longer than `maxLineBytes` is not kept: it is reported and skipped.
 */

export interface LineScanOptions {
  /** Byte offset to start at (must be a line start); default 0. */
  start?: number;
  /** Byte offset to stop at (exclusive); default the file's size when opened. */
  end?: number;
  /** Line number of the line at `start` (1-based); default 1. */
  firstLine?: number;
  chunkBytes?: number;
  maxLineBytes?: number;
}

export interface LineSink {
  /** One line, its 1-based number, the byte offset of its start and its length in bytes (without the newline). */
  line(text: string, lineNo: number, offset: number, bytes: number): void;
  /** A line over the limit, skipped. */
  tooLong?(lineNo: number, offset: number, bytes: number): void;
  /** After each chunk: a place to report progress and to let the event loop breathe. */
  chunk?(bytesDone: number): void | Promise<void>;
  /** Stop early (checked after each chunk). */
  stop?(): boolean;
}

const DEFAULT_CHUNK = 1024 * 1024;
export const MAX_CAST_LINE_BYTES = 64 * 1024 * 1024;

export async function scanLines(file: string, sink: LineSink, options: LineScanOptions = {}): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const start = options.start ?? 0;
    const end = Math.min(options.end ?? size, size);
    const maxLine = options.maxLineBytes ?? MAX_CAST_LINE_BYTES;
    const buffer = Buffer.allocUnsafe(options.chunkBytes ?? DEFAULT_CHUNK);
    let lineNo = options.firstLine ?? 1;
    let position = start;
    /** Pieces of a line that started in an earlier chunk. */
    let carry: Buffer[] = [];
    let carryBytes = 0;
    let lineStart = start;
    let skipping = false;

    const emit = (bytes: Buffer) => {
      let length = bytes.length;
      if (length > 0 && bytes[length - 1] === 0x0d) length--;
      sink.line(bytes.toString('utf8', 0, length), lineNo, lineStart, length);
    };

    while (position < end) {
      const want = Math.min(buffer.length, end - position);
      const { bytesRead } = await handle.read(buffer, 0, want, position);
      if (bytesRead === 0) break;
      let from = 0;
      while (from < bytesRead) {
        const nl = buffer.indexOf(0x0a, from);
        const stop = nl < 0 || nl >= bytesRead ? bytesRead : nl;
        if (!skipping) {
          if (carryBytes + (stop - from) > maxLine) {
            skipping = true;
            carry = [];
          } else if (nl < 0 || nl >= bytesRead) {
            carry.push(Buffer.from(buffer.subarray(from, stop)));
          } else if (carry.length === 0) {
            emit(buffer.subarray(from, stop));
          } else {
            carry.push(buffer.subarray(from, stop));
            emit(Buffer.concat(carry));
            carry = [];
          }
        }
        carryBytes += stop - from;
        if (nl < 0 || nl >= bytesRead) break;
        if (skipping) sink.tooLong?.(lineNo, lineStart, carryBytes);
        skipping = false;
        carry = [];
        carryBytes = 0;
        lineNo++;
        lineStart = position + nl + 1;
        from = nl + 1;
      }
      position += bytesRead;
      await sink.chunk?.(position - start);
      if (sink.stop?.()) return position;
    }
    // The last line may have no newline.
    if (skipping) sink.tooLong?.(lineNo, lineStart, carryBytes);
    else if (carryBytes > 0) emit(Buffer.concat(carry));
    return position;
  } finally {
    await handle.close();
  }
}
