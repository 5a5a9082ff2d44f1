import type { ReplayIndex, ReplaySegment } from '../../shared/contract-replay';
import { advancePlayClock, segmentForTime, segmentOpsUntil, type TerminalOp } from '../../shared/replay/replay-seek';

/**
 * Plays and seeks an indexed cast in a terminal. Terminal bytes go from the `replay.segment` reply straight into
 * the terminal's `write`; nothing here touches React or the store.
 *
 * For other views (the steps timeline): `seek(ms)` shows the moment `ms` milliseconds after the recording started
 * (the nearest keyframe, then that segment's events up to it), and `onTime(listener)` reports the position
 * whenever it changes (seek, play). `index.header.startedAt` (epoch ms, when the cast has a timestamp) converts
 * between cast time and clock time.
 */

/** The part of an xterm Terminal (browser or headless) the controller drives. */
export interface ReplayTerminal {
  write(data: string, callback?: () => void): void;
  resize(cols: number, rows: number): void;
  reset(): void;
}

/** Where segments come from: the contract client in the app, the service itself in tests. */
export interface ReplaySource {
  segment(n: number): Promise<ReplaySegment>;
}

export interface ReplayState {
  playing: boolean;
  speed: number;
  /** Pauses longer than this (seconds) are cut to it while playing; null plays them in full. */
  idleLimit: number | null;
}

const SEGMENT_CACHE = 6;
const WRITE_SLICE = 32 * 1024;

export class ReplayController {
  private readonly timeListeners = new Set<(ms: number) => void>();
  private readonly stateListeners = new Set<(state: ReplayState) => void>();
  private readonly cache = new Map<number, Promise<ReplaySegment>>();
  /** Terminal work runs one step at a time; a seek drops the steps queued before it. */
  private chain: Promise<void> = Promise.resolve();
  private generation = 0;
  /** The segment on screen and the index of its first event not yet applied; -1 before the first seek. */
  private segmentN = -1;
  private next = 0;
  private seconds = 0;
  private frame: number | null = null;
  private lastTick = 0;
  private disposed = false;
  private advancing = false;
  state: ReplayState;

  constructor(
    readonly index: ReplayIndex,
    private readonly source: ReplaySource,
    private readonly terminal: ReplayTerminal,
    private readonly clock: {
      now(): number;
      requestFrame(callback: () => void): number;
      cancelFrame(handle: number): void;
    } = {
      now: () => performance.now(),
      requestFrame: (cb) => requestAnimationFrame(cb),
      cancelFrame: (h) => cancelAnimationFrame(h),
    },
  ) {
    this.state = { playing: false, speed: 1, idleLimit: index.header.idleTimeLimit ?? 2 };
  }

  /** Current position, milliseconds since the recording started. */
  get timeMs(): number {
    return this.seconds * 1000;
  }

  get durationMs(): number {
    return this.index.duration * 1000;
  }

  onTime(listener: (ms: number) => void): () => void {
    this.timeListeners.add(listener);
    return () => this.timeListeners.delete(listener);
  }

