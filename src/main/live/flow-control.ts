/**
 * Ack-based flow control for one viewer's stream (the scheme Tabby and VS Code use between a PTY and xterm.js):
 * every chunk sent counts as unacknowledged until the viewer acks it from xterm's write callback; above the high
 * watermark the source is paused, and it resumes once the viewer has caught up below the low watermark. Pure: the
 * caller does the pausing (`stream.pause()` on the ssh2 channel), so each viewer's window is independent.
 */

export interface FlowWindowOptions {
  /** Pause once more than this is unacknowledged. */
  readonly highWatermark: number;
  /** Resume once at most this is unacknowledged (below the high watermark, so the source does not flap). */
  readonly lowWatermark: number;
}

/** 1 MiB in flight keeps a 30+ MB/s pipe full at ~30 ms of rendering latency; 256 KiB is where it refills. */
export const defaultFlowWindow: FlowWindowOptions = { highWatermark: 1024 * 1024, lowWatermark: 256 * 1024 };

/** What the caller must do after a change: pause or resume its source, or nothing. */
export type FlowAction = 'pause' | 'resume' | null;

export class FlowWindow {
  private inFlight = 0;
  private isPaused = false;
  /** Every pause and resume, for tests and the benchmark. */
  pauses = 0;
  resumes = 0;
  sentTotal = 0;
  ackedTotal = 0;

  constructor(readonly options: FlowWindowOptions = defaultFlowWindow) {
    if (!(options.highWatermark > 0) || !(options.lowWatermark >= 0) || options.lowWatermark >= options.highWatermark) {
      throw new RangeError(
        `flow window needs 0 <= low < high (got low ${options.lowWatermark}, high ${options.highWatermark})`,
      );
    }
  }

  get unacked(): number {
    return this.inFlight;
  }

  get paused(): boolean {
    return this.isPaused;
  }

  /** `size` more was sent to the viewer. */
  sent(size: number): FlowAction {
    if (size <= 0) return null;
    this.inFlight += size;
    this.sentTotal += size;
    if (!this.isPaused && this.inFlight > this.options.highWatermark) {
      this.isPaused = true;
      this.pauses += 1;
      return 'pause';
    }
    return null;
  }

  /**
   * The viewer rendered `size`. An ack for more than is in flight (a confused or hostile viewer) counts as
   * everything acknowledged rather than going negative, so a bad ack can never wedge or over-open the window.
   */
  acked(size: number): FlowAction {
    if (size <= 0) return null;
    const applied = Math.min(size, this.inFlight);
    this.inFlight -= applied;
    this.ackedTotal += applied;
    if (this.isPaused && this.inFlight <= this.options.lowWatermark) {
      this.isPaused = false;
      this.resumes += 1;
      return 'resume';
    }
    return null;
  }
}
