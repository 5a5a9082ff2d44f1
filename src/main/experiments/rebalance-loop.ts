import type { ExperimentRebalance, ExperimentSummary } from '../../shared/contract-experiments';

/**
 * While the app (or `ptw serve`) is open: a rebalancing pass over each experiment that is not stopped, one
 * experiment at a time, every `intervalMs` (issue 17; rebalancer.ts). Its cost is one `dispatch --status --gpus` per
 * host of the experiment; an experiment with nothing left that could move is looked at only every tenth pass (a
 * retry may queue a run again). The CLI never runs it: `ptw experiment rebalance ID` is the one-off pass.
 */
export class RebalanceLoop {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #disposed = false;
  #pass = 0;
  /** Experiments whose last pass found nothing queued: the pass number to look again. */
  readonly #quietUntil = new Map<string, number>();

  constructor(
    private readonly experiments: {
      list(): Promise<ExperimentSummary[]>;
      rebalance(id: string): Promise<ExperimentRebalance>;
    },
    private readonly intervalMs: number,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  start(): void {
    if (this.#disposed || this.#timer) return;
    this.#timer = setTimeout(() => void this.#tick(), this.intervalMs);
    this.#timer.unref?.();
  }

  /** One pass over every experiment not stopped (exported for tests and the timer). */
  async passOnce(): Promise<void> {
    this.#pass += 1;
    for (const e of await this.experiments.list()) {
      if (this.#disposed) return;
      if (e.stopped || (this.#quietUntil.get(e.id) ?? 0) > this.#pass) continue;
      try {
        const outcome = await this.experiments.rebalance(e.id);
        for (const m of outcome.moved) this.log(`experiment ${e.id}: ${m.key} moved from ${m.from} to ${m.to}`);
        const unanswered = outcome.notes.some((n) => n.includes('could not be asked'));
        if (outcome.queued === 0 && !unanswered) this.#quietUntil.set(e.id, this.#pass + 10);
        else this.#quietUntil.delete(e.id);
      } catch (err) {
        this.log(`experiment ${e.id}: rebalancing failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  async #tick(): Promise<void> {
    this.#timer = undefined;
    this.#running = this.passOnce().catch(() => undefined);
    await this.#running;
    this.#running = undefined;
    this.start();
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
