import { isUtf8 } from 'node:buffer';
import { parseResize } from '../../shared/replay/asciicast';

/**
 * Turns the bytes of an asciicast v2 file, read from some offset in arbitrary chunks, into the terminal output
 * they hold, as UTF-8 bytes: complete lines only (a line cut by a chunk boundary waits for its end), `o` events'
 * data in order, the header skipped. A malformed line is reported with its byte offset and skipped; the rest still
 * flows.
 *
 * Output events as recorders write them (`[1.234567, "o", "…"]`, valid UTF-8) are unescaped byte to byte, with no
 * string in between: decoding the line, `JSON.parse` and encoding the text again cost about ten times as much, and
 * this runs for every byte a flooding agent writes (bench:live). Any other line goes through `JSON.parse`, which
 * also judges what is malformed.
 */

export interface CastChunk {
  /** The `o` data of the complete lines in this chunk, concatenated (UTF-8, whole characters). */
  readonly data: Buffer;
  /** Offset in the file just past the last complete line consumed so far. */
  readonly offset: number;
  /** Lines that could not be read, e.g. `terminal.cast: byte 1234: not JSON (…)`. */
  readonly problems: readonly string[];
  /** Resize and marker events among the output, each at its place in `data` (`at`: bytes of `data` before it). */
  readonly events: readonly CastControlEvent[];
  /** The time of the last complete event line read so far (seconds into the cast), null before any. */
  readonly time: number | null;
}

export type CastControlEvent =
  | { readonly at: number; readonly kind: 'resize'; readonly cols: number; readonly rows: number }
  | { readonly at: number; readonly kind: 'marker'; readonly label: string; readonly time: number };

export interface CastHeader {
  readonly width: number | null;
  readonly height: number | null;
  /** When the recording started (epoch seconds), when the header says. */
  readonly timestamp?: number | null;
}

const NEWLINE = 0x0a;
const EMPTY = Buffer.alloc(0);
const NO_EVENTS: readonly CastControlEvent[] = [];
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Hex digit values by byte, -1 for anything else. */
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX[0x41 + i] = HEX[0x61 + i] = 10 + i;

/** Single-character JSON escapes: the byte after the backslash → the byte it stands for (0: not one). */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const [c, v] of [
  ['n', 10],
  ['r', 13],
  ['t', 9],
  ['b', 8],
  ['f', 12],
  ['"', 0x22],
  ['\\', 0x5c],
  ['/', 0x2f],
] as const) {
  SIMPLE_ESCAPE[c.charCodeAt(0)] = v;
}

/**
 * An output event line `[<time>, "o", "<JSON string>"]` (spaces after the commas optional) unescaped into `out` from
 * `at`; the new end, or -1 when the line is not exactly that (anything else, or malformed: the caller parses it).
 */
export function unescapeOutputLine(line: Buffer, out: Buffer, at: number): number {
  const n = line.length;
  if (n < 8 || line[0] !== 0x5b || line[n - 1] !== 0x5d || line[n - 2] !== QUOTE || !isUtf8(line)) return -1;
  // The time: a JSON number (digits, sign, point, exponent), then a comma.
  let i = 1;
  while (
    i < n &&
    ((line[i]! >= 0x30 && line[i]! <= 0x39) ||
      line[i] === 0x2e ||
      line[i] === 0x2d ||
      line[i] === 0x2b ||
      line[i] === 0x65 ||
      line[i] === 0x45)
  )
    i++;
  if (i === 1 || line[i] !== 0x2c) return -1;
  i++;
  if (line[i] === 0x20) i++;
  if (line[i] !== QUOTE || line[i + 1] !== 0x6f || line[i + 2] !== QUOTE || line[i + 3] !== 0x2c) return -1;
  i += 4;
  if (line[i] === 0x20) i++;
  if (line[i] !== QUOTE) return -1;
  i++;
  const end = n - 2; // the closing quote
  let o = at;
  while (i < end) {
    const b = line[i]!;
    if (b !== BACKSLASH) {
      // A bare quote would end the string early, a bare control character is not JSON: let JSON.parse judge.
      if (b === QUOTE || b < 0x20) return -1;
      out[o++] = b;
      i++;
      continue;
    }
    const c = line[i + 1]!;
    const simple = SIMPLE_ESCAPE[c]!;
    if (simple !== 0) {
      out[o++] = simple;
      i += 2;
      continue;
    }
    if (c !== 0x75 || i + 6 > end) return -1;
    let cp = hex4(line, i + 2);
    if (cp < 0) return -1;
    i += 6;
    if (cp >= 0xd800 && cp < 0xdc00 && i + 6 <= end && line[i] === BACKSLASH && line[i + 1] === 0x75) {
      const low = hex4(line, i + 2);
      if (low >= 0xdc00 && low < 0xe000) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i += 6;
      }
    }
    // A lone surrogate encodes as U+FFFD, as Buffer.from(JSON.parse(line)) would.
    if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
    if (cp < 0x80) out[o++] = cp;
    else if (cp < 0x800) {
      out[o++] = 0xc0 | (cp >> 6);
      out[o++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      out[o++] = 0xe0 | (cp >> 12);
      out[o++] = 0x80 | ((cp >> 6) & 0x3f);
      out[o++] = 0x80 | (cp & 0x3f);
    } else {
      out[o++] = 0xf0 | (cp >> 18);
      out[o++] = 0x80 | ((cp >> 12) & 0x3f);
      out[o++] = 0x80 | ((cp >> 6) & 0x3f);
      out[o++] = 0x80 | (cp & 0x3f);
    }
  }
  return i === end ? o : -1;
}

