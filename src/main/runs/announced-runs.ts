import type { RunSummary } from '../../shared/contract';
import { FINAL_RUN_STATUSES } from '../../shared/runs/run-status';

const FINAL: ReadonlySet<string> = new Set(FINAL_RUN_STATUSES);

/** Newest first, then by id (the order of `runs.list` and `runs.changed`). */
export function newestFirst(list: RunSummary[]): RunSummary[] {
  return list.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}

export interface AnnouncedRunsDeps {
  /** Every run's summary, read afresh (the list as `runs.list` makes it). */
  all(): Promise<RunSummary[]>;
  /** One run's summary; null when its folder is gone. */
  one(id: string): Promise<RunSummary | null>;
  /** The ids of the run folders there are now (one directory read): new and removed folders, whoever made them. */
  ids(): Promise<string[]>;
  announce(list: RunSummary[]): void;
}

/**
 * The run list as last announced (`runs.changed`), patched with the runs whose record changed since instead of
 * summarizing every run again: with 10,000 runs each announcement after a sync used to cost ~5 stats per run. The
 * runs touched (synced, discovered, launched, controlled) are read again, and so is every run not yet final (its
 * summary depends on the clock: whether its supervisor's heartbeat is recent), and so is a folder that appeared or
 * went away (one directory read). A full re-read ({@link announce} with `full`) also picks up what other processes
 * (the CLI) changed inside finished runs' folders. Announcements run one at a time, so two
 * patches never start from the same list.
 */
export class AnnouncedRuns {
  private byId: Map<string, RunSummary> | null = null;
  private order: RunSummary[] = [];
  private readonly touched = new Set<string>();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly deps: AnnouncedRunsDeps) {}

  /** The run's record changed: the next announcement reads it again. */
  touch(id: string): void {
    this.touched.add(id);
  }

  /** Announces the list when it differs from the last one announced; never throws (the next one tries again). */
  announce(options: { full?: boolean } = {}): Promise<void> {
    this.queue = this.queue.then(() => this.once(options.full === true)).catch(() => undefined);
    return this.queue;
  }

  private async once(full: boolean): Promise<void> {
    const ids = [...this.touched];
    this.touched.clear();
    try {
      const previous = this.byId;
      if (full || !previous) {
        const list = await this.deps.all();
        const changed = !previous || list.length !== previous.size || list.some((s) => differs(previous.get(s.id), s));
        this.remember(list);
        if (changed) this.deps.announce(this.order);
        return;
      }
      for (const summary of this.order) if (!FINAL.has(summary.status)) ids.push(summary.id);
      // A folder another process added (a run the CLI launched or imported) or removed is read too: one readdir.
      const present = new Set(await this.deps.ids());
      for (const id of present) if (!previous.has(id)) ids.push(id);
      for (const id of previous.keys()) if (!present.has(id)) ids.push(id);
      const read = await Promise.all([...new Set(ids)].map(async (id) => [id, await this.deps.one(id)] as const));
      let changed = false;
      let reorder = false;
      const next = new Map(previous);
      for (const [id, summary] of read) {
        const before = previous.get(id);
        if (!summary) {
          if (before) {
            next.delete(id);
            changed = reorder = true;
          }
          continue;
        }
        if (!differs(before, summary)) continue;
        changed = true;
        reorder ||= before?.createdAt !== summary.createdAt;
        next.set(id, summary);
      }
      if (!changed) return;
      this.byId = next;
      this.order = reorder ? newestFirst([...next.values()]) : this.order.map((s) => next.get(s.id)!);
      this.deps.announce(this.order);
    } catch (err) {
      for (const id of ids) this.touched.add(id);
      throw err;
    }
  }

  private remember(list: RunSummary[]): void {
    this.byId = new Map(list.map((s) => [s.id, s]));
    this.order = list;
  }
}

function differs(before: RunSummary | undefined, after: RunSummary): boolean {
  return before === undefined || (before !== after && JSON.stringify(before) !== JSON.stringify(after));
}
