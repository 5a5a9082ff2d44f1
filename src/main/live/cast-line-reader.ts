/**
 * Turns the bytes of an asciicast v2 file, read from some offset in arbitrary chunks, into the terminal output
 * they hold: complete lines only (a line cut by a chunk boundary waits for its end), `o` events' data in order,
 * the header skipped. A malformed line is reported with its byte offset and skipped; the rest still flows.
 */

export interface CastChunk {
  /** The `o` data of the complete lines in this chunk, concatenated. */
  readonly data: string;
  /** Offset in the file just past the last complete line consumed so far. */
  readonly offset: number;
  /** Lines that could not be read, e.g. `terminal.cast: byte 1234: not JSON (…)`. */
  readonly problems: readonly string[];
}

export interface CastHeader {
  readonly width: number | null;
  readonly height: number | null;
}

const NEWLINE = 0x0a;

export class CastLineReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private consumed: number;

  /**
   * @param describeProblem when given, each problem's text is also put in `data` where the line was, so a viewer
   *   sees it in place.
   */
  constructor(
    startOffset: number,
    private readonly fileLabel = 'terminal.cast',
    private readonly describeProblem?: (problem: string) => string,
  ) {
    this.consumed = startOffset;
  }

  /** Offset just past the last complete line read. */
  get offset(): number {
    return this.consumed;
  }

  /** Bytes of an unfinished last line held back. */
  get heldBack(): number {
    return this.pendingBytes;
  }

  push(chunk: Buffer): CastChunk {
    const end = chunk.lastIndexOf(NEWLINE);
    if (end < 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return { data: '', offset: this.consumed, problems: [] };
    }
    const head = this.pending.length
      ? Buffer.concat([...this.pending, chunk.subarray(0, end + 1)])
      : chunk.subarray(0, end + 1);
    const rest = chunk.subarray(end + 1);
    this.pending = rest.length ? [Buffer.from(rest)] : [];
    this.pendingBytes = rest.length;
    return this.readLines(head);
  }

  private readLines(block: Buffer): CastChunk {
    const parts: string[] = [];
    const problems: string[] = [];
    let start = 0;
    while (start < block.length) {
      const nl = block.indexOf(NEWLINE, start);
      const lineStart = this.consumed + start;
      const line = block.subarray(start, nl);
      start = nl + 1;
      if (line.length === 0) continue;
      // A complete line holds whole characters only (a damaged byte becomes U+FFFD and shows as such).
      const text = line.toString('utf8');
      const result = readCastLine(text, lineStart === 0);
      if (result.kind === 'output') parts.push(result.data);
      else if (result.kind === 'problem') {
        const problem = `${this.fileLabel}: byte ${lineStart}: ${result.message}`;
        problems.push(problem);
        if (this.describeProblem) parts.push(this.describeProblem(problem));
      }
    }
    this.consumed += block.length;
    return { data: parts.join(''), offset: this.consumed, problems };
  }
}

type LineResult = { kind: 'output'; data: string } | { kind: 'other' } | { kind: 'problem'; message: string };

function readCastLine(text: string, first: boolean): LineResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: 'problem', message: `not JSON (${(err as Error).message}); skipped` };
  }
  if (Array.isArray(value)) {
    if (value.length < 3 || typeof value[0] !== 'number' || typeof value[1] !== 'string') {
      return { kind: 'problem', message: 'not an asciicast event [time, code, data]; skipped' };
    }
    if (value[1] === 'o') {
      return typeof value[2] === 'string'
        ? { kind: 'output', data: value[2] }
        : { kind: 'problem', message: 'output event without text; skipped' };
    }
    // Input, resize and marker events carry no terminal output.
    return { kind: 'other' };
  }
  if (first && value !== null && typeof value === 'object') return { kind: 'other' };
  return { kind: 'problem', message: 'not an asciicast event; skipped' };
}

/** The header's terminal size, from the cast's first line. */
export function parseCastHeader(firstLine: string): CastHeader {
  try {
    const value = JSON.parse(firstLine) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const header = value as Record<string, unknown>;
      const width = typeof header.width === 'number' && header.width > 0 ? Math.floor(header.width) : null;
      const height = typeof header.height === 'number' && header.height > 0 ? Math.floor(header.height) : null;
      return { width, height };
    }
  } catch {
    // No header yet, or a damaged one: the terminal keeps its own size.
  }
  return { width: null, height: null };
}
