/**
 * Caps how often xterm repaints while output floods in, so that a terminal under a flood spends its time parsing
 * (about 75 MB/s here) rather than repainting rows nobody can read at 60 frames a second (the DOM renderer's rows,
 * layout and paint cost more than the parsing). Quiet output is untouched: a lone line is painted at once.
 *
 * It uses xterm's own synchronized output mode (DEC private mode 2026, which xterm 6 honours): while the mode is set,
 * xterm parses everything and buffers the rows to repaint; ending it repaints them once. During a flood the cap
 * opens the mode and closes it every `frameMs`, so the screen still moves, at `1000 / frameMs` frames a second. The
 * mode sequences are written into the terminal's own write queue, so they take effect in order with the output,
 * print nothing and never reach the scrollback, search or copy. After closing a frame the cap waits for xterm's
 * repaint (`onRender`) before it opens the next: xterm skips a queued repaint when the mode is set again before the
 * animation frame comes, which a flood's next chunk would otherwise always do.
 *
 * A program that uses the mode itself (full-screen TUIs do, to draw whole frames) keeps it: the cap does not open
 * the mode while the program's is set. Only if the program sets it inside one of the cap's frames can the cap's
 * close end the program's frame early, which shows a half-drawn frame for one frame; nothing is lost.
 */

export interface CappableTerminal {
  write(data: string | Uint8Array, callback?: () => void): void;
  readonly modes: { readonly synchronizedOutputMode: boolean };
  onRender(listener: () => void): { dispose(): void };
}

export interface RenderCapOptions {
  /** Repaint at most every `frameMs` during a flood (default 100: 10 frames a second). */
  readonly frameMs?: number;
  /** A flood: at least `floodChars` arriving within `windowMs` (defaults 32 K characters in 50 ms). */
  readonly floodChars?: number;
  readonly windowMs?: number;
  readonly now?: () => number;
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  readonly clearTimer?: (timer: unknown) => void;
}

const BEGIN = '\x1b[?2026h';
const END = '\x1b[?2026l';

export class RenderCap {
  private readonly frameMs: number;
  private readonly floodChars: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (timer: unknown) => void;
  /** Characters that arrived in the current window, and when the window began. */
  private windowChars = 0;
  private windowStart = 0;
  /** open: may begin a frame; holding: repaints held; painting: closed, waiting for xterm's repaint. */
  private state: 'open' | 'holding' | 'painting' = 'open';
  private timer: unknown = undefined;
  private disposed = false;
  private readonly renderListener: { dispose(): void };
  /** Frames held (for the test driver and the benchmark). */
  frames = 0;

  constructor(
    private readonly terminal: CappableTerminal,
    options: RenderCapOptions = {},
  ) {
    this.frameMs = options.frameMs ?? 100;
    this.floodChars = options.floodChars ?? 32 * 1024;
    this.windowMs = options.windowMs ?? 50;
    this.now = options.now ?? (() => Date.now());
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer as ReturnType<typeof setTimeout>));
    this.renderListener = terminal.onRender(() => {
      if (this.state === 'painting') this.reopen();
    });
  }

  /** Whether repaints are being held right now. */
  get capping(): boolean {
    return this.state === 'holding';
  }

  write(data: string | Uint8Array, callback?: () => void): void {
    const flooding = this.flooding(data.length);
    if (!this.disposed && this.state === 'open' && flooding && !this.terminal.modes.synchronizedOutputMode) {
      this.state = 'holding';
      this.frames += 1;
      this.terminal.write(BEGIN);
      this.timer = this.setTimer(() => this.frameEnd(), this.frameMs);
    }
    this.terminal.write(data, callback);
  }

  private flooding(size: number): boolean {
    const now = this.now();
    if (now - this.windowStart > this.windowMs) {
      this.windowStart = now;
      this.windowChars = 0;
    }
    this.windowChars += size;
    return this.windowChars >= this.floodChars;
  }

  /**
   * A frame is over: repaint. Once xterm has repainted (or after another frame's time, should it have had nothing
   * to paint), the next chunk of a flood that goes on opens the next frame.
   */
  private frameEnd(): void {
    this.timer = undefined;
    if (this.state !== 'holding') return;
    this.state = 'painting';
    this.terminal.write(END);
    this.timer = this.setTimer(() => this.reopen(), this.frameMs);
  }

  private reopen(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    this.state = 'open';
  }

  /** Repaints whatever is held and stops capping. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.renderListener.dispose();
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    if (this.state === 'holding') this.terminal.write(END);
    this.state = 'open';
  }
}
