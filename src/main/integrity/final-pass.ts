import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunSummary } from '../../shared/contract';
import type { EventHub } from '../rpc/contract-router';
import { RECORD_FILE, type IntegrityService } from './integrity-service';

/**
 * Passes the app runs without being asked, in the app and `ptw serve` (never in the CLI, which checks on request):
 * - live: while a run's agent works, a pass every few minutes; the helper's cache (`.integrity/cache.json` on the
 *   host) makes it read only files that are new or changed since the last one;
 * - final: once the agent has stopped, a pass over the final state (the supervisor evaluates meanwhile; the
 *   verdict sits beside the score).
 * Driven by `runs.changed` and a one-minute tick; one pass at a time; a pass that fails is tried again later.
 */

const RETRY_MS = 10 * 60_000;
export const LIVE_INTERVAL_MS = 5 * 60_000;
const TICK_MS = 60_000;

/** Running runs whose last pass is older than the live interval. Pure. */
export function runsNeedingLivePass(
  runs: readonly RunSummary[],
  lastChecked: (id: string) => number | null,
  now: number,
  intervalMs = LIVE_INTERVAL_MS,
): RunSummary[] {
  return runs.filter((run) => {
    if (run.imported || run.syncError || run.status !== 'running' || typeof run.stoppedAt === 'number') return false;
    const checked = lastChecked(run.id);
    return checked === null || now - checked >= intervalMs;
  });
}

/** Runs whose agent stopped after their last pass (or that never had one), in the order given. Pure. */
export function runsNeedingFinalPass(
  runs: readonly RunSummary[],
  lastChecked: (id: string) => number | null,
): RunSummary[] {
  return runs.filter((run) => {
    if (run.imported || typeof run.stoppedAt !== 'number') return false;
    // A host the last sync could not reach is not tried from here (the next good sync brings the run back).
    if (run.syncError) return false;
    // A run that never started has nothing to check.
    if (run.status === 'failed' && run.startedAt == null) return false;
    const checked = lastChecked(run.id);
    return checked === null || checked < run.stoppedAt;
  });
}

export class FinalPasses {
  readonly #checked = new Map<string, number>();
  readonly #failedAt = new Map<string, number>();
  #queue: Promise<void> = Promise.resolve();
  #detach: (() => void) | undefined;
  #disposed = false;

  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly options: {
      runsDir: string;
      service: Pick<IntegrityService, 'check'>;
      now?: () => number;
      /** The run list, for the tick that starts live passes between syncs. */
      list?: () => Promise<RunSummary[]>;
    },
  ) {}

  start(events: EventHub): void {
    // A listener, not a peer: it must not count as someone watching (prompts, live monitoring).
    this.#detach = events.listen((event, payload) => {
      if (event === 'runs.changed') void this.consider(payload as RunSummary[]);
    });
    const list = this.options.list;
    if (list) {
      this.#timer = setInterval(
        () =>
          void list().then(
            (runs) => this.consider(runs),
            () => undefined,
          ),
        TICK_MS,
      );
      this.#timer.unref?.();
    }
  }

  async #lastChecked(id: string): Promise<number | null> {
    const known = this.#checked.get(id);
    if (known !== undefined) return known;
    const text = await readFile(path.join(this.options.runsDir, id, ...RECORD_FILE.split('/')), 'utf8').catch(
      () => null,
    );
    if (text === null) return null;
    try {
      const at = (JSON.parse(text) as { checkedAt?: unknown }).checkedAt;
      return typeof at === 'number' ? at : null;
    } catch {
      return null;
    }
  }

  /** Queues a pass for every run that needs one (one pass at a time); resolves when they are queued. */
  async consider(runs: readonly RunSummary[]): Promise<void> {
    const now = (this.options.now ?? Date.now)();
    const known = new Map<string, number | null>();
    for (const run of runs) known.set(run.id, await this.#lastChecked(run.id));
    const lastChecked = (id: string): number | null => known.get(id) ?? null;
    const due = [
      ...runsNeedingFinalPass(runs, lastChecked).map((run) => ({ run, mark: run.stoppedAt! })),
      ...runsNeedingLivePass(runs, lastChecked, now).map((run) => ({ run, mark: now })),
    ];
    for (const { run, mark } of due) {
      const failed = this.#failedAt.get(run.id);
      if (failed !== undefined && now - failed < RETRY_MS) continue;
      // Marked at once so the next runs.changed does not queue it twice.
      this.#checked.set(run.id, mark);
      this.#queue = this.#queue.then(async () => {
        if (this.#disposed) return;
        try {
          await this.options.service.check(run.id);
          this.#failedAt.delete(run.id);
        } catch {
          this.#checked.delete(run.id);
          this.#failedAt.set(run.id, (this.options.now ?? Date.now)());
        }
      });
    }
  }

  /** Waits for the queued passes (tests). */
  idle(): Promise<void> {
    return this.#queue;
  }

  dispose(): void {
    this.#disposed = true;
    this.#detach?.();
    if (this.#timer) clearInterval(this.#timer);
  }
}
