/**
 * Background work in ticks: each tick starts `intervalMs` after the previous one ended (never two at once), until
 * stopped. The run syncer and the GPU monitor both run on one.
 */
export class TickLoop {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;

  /** Runs `first` (when given) and then `tick` every `intervalMs`; a second start, or one after stop, does nothing. */
  start(intervalMs: number, tick: () => Promise<void>, first?: () => Promise<void>): void {
    if (this.ticking || this.stopped) return;
    const next = async (): Promise<void> => {
      await tick();
      if (!this.stopped) {
        this.timer = setTimeout(() => (this.ticking = next()), intervalMs);
        // A pending tick never keeps the process alive (the CLI exits when its command is done).
        this.timer.unref();
      }
    };
    this.ticking = (async () => {
      await first?.();
      await next();
    })();
  }

  /** Stops the loop, waiting for a tick under way to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking?.catch(() => undefined);
    if (this.timer) clearTimeout(this.timer);
  }
}
