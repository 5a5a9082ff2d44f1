import { open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

/**
 * Reads an append-only local record (the mirror's gpu.csv, events.jsonl) incrementally: each call returns the
 * complete lines added since the last one. The mirror only appends, except that a sync which died mid-write is cut
 * back to its last good length next time: a file shorter than what was read starts the reader over (`reset`).
 */
export class RecordTail {
  private offset = 0;
  private decoder = new StringDecoder('utf8');
  private pending = '';
  /** Lines returned so far (for line numbers in problems). */
  linesRead = 0;

  constructor(readonly file: string) {}

  /** New complete lines (without their newlines); `reset` when the file shrank and reading started over. */
  async readNew(): Promise<{ lines: string[]; reset: boolean; firstLine: number }> {
    let size: number;
    try {
      size = (await stat(this.file)).size;
    } catch {
      return { lines: [], reset: false, firstLine: this.linesRead + 1 };
    }
    let reset = false;
    if (size < this.offset) {
      this.offset = 0;
      this.pending = '';
      this.linesRead = 0;
      this.decoder = new StringDecoder('utf8');
      reset = true;
    }
    const firstLine = this.linesRead + 1;
    if (size === this.offset) return { lines: [], reset, firstLine };
    const handle = await open(this.file, 'r');
    try {
      const buffer = Buffer.alloc(size - this.offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
      this.offset += bytesRead;
      const text = this.pending + this.decoder.write(buffer.subarray(0, bytesRead));
      const lines = text.split('\n');
      this.pending = lines.pop() ?? '';
      this.linesRead += lines.length;
      return { lines, reset, firstLine };
    } finally {
      await handle.close();
    }
  }
}
