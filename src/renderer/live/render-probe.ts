/**
 * Measures a terminal stream as the viewer sees it (the `bench:live` benchmark, through the test driver, and its
 * bare-pipe page): characters rendered, and the latency of timestamped marker lines from the moment the agent wrote
 * them to xterm's write callback. Markers look like `@@L42:1763899200123@@`: kind (I idle, L under load, E end),
 * sequence number, epoch ms when written. Also records the page's long tasks.
 */

export interface ProbeResults {
  chars: number;
  /** idle: markers before the flood (empty pipeline); drain: idle markers after it, behind any backlog. */
  latencies: { idle: number[]; load: number[]; drain: number[] };
  /** Marker sequence numbers missing or out of order (must stay empty). */
  sequenceErrors: string[];
  markers: number;
  /** When the first load marker and the end marker were rendered (epoch ms), for the sustained rate. */
  firstLoadAt: number | null;
  endAt: number | null;
  /** Characters rendered between the first load marker and the end marker. */
  loadChars: number;
  longTasks: number[];
  /** When each long task began (epoch ms), in the order of `longTasks`. */
  longTaskStarts: number[];
  /** When the end marker was written (its stamp, epoch ms): the end of the flood at its source. */
  endWrittenAt: number | null;
  /** Markers never rendered (skipped by catch-up; an error when every byte is rendered), and seen again. */
  missed: number;
  repeated: number;
}

const MARKER = /@@([ILE])(\d+):(\d{13})@@/g;
const AT = 0x40;

/** A marker is at most this many bytes (`@@L<seq>:<13 digits>@@`). */
const MARKER_MAX_BYTES = 40;

/** UTF-16 units of UTF-8 bytes, without decoding: one per character, two for one outside the BMP (4-byte). */
function utf16Units(bytes: Uint8Array): number {
  let skipped = 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if ((b & 0xc0) === 0x80) skipped++;
    else if (b >= 0xf0) skipped--;
  }
  return n - skipped;
}

function joinBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}

export class RenderProbe {
  private chars = 0;
  private carry = '';
  private carryBytes: Uint8Array = new Uint8Array(0);
  private nextSeq = 0;
  private loadStartChars = 0;
  private readonly results: ProbeResults = {
    chars: 0,
    latencies: { idle: [], load: [], drain: [] },
    sequenceErrors: [],
    markers: 0,
    firstLoadAt: null,
    endAt: null,
    loadChars: 0,
    longTasks: [],
    longTaskStarts: [],
    endWrittenAt: null,
    missed: 0,
    repeated: 0,
  };
  private readonly observer: PerformanceObserver | null = null;

  constructor(private readonly now: () => number = () => Date.now()) {
    try {
      this.observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          this.results.longTasks.push(Math.round(entry.duration));
          this.results.longTaskStarts.push(Math.round(performance.timeOrigin + entry.startTime));
        }
      });
      this.observer.observe({ type: 'longtask', buffered: false });
    } catch {
      // No long-task timing in this browser.
    }
  }

  /**
   * A chunk xterm has just taken (its write callback ran). Text counts its UTF-16 units; bytes (UTF-8) count the same
   * units without being decoded (one per character, two for a character outside the BMP), so both paths compare.
   */
  rendered(data: string | Uint8Array): void {
    if (typeof data === 'string') this.renderedText(data);
    else this.renderedBytes(data);
  }

  private renderedText(data: string): void {
    const at = this.now();
    this.chars += data.length;
    // A marker cut between two chunks is found in the next one: keep the tail that could be its start.
    const text = this.carry + data;
    MARKER.lastIndex = 0;
    let match: RegExpExecArray | null;
    let consumed = 0;
    while ((match = MARKER.exec(text)) !== null) {
      consumed = match.index + match[0].length;
      this.marker(match[1]!, Number(match[2]), Number(match[3]), at);
    }
    const rest = text.slice(consumed);
    this.carry = rest.length > 40 ? rest.slice(-40) : rest;
  }

  /**
   * Markers are ASCII: found with `indexOf` on the bytes, and only a marker's own bytes are made into text. A marker
   * cut between two chunks is found by scanning the held tail of the last chunk joined to this one's first bytes.
   */
  private renderedBytes(data: Uint8Array): void {
    const at = this.now();
    this.chars += utf16Units(data);
    let from = 0;
    const carry = this.carryBytes;
    if (carry.length > 0 && data.length < MARKER_MAX_BYTES) {
      // A short chunk: the held tail and the chunk together are all there is to scan (and to hold next).
      const joined = joinBytes(carry, data);
      const consumed = this.scanBytes(joined, 0, at, joined.length);
      this.carryBytes = joined.slice(Math.max(consumed, joined.length - MARKER_MAX_BYTES));
      return;
    }
    if (carry.length > 0) {
      const joined = joinBytes(carry, data.subarray(0, MARKER_MAX_BYTES));
      const found = this.scanBytes(joined, 0, at, carry.length);
      if (found > carry.length) from = found - carry.length;
    }
    const consumed = Math.max(from, this.scanBytes(data, from, at, data.length));
    const tail = Math.max(consumed, data.length - MARKER_MAX_BYTES);
    this.carryBytes = data.slice(tail);
  }

  /** Records the markers in `bytes` from `from` that begin before `startsBefore`; the end of the last one. */
  private scanBytes(bytes: Uint8Array, from: number, at: number, startsBefore: number): number {
    let consumed = from;
    for (let i = bytes.indexOf(AT, from); i >= 0 && i < startsBefore && i + 1 < bytes.length;) {
      if (bytes[i + 1] === AT) {
        const close = bytes.indexOf(AT, i + 2);
        if (close < 0) break;
        if (close - i <= MARKER_MAX_BYTES && close + 1 < bytes.length && bytes[close + 1] === AT) {
          const match = /^@@([ILE])(\d+):(\d{13})@@$/.exec(String.fromCharCode(...bytes.subarray(i, close + 2)));
          if (match) {
            this.marker(match[1]!, Number(match[2]), Number(match[3]), at);
            consumed = close + 2;
            i = bytes.indexOf(AT, consumed);
            continue;
          }
        }
      }
      i = bytes.indexOf(AT, i + 1);
    }
    return consumed;
  }

  private marker(kind: string, seq: number, stamp: number, at: number): void {
    // A marker seen before (a catch-up snapshot repeats the screen and recent scrollback): counted, not measured.
    if (seq < this.nextSeq) {
      this.results.repeated += 1;
      return;
    }
    if (seq !== this.nextSeq) {
      this.results.sequenceErrors.push(`expected marker ${this.nextSeq}, got ${seq}`);
      this.results.missed += seq - this.nextSeq;
    }
    this.nextSeq = seq + 1;
    this.results.markers += 1;
    const latency = at - stamp;
    if (kind === 'I') {
      if (this.results.firstLoadAt === null) this.results.latencies.idle.push(latency);
      else this.results.latencies.drain.push(latency);
    } else if (kind === 'L') {
      if (this.results.firstLoadAt === null) {
        this.results.firstLoadAt = at;
        this.loadStartChars = this.chars;
      }
      this.results.latencies.load.push(latency);
    } else if (kind === 'E') {
      this.results.endAt = at;
      this.results.endWrittenAt = stamp;
      this.results.loadChars = this.chars - this.loadStartChars;
    }
  }

  snapshot(): ProbeResults {
    return { ...this.results, chars: this.chars };
  }

  dispose(): void {
    this.observer?.disconnect();
  }
}