  onState(listener: (state: ReplayState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Shows the moment `ms` after the start; resolves once it is on screen (or a later seek replaced it). */
  seek(ms: number): Promise<void> {
    const t = Math.min(Math.max(0, ms / 1000), this.index.duration);
    const generation = ++this.generation;
    const n = segmentForTime(this.index.segments, t);
    const segment = this.load(n);
    // The next segment is fetched ahead only while playing: a scrub through many moments should not load twice.
    if (this.state.playing) this.prefetch(n + 1);
    return this.enqueue(generation, async () => {
      const seg = await segment;
      if (generation !== this.generation) return;
      // Forward within the segment on screen: only the events in between. Anything else: keyframe first.
      let keyframe = '';
      if (this.segmentN !== n || t < this.seconds) {
        this.terminal.reset();
        this.terminal.resize(seg.cols, seg.rows);
        keyframe = seg.keyframe;
        this.segmentN = n;
        this.next = 0;
      }
      const { ops, next } = segmentOpsUntil(seg, this.next, t);
      this.next = next;
      await this.apply(ops, keyframe);
      this.setTime(t);
    });
  }

  play(): void {
    if (this.state.playing || this.disposed) return;
    if (this.seconds >= this.index.duration) void this.seek(0);
    this.setState({ playing: true });
    if (this.segmentN >= 0) this.prefetch(this.segmentN + 1);
    this.lastTick = this.clock.now();
    this.schedule();
  }

  pause(): void {
    if (!this.state.playing) return;
    this.setState({ playing: false });
    if (this.frame !== null) this.clock.cancelFrame(this.frame);
    this.frame = null;
  }

  setSpeed(speed: number): void {
    this.setState({ speed: Math.min(16, Math.max(0.25, speed)) });
  }

  setIdleLimit(seconds: number | null): void {
    this.setState({ idleLimit: seconds !== null && seconds > 0 ? seconds : null });
  }

  dispose(): void {
    this.disposed = true;
    this.generation++;
    if (this.frame !== null) this.clock.cancelFrame(this.frame);
    this.timeListeners.clear();
    this.stateListeners.clear();
    this.cache.clear();
  }

  private schedule(): void {
    if (this.disposed || !this.state.playing) return;
    this.frame = this.clock.requestFrame(() => {
      this.frame = null;
      void this.tick();
    });
  }

  /** One animation frame of play: moves the clock and applies the events it passed, segment after segment. */
  private async tick(): Promise<void> {
    const now = this.clock.now();
    const elapsed = ((now - this.lastTick) / 1000) * this.state.speed;
    this.lastTick = now;
    if (this.advancing) return this.schedule();
    if (this.segmentN < 0) {
      // Nothing on screen yet: show the current position first.
      await this.seek(this.seconds * 1000);
      return this.schedule();
    }
    this.advancing = true;
    const generation = this.generation;
    try {
      await this.enqueue(generation, async () => {
        let seg = await this.load(this.segmentN);
        const last = this.next > 0 ? seg.times[this.next - 1]! : seg.tStart;
        const upcoming = await this.nextEventTime(seg);
        let target = advancePlayClock(this.seconds, elapsed, last, upcoming, this.state.idleLimit);
        if (target >= this.index.duration) target = this.index.duration;
        for (;;) {
          if (generation !== this.generation) return;
          const { ops, next } = segmentOpsUntil(seg, this.next, target);
          this.next = next;
          await this.apply(ops);
          if (next < seg.times.length || this.segmentN + 1 >= this.index.segments.length) break;
          // Carry on into the next segment: its events follow on from what is on screen, no keyframe needed.
          const following = this.index.segments[this.segmentN + 1]!;
          if (following.tStart > target) break;
          this.segmentN++;
          this.next = 0;
          seg = await this.load(this.segmentN);
          this.prefetch(this.segmentN + 1);
        }
        if (generation !== this.generation) return;
        this.setTime(target);
        if (target >= this.index.duration) this.pause();
      });
    } finally {
      this.advancing = false;
    }
    this.schedule();
  }

  private async nextEventTime(seg: ReplaySegment): Promise<number | null> {
    if (this.next < seg.times.length) return seg.times[this.next]!;
    const following = this.index.segments[this.segmentN + 1];
    if (!following) return null;
    const nextSeg = await this.load(this.segmentN + 1);
    return nextSeg.times[0] ?? null;
  }

  private enqueue(generation: number, work: () => Promise<void>): Promise<void> {
    const run = this.chain.then(() => (generation === this.generation && !this.disposed ? work() : undefined));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private load(n: number): Promise<ReplaySegment> {
    let found = this.cache.get(n);
    if (found) {
      // Most recently used last.
      this.cache.delete(n);
      this.cache.set(n, found);
      return found;
    }
    found = this.source.segment(n);
    found.catch(() => this.cache.delete(n));
    this.cache.set(n, found);
    while (this.cache.size > SEGMENT_CACHE) this.cache.delete(this.cache.keys().next().value!);
    return found;
  }

  private prefetch(n: number): void {
    if (n < this.index.segments.length && !this.cache.has(n)) void this.load(n).catch(() => undefined);
  }

  /**
   * xterm yields to the page only between writes, so a segment's megabyte goes in slices: the page stays
   * responsive while a seek is being drawn.
   */
  private write(data: string): Promise<void> {
    if (data.length === 0) return Promise.resolve();
    for (let i = 0; i + WRITE_SLICE < data.length; i += WRITE_SLICE)
      this.terminal.write(data.slice(i, i + WRITE_SLICE));
    const last = data.slice(Math.floor((data.length - 1) / WRITE_SLICE) * WRITE_SLICE);
    return new Promise((resolve) => this.terminal.write(last, resolve));
  }

  /**
   * Output is written without waiting in between (the keyframe, `before`, with the output after it): one wait for
   * xterm's callback per seek, not one per write, each of which costs the page a timer hop. Only a resize waits for
   * what precedes it to be parsed.
   */
  private async apply(ops: readonly TerminalOp[], before = ''): Promise<void> {
    let pending = before;
    for (const op of ops) {
      if (op.kind === 'output') pending += op.data;
      else {
        await this.write(pending);
        pending = '';
        this.terminal.resize(op.cols, op.rows);
      }
    }
    await this.write(pending);
  }

  private setTime(t: number): void {
    this.seconds = t;
    for (const listener of this.timeListeners) listener(t * 1000);
  }

  private setState(patch: Partial<ReplayState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.stateListeners) listener(this.state);
  }
}
