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

export class RenderProbe {
  private chars = 0;
  private carry = '';
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

  /** A chunk xterm has just taken (its write callback ran). */
  rendered(data: string): void {
    const at = this.now();
    this.chars += data.length;
    // A marker cut between two chunks is found in the next one: keep the tail that could be its start.
    const text = this.carry + data;
    MARKER.lastIndex = 0;
    let match: RegExpExecArray | null;
    let consumed = 0;
    while ((match = MARKER.exec(text)) !== null) {
      consumed = match.index + match[0].length;
      const [, kind, seqText, tsText] = match;
      const seq = Number(seqText);
      if (seq !== this.nextSeq) this.results.sequenceErrors.push(`expected marker ${this.nextSeq}, got ${seq}`);
      this.nextSeq = seq + 1;
      this.results.markers += 1;
      const latency = at - Number(tsText);
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
    const rest = text.slice(consumed);
    this.carry = rest.length > 40 ? rest.slice(-40) : rest;
  }

  snapshot(): ProbeResults {
    return { ...this.results, chars: this.chars };
  }

  dispose(): void {
    this.observer?.disconnect();
  }
}
