/**
 * Which queued runs of an experiment to move to another host, while the app is open (issue 17; docs/experiments.md,
 * "Moving queued runs"). Pure: the hosts' queues and free GPUs come from `dispatch --status --gpus`, the moves are
 * made by rebalancer.ts.
 *
 * A host whose queue holds more runs than it has free GPUs for (all of them when it is paused) gives its last
 * queued runs of this experiment, those that would wait longest, to hosts of the experiment that have free GPUs and
 * nothing queued, at most as many as those GPUs take. A host that did not answer is neither: its queue cannot be
 * taken from (its dispatcher may be starting them right now, without us), and nothing is sent to it.
 */

export interface RebalanceHost {
  name: string;
  /** It answered with its queue and its GPUs (an nvidia-smi that failed counts as not answering for GPUs). */
  reachable: boolean;
  paused: boolean;
  /** GPUs a new run could start on now (the dispatcher's count: ours held and other people's busy ones left out). */
  freeGpus: number;
  /** Entries waiting in `pending/`, of every experiment (they all take this host's GPUs before a moved one). */
  pending: number;
  /** This experiment's queued cells here that may move (never started, no retry waiting), in queue order. */
  movable: readonly { key: string; entryId: string }[];
}

export interface RebalanceMove {
  key: string;
  entryId: string;
  from: string;
  to: string;
}

export function planRebalance(hosts: readonly RebalanceHost[], gpusPerRun: number): RebalanceMove[] {
  const per = Math.max(1, gpusPerRun);
  const sources = hosts
    .filter((h) => h.reachable && h.movable.length > 0)
    .map((h) => {
      const slots = h.paused ? 0 : Math.floor(h.freeGpus / per);
      const excess = Math.min(h.movable.length, h.pending - slots);
      // The back of the queue first: those would wait longest here.
      return { name: h.name, queue: [...h.movable].slice(h.movable.length - Math.max(0, excess)), excess };
    })
    .filter((s) => s.excess > 0);
  const targets = hosts
    .filter((h) => h.reachable && !h.paused && h.pending === 0)
    .map((h) => ({ name: h.name, slots: Math.floor(h.freeGpus / per) }))
    .filter((t) => t.slots > 0);
  const moves: RebalanceMove[] = [];
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (;;) {
    // The source with the most runs left to give, to the target with the most free room (ties by name).
    const source = [...sources].sort((a, b) => b.queue.length - a.queue.length || byName(a, b))[0];
    const target = [...targets].sort((a, b) => b.slots - a.slots || byName(a, b))[0];
    if (!source || source.queue.length === 0 || !target || target.slots === 0) return moves;
    const cell = source.queue.pop()!;
    target.slots -= 1;
    moves.push({ key: cell.key, entryId: cell.entryId, from: source.name, to: target.name });
  }
}
