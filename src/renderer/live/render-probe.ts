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
}

const MARKER = /@@([ILE])(\d+):(\d{13})@@/g;
const AT = 0x40;

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
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
  };
  private readonly observer: PerformanceObserver | null = null;

  constructor(private readonly now: () => number = () => Date.now()) {
    try {
      this.observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) this.results.longTasks.push(Math.round(entry.duration));
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

  /** Markers are ASCII: found with `indexOf` on the bytes; only the bytes around each are made into text. */
  private renderedBytes(data: Uint8Array): void {
    const at = this.now();
    let units = 0;
    for (let i = 0; i < data.length; i++) {
      const b = data[i]!;
      if ((b & 0xc0) !== 0x80) units += b >= 0xf0 ? 2 : 1;
    }
    this.chars += units;
    const carry = this.carryBytes;
    const bytes = carry.length ? concatBytes(carry, data) : data;
    let consumed = 0;
    for (let i = bytes.indexOf(AT); i >= 0 && i + 1 < bytes.length; i = bytes.indexOf(AT, i + 1)) {
      if (bytes[i + 1] !== AT) continue;
      const close = bytes.indexOf(AT, i + 2);
      if (close < 0 || close - i > 40) {
        if (close < 0) break;
        continue;
      }
      const candidate = String.fromCharCode(...bytes.subarray(i, close + 2));
      const match = /^@@([ILE])(\d+):(\d{13})@@$/.exec(candidate);
      if (!match) continue;
      this.marker(match[1]!, Number(match[2]), Number(match[3]), at);
      consumed = close + 2;
      i = consumed - 1;
    }
    const rest = bytes.subarray(consumed);
    this.carryBytes = rest.length > 40 ? rest.slice(rest.length - 40) : rest.slice();
  }

  private marker(kind: string, seq: number, stamp: number, at: number): void {
    if (seq !== this.nextSeq) this.results.sequenceErrors.push(`expected marker ${this.nextSeq}, got ${seq}`);
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