function hex4(line: Buffer, i: number): number {
  const a = HEX[line[i]!]!,
    b = HEX[line[i + 1]!]!,
    c = HEX[line[i + 2]!]!,
    d = HEX[line[i + 3]!]!;
  return (a | b | c | d) < 0 ? -1 : (a << 12) | (b << 8) | (c << 4) | d;
}

export class CastLineReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private consumed: number;
  private time: number | null = null;

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

  /** The time of the last complete event line read (seconds into the cast), or null before any. */
  get lastTime(): number | null {
    return this.time;
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
      return { data: EMPTY, offset: this.consumed, problems: [], events: NO_EVENTS, time: this.time };
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
    // Unescaped text is never longer than its JSON: every fast line's output fits in one buffer of the block's size.
    const out = Buffer.allocUnsafe(block.length);
    let at = 0;
    /** Where in `out` the fast lines' output not yet in `parts` begins. */
    let segment = 0;
    const parts: Buffer[] = [];
    let partsBytes = 0;
    const problems: string[] = [];
    let events: CastControlEvent[] | null = null;
    let start = 0;
    this.time = lastLineTime(block) ?? this.time;
    while (start < block.length) {
      const nl = block.indexOf(NEWLINE, start);
      const lineStart = this.consumed + start;
      const line = block.subarray(start, nl);
      start = nl + 1;
      if (line.length === 0) continue;
      const written = unescapeOutputLine(line, out, at);
      if (written >= 0) {
        at = written;
        continue;
      }
      if (at > segment) {
        parts.push(out.subarray(segment, at));
        partsBytes += at - segment;
      }
      segment = at;
      // A complete line holds whole characters only (a damaged byte becomes U+FFFD and shows as such).
      const result = readCastLine(line.toString('utf8'), lineStart === 0);
      let text: string | null = null;
      if (result.kind === 'output') text = result.data;
      else if (result.kind === 'problem') {
        const problem = `${this.fileLabel}: byte ${lineStart}: ${result.message}`;
        problems.push(problem);
        if (this.describeProblem) text = this.describeProblem(problem);
      } else if (result.kind === 'resize') {
        (events ??= []).push({ at: partsBytes, kind: 'resize', cols: result.cols, rows: result.rows });
      } else if (result.kind === 'marker') {
        (events ??= []).push({ at: partsBytes, kind: 'marker', label: result.label, time: result.time });
      }
      if (text !== null) {
        const bytes = Buffer.from(text, 'utf8');
        parts.push(bytes);
        partsBytes += bytes.length;
      }
    }
    this.consumed += block.length;
    const found = events ?? NO_EVENTS;
    const time = this.time;
    if (parts.length === 0) return { data: out.subarray(0, at), offset: this.consumed, problems, events: found, time };
    if (at > segment) parts.push(out.subarray(segment, at));
    return { data: Buffer.concat(parts), offset: this.consumed, problems, events: found, time };
  }
}

type LineResult =
  | { kind: 'output'; data: string }
  | { kind: 'resize'; cols: number; rows: number }
  | { kind: 'marker'; label: string; time: number }
  | { kind: 'other' }
  | { kind: 'problem'; message: string };

/** The time at the start of the block's last line (`[12.5, …`), or null when it has none. */
function lastLineTime(block: Buffer): number | null {
  const from = block.lastIndexOf(NEWLINE, block.length - 2) + 1;
  if (block[from] !== 0x5b) return null;
  const comma = block.indexOf(0x2c, from);
  if (comma < 0 || comma - from > 32) return null;
  const time = Number(block.toString('latin1', from + 1, comma));
  return Number.isFinite(time) && time >= 0 ? time : null;
}

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
    if (value[1] === 'r' && typeof value[2] === 'string') {
      const size = parseResize(value[2]);
      return size
        ? { kind: 'resize', ...size }
        : { kind: 'problem', message: 'resize event without COLSxROWS; skipped' };
    }
    if (value[1] === 'm') {
      return { kind: 'marker', label: typeof value[2] === 'string' ? value[2] : '', time: value[0] };
    }
    // Input events carry no terminal output.
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
      const timestamp =
        typeof header.timestamp === 'number' && Number.isFinite(header.timestamp) ? header.timestamp : null;
      return { width, height, timestamp };
    }
  } catch {
    // No header yet, or a damaged one: the terminal keeps its own size.
  }
  return { width: null, height: null };
}
