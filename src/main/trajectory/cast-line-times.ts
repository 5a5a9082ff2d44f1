import { open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

/**
 * When each line of `agent-stream.jsonl` was printed, from `terminal.cast`: the supervisor writes every terminal
 * line that is a JSON object to agent-stream.jsonl (docs/run-folder.md), so the n-th such line in the cast's output
 * is the stream's n-th line, and its cast event gives the time. The same test as the supervisor's `_emit_line`:
 * trailing `\r` removed, trimmed text starting with `{` and ending with `}`, parsing as a JSON object.
 *
 * The cast is read in chunks from where the last call stopped (a live run's cast only grows), so a long recording is
 * never held whole and a sync that added a little costs a little.
 */
export class CastLineTimes {
  /** Bytes of the cast consumed (complete lines only). */
  private offset = 0;
  private header = true;
  private origin = 0;
  /** Terminal output after the last newline seen. */
  private pending = '';
  private lastT = 0;
  private readonly times: number[] = [];

  constructor(private readonly castFile: string) {}

  /** The times (epoch ms) of the stream's JSON lines so far, 0-based by line; reads what the cast gained. */
  async read(): Promise<readonly number[]> {
    const s = await stat(this.castFile).catch(() => null);
    if (!s?.isFile()) return this.reset();
    if (s.size < this.offset) this.reset();
    if (s.size === this.offset) return this.snapshot();
    const handle = await open(this.castFile, 'r');
    try {
      const decoder = new StringDecoder('utf8');
      const chunk = Buffer.alloc(4 * 1024 * 1024);
      let carry = '';
      let position = this.offset;
      let consumed = this.offset;
      for (;;) {
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        const text = carry + decoder.write(chunk.subarray(0, bytesRead));
        const end = text.lastIndexOf('\n');
        if (end < 0) {
          carry = text;
          continue;
        }
        const complete = text.slice(0, end + 1);
        for (const line of complete.slice(0, -1).split('\n')) this.event(line);
        consumed += Buffer.byteLength(complete, 'utf8');
        carry = text.slice(end + 1);
      }
      // The unfinished last line is read again next time.
      this.offset = consumed;
    } finally {
      await handle.close();
    }
    return this.snapshot();
  }

  private snapshot(): readonly number[] {
    const pending = this.pending;
    // A last line without its newline counts once the stream ends (as the supervisor does).
    return pending !== '' && isJsonObjectLine(pending) ? [...this.times, this.lastT] : this.times;
  }

  private reset(): readonly number[] {
    this.offset = 0;
    this.header = true;
    this.origin = 0;
    this.pending = '';
    this.lastT = 0;
    this.times.length = 0;
    return this.times;
  }

  private event(line: string): void {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // A malformed cast line is the replay's to report; here it just carries no output.
      return;
    }
    if (this.header) {
      this.header = false;
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        const ts = (value as Record<string, unknown>).timestamp;
        this.origin = typeof ts === 'number' ? ts * 1000 : 0;
        return;
      }
    }
    if (!Array.isArray(value) || value[1] !== 'o' || typeof value[2] !== 'string' || typeof value[0] !== 'number')
      return;
    const t = this.origin + value[0] * 1000;
    this.lastT = t;
    this.pending += value[2];
    let newline = this.pending.indexOf('\n');
    while (newline >= 0) {
      if (isJsonObjectLine(this.pending.slice(0, newline))) this.times.push(t);
      this.pending = this.pending.slice(newline + 1);
      newline = this.pending.indexOf('\n');
    }
    // A line that never ends is not held forever (the supervisor drops lines over 32 MiB too).
    if (this.pending.length > 32 * 1024 * 1024) this.pending = '';
  }
}

function isJsonObjectLine(raw: string): boolean {
  const stripped = raw.replace(/\r+$/, '').trim();
  if (!stripped.startsWith('{') || !stripped.endsWith('}')) return false;
  try {
    const value = JSON.parse(stripped) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
}
