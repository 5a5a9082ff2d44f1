/**
 * asciicast v2 and v3, one line at a time (https://docs.asciinema.org/manual/asciicast/v2/ and /v3/).
 * Pure: the node side splits the file's bytes into lines and hands each decoded line here, so a cast of any size
 * is read without ever holding it as one string.
 *
 * v2: the header has `width`/`height`; event times are seconds since the start.
 * v3: the header has `term: {cols, rows}`; event times are seconds since the previous event; `#` lines are
 * comments. Blank lines are skipped in both. Unknown event codes are ignored, as the spec asks.
 */

export type CastVersion = 2 | 3;

export interface CastHeader {
  version: CastVersion;
  cols: number;
  rows: number;
  /** Recording start, epoch milliseconds, when the header says. */
  startedAt: number | null;
  idleTimeLimit: number | null;
  title: string | null;
  command: string | null;
  termType: string | null;
}

/** The event codes a replay uses: output, input, resize, marker, exit. */
export type CastEventCode = 'o' | 'i' | 'r' | 'm' | 'x';

export interface CastEvent {
  /** Seconds since the start of the recording (v3's intervals already summed). */
  time: number;
  code: CastEventCode;
  data: string;
}

export type CastLineResult =
  | { kind: 'event'; event: CastEvent }
  /** A blank line, a v3 comment, or an event code this version does not know (ignored, as the spec says). */
  | { kind: 'skip' }
  | { kind: 'problem'; message: string };

const KNOWN_CODES = new Set(['o', 'i', 'r', 'm', 'x']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInt(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= 10_000 ? value : null;
}

function optionalString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Thrown for a header this reader cannot use; the message names the problem, the caller adds file and line. */
export class CastHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CastHeaderError';
  }
}

/** Parses the first line. Throws {@link CastHeaderError} when it is not an asciicast v2 or v3 header. */
export function parseCastHeader(line: string): CastHeader {
  let value: unknown;
  try {
    value = JSON.parse(stripBom(line));
  } catch (err) {
    throw new CastHeaderError(`the header is not JSON (${(err as Error).message})`);
  }
  if (!isRecord(value)) throw new CastHeaderError('the header is not a JSON object');
  const version = value['version'];
  let cols: number | null;
  let rows: number | null;
  let termType: string | null = null;
  if (version === 2) {
    cols = positiveInt(value['width']);
    rows = positiveInt(value['height']);
    if (cols === null || rows === null)
      throw new CastHeaderError('a v2 header needs positive integer width and height');
    const env = value['env'];
    if (isRecord(env)) termType = optionalString(env['TERM']);
  } else if (version === 3) {
    const term = value['term'];
    if (!isRecord(term)) throw new CastHeaderError('a v3 header needs a "term" object');
    cols = positiveInt(term['cols']);
    rows = positiveInt(term['rows']);
    if (cols === null || rows === null)
      throw new CastHeaderError('a v3 header needs positive integer term.cols and term.rows');
    termType = optionalString(term['type']);
  } else if (version === 1 || Array.isArray(value['stdout'])) {
    throw new CastHeaderError('asciicast v1 (one JSON document) is not supported; convert it with `asciinema convert`');
  } else {
    throw new CastHeaderError(`unsupported asciicast version ${JSON.stringify(version ?? null)} (2 and 3 are read)`);
  }
  const timestamp = value['timestamp'];
  const idle = value['idle_time_limit'];
  return {
    version,
    cols,
    rows,
    startedAt: typeof timestamp === 'number' && Number.isFinite(timestamp) ? Math.round(timestamp * 1000) : null,
    idleTimeLimit: typeof idle === 'number' && Number.isFinite(idle) && idle > 0 ? idle : null,
    title: optionalString(value['title']),
    command: optionalString(value['command']),
    termType,
  };
}

function stripBom(line: string): string {
  return line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
}

/**
 * Turns event lines into events with absolute times. One per cast: it carries v3's running clock. v2 times that
 * go backwards are held at the previous time so the timeline stays ordered (the event still plays).
 */
export class CastEventReader {
  private clock = 0;

  constructor(readonly version: CastVersion) {}

  /** The time of the last event read (seconds since the start). */
  get time(): number {
    return this.clock;
  }

  /** Restarts the clock, e.g. to read one segment of a cast whose earlier events are known to end at `time`. */
  resetClock(time: number): void {
    this.clock = time;
  }

  read(line: string): CastLineResult {
    if (isBlank(line)) return { kind: 'skip' };
    if (line.charCodeAt(0) === 0x23 /* # */) {
      return this.version === 3 ? { kind: 'skip' } : { kind: 'problem', message: 'comment lines are v3 only' };
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      return { kind: 'problem', message: `not JSON (${(err as Error).message})` };
    }
    if (!Array.isArray(value) || value.length < 3) {
      return { kind: 'problem', message: 'an event must be a JSON array [time, code, data]' };
    }
    const [time, code, data] = value as [unknown, unknown, unknown];
    if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) {
      return { kind: 'problem', message: `the event time ${JSON.stringify(time)} is not a non-negative number` };
    }
    if (typeof code !== 'string' || code.length === 0) {
      return { kind: 'problem', message: 'the event code must be a non-empty string' };
    }
    if (typeof data !== 'string') return { kind: 'problem', message: 'the event data must be a string' };
    if (code === 'r' && parseResize(data) === null) {
      return { kind: 'problem', message: `a resize event needs "COLSxROWS", got ${JSON.stringify(data.slice(0, 40))}` };
    }
    // The clock moves for every well-formed event, known code or not, so v3 intervals stay right.
    const next = this.version === 3 ? this.clock + time : Math.max(this.clock, time);
    if (!Number.isFinite(next)) {
      // v3 intervals such as 1e308 + 1e308: the event is this cast's problem; the clock stays where it was.
      return { kind: 'problem', message: `the event time ${time} takes the cast past any finite duration` };
    }
    this.clock = next;
    if (!KNOWN_CODES.has(code)) return { kind: 'skip' };
    return { kind: 'event', event: { time: this.clock, code: code as CastEventCode, data } };
  }
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/** `"80x24"` → `{cols: 80, rows: 24}`; null when it is not that. */
export function parseResize(data: string): { cols: number; rows: number } | null {
  const m = /^\s*(\d{1,5})x(\d{1,5})\s*$/.exec(data);
  if (!m) return null;
  const cols = Number(m[1]);
  const rows = Number(m[2]);
  return cols > 0 && rows > 0 ? { cols, rows } : null;
}
