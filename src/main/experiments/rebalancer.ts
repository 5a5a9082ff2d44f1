import { parseProbe, probeScript, resolveHostPath } from '../runs/host-scripts';
import type { LaunchDeps } from '../runs/run-launcher';
import { moveEntries, moveOut, queueStatus, startDispatcher, type MovedTo, type QueueStatus } from './host-queue';
import { planRebalance, type RebalanceHost, type RebalanceMove } from './rebalance';

/**
 * Moving an experiment's queued runs between its hosts (issue 17; docs/experiments.md, "Moving queued runs"). The
 * decision is rebalance.ts; this is the doing, in an order that can never start a run twice, whichever app instances
 * move at once and wherever one of them dies:
 *
 * 1. the replacement is queued on the new host in `held/`, where no dispatcher looks;
 * 2. the run is given away on its host (`dispatch --move-out`): a rename out of `pending/` that the dispatcher's
 *    claim races (the run starts there or leaves, never both), then a pointer to one replacement created with
 *    O_EXCL (of two movers, one names it; the other drops its own);
 * 3. the named replacement, and only it, is activated (held -> pending) and the host's dispatcher started;
 * 4. the record here follows the pointer: the cell keeps its key, with a new host and run id.
 *
 * A mover that dies after 2 leaves a pointer: the next pass (or `get`) follows it and finishes 3 and 4. The hosts'
 * pointers are the truth; the record is what was learned of them.
 */

/** A cell of the experiment's record, as far as moves go. */
export interface MovableCell {
  key: string;
  host: string;
  entryId: string;
  /** Where it was before, oldest first. */
  moves?: { from: string; fromEntryId: string; to: string; at: string }[] | undefined;
}

export interface MovableRecord {
  hosts: Record<string, { runRoot: string }>;
  cells: MovableCell[];
}

/** A held replacement a pointer names, still to be activated on its host. */
export interface HeldTarget {
  host: string;
  runRoot: string;
  entryId: string;
}

/**
 * Follows each cell's pointers through the hosts' statuses (a moved entry names its replacement): the cell takes
 * its replacement's host and entry, the host joins the record. Also lists the replacements still held (a move
 * left before its step 3). Pure; mutates `record`; `true` in `changed` when it did.
 */
export function followMoves(
  record: MovableRecord,
  statuses: ReadonlyMap<string, QueueStatus | null | undefined>,
  now: Date = new Date(),
): { changed: boolean; held: HeldTarget[] } {
  let changed = false;
  const held: HeldTarget[] = [];
  for (const cell of record.cells) {
    for (let hop = 0; hop < 20; hop++) {
      const entry = statuses.get(cell.host)?.entries.find((e) => e.id === cell.entryId);
      if (entry?.state === 'held')
        held.push({ host: cell.host, runRoot: record.hosts[cell.host]!.runRoot, entryId: entry.id });
      if (entry?.state !== 'moved' || !entry.movedTo) break;
      const to: MovedTo = entry.movedTo;
      cell.moves = [
        ...(cell.moves ?? []),
        { from: cell.host, fromEntryId: cell.entryId, to: to.host, at: now.toISOString() },
      ];
      cell.host = to.host;
      cell.entryId = to.entryId;
      record.hosts[to.host] ??= { runRoot: to.runRoot };
      changed = true;
    }
  }
  return { changed, held };
}

/** How long a held replacement may wait for its move before it counts as left behind by a mover that died. */
export const STRAY_AFTER_MS = 10 * 60_000;

/**
 * Replacements of this experiment held on its hosts that no cell leads to (after followMoves) and older than
 * {@link STRAY_AFTER_MS}: a mover died between queuing one and giving the run away, or its host's move-out failed.
 * They never ran and never will; dropping them removes their keys. Only when every host answered: a pointer on a
 * host that did not could name one. Pure.
 */
export function strayReplacements(
  record: MovableRecord,
  experimentId: string,
  statuses: ReadonlyMap<string, QueueStatus | null | undefined>,
  now: number,
): HeldTarget[] {
  if ([...statuses.values()].some((s) => !s)) return [];
  const positions = new Set(record.cells.map((c) => `${c.host}\0${c.entryId}`));
  return [...statuses].flatMap(([host, status]) =>
    (status?.entries ?? [])
      .filter((e) => e.state === 'held' && e.experimentId === experimentId && !positions.has(`${host}\0${e.id}`))
      .filter((e) => e.enqueuedAt !== undefined && now - e.enqueuedAt > STRAY_AFTER_MS)
      .map((e) => ({ host, runRoot: record.hosts[host]?.runRoot ?? status!.root, entryId: e.id })),
  );
}

/** Queue order on a host: higher priority first, then first queued first (as run_queue.pending sorts). */
function queueOrder(a: QueueStatus['entries'][number], b: QueueStatus['entries'][number]): number {
  return (
    (b.priority ?? 0) - (a.priority ?? 0) ||
    (a.enqueuedAt ?? 0) - (b.enqueuedAt ?? 0) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** What planRebalance needs of each host, from its status (null: it did not answer). */
export function rebalanceHosts(
  record: MovableRecord,
  statuses: ReadonlyMap<string, QueueStatus | null | undefined>,
): RebalanceHost[] {
  return [...statuses].map(([name, status]) => {
    if (!status || !status.gpus || status.gpus.error) {
      return { name, reachable: false, paused: false, freeGpus: 0, pending: 0, movable: [] };
    }
    const ours = new Map(record.cells.filter((c) => c.host === name).map((c) => [c.entryId, c.key]));
    const pending = status.entries.filter((e) => e.state === 'pending').sort(queueOrder);
    // A replacement held here is a run arriving (another app instance is moving it): it counts as queued.
    const arriving = status.entries.filter((e) => e.state === 'held').length;
    return {
      name,
      reachable: true,
      paused: status.paused !== null,
      freeGpus: status.gpus.free.length,
      pending: pending.length + arriving,
      movable: pending
        .filter((e) => ours.has(e.id) && e.attempts.length === 0)
        .map((e) => ({ key: ours.get(e.id)!, entryId: e.id })),
    };
  });
}

export interface RebalanceIo {
  /** `dispatch --status --gpus` of a host of the experiment; throws when it cannot be asked. */
  status(host: string, runRoot: string): Promise<QueueStatus>;
  /** The run root of a host of the matrix that holds none of its runs yet. */
  runRoot(host: string): Promise<string>;
  /** Queues the cell's run on `host` in `held/`. */
  enqueueHeld(cellKey: string, host: string): Promise<{ runId: string; runRoot: string }>;
  moveOut(host: string, runRoot: string, entryId: string, to: MovedTo): Promise<MovedTo | null>;
  held(host: string, runRoot: string, change: { activate?: string[]; drop?: string[] }): Promise<string[]>;
  drain(host: string, runRoot: string): Promise<void>;
}

export interface RebalanceOutcome {
  moved: { key: string; from: string; fromRunId: string; to: string; runId: string }[];
  /** Moves decided but not made, and hosts that could not be asked, with why. */
  notes: string[];
  /** This experiment's runs still queued on the hosts that answered (after the moves). */
  queued: number;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * One pass over an experiment: reads its hosts (those of the matrix that take SSH queues), finishes moves left
 * half done, then makes the moves planRebalance decides. Mutates `record` (the caller saves it).
 */
export async function rebalanceExperiment(
  record: MovableRecord,
  options: { id: string; hosts: readonly string[]; gpusPerRun: number },
  io: RebalanceIo,
): Promise<RebalanceOutcome> {
  const outcome: RebalanceOutcome = { moved: [], notes: [], queued: 0 };
  const statuses = new Map<string, QueueStatus | null>();
  const runRoots = new Map(Object.entries(record.hosts).map(([h, v]) => [h, v.runRoot]));
  await Promise.all(
    options.hosts.map(async (host) => {
      try {
        const runRoot = runRoots.get(host) ?? (await io.runRoot(host));
        runRoots.set(host, runRoot);
        statuses.set(host, await io.status(host, runRoot));
      } catch (err) {
        statuses.set(host, null);
        outcome.notes.push(`${host} could not be asked (${errorText(err)}); its queued runs stay there`);
      }
    }),
  );

  // A move another pass left after its pointer: activate the replacement the pointer names.
  const before = new Map(record.cells.map((c) => [c.key, { host: c.host, entryId: c.entryId }]));
  const { held } = followMoves(record, statuses);
  for (const target of held) {
    await io.held(target.host, target.runRoot, { activate: [target.entryId] }).catch((err: unknown) => {
      outcome.notes.push(`finishing the move to ${target.host} failed: ${errorText(err)}`);
    });
    await io.drain(target.host, target.runRoot).catch(() => undefined);
  }
  for (const stray of strayReplacements(record, options.id, statuses, Date.now())) {
    await io.held(stray.host, stray.runRoot, { drop: [stray.entryId] }).catch((err: unknown) => {
      outcome.notes.push(`dropping a replacement left on ${stray.host} failed: ${errorText(err)}`);
    });
  }
  for (const cell of record.cells) {
    const was = before.get(cell.key)!;
    if (was.host !== cell.host || was.entryId !== cell.entryId) {
      outcome.moved.push({ key: cell.key, from: was.host, fromRunId: was.entryId, to: cell.host, runId: cell.entryId });
    }
  }

  const hosts = rebalanceHosts(record, statuses);
  outcome.queued = hosts.reduce((n, h) => n + h.movable.length, 0);
  const moves = planRebalance(hosts, options.gpusPerRun);
  const drained = new Set<string>();
  for (const move of moves) {
    try {
      const made = await moveOne(record, move, runRoots.get(move.from)!, io);
      if (!made) {
        outcome.notes.push(`${move.key}: claimed on ${move.from} before it could move; it runs there`);
        continue;
      }
      outcome.moved.push({
        key: move.key,
        from: move.from,
        fromRunId: move.entryId,
        to: made.host,
        runId: made.entryId,
      });
      if (!drained.has(made.host)) {
        drained.add(made.host);
        await io.drain(made.host, made.runRoot);
      }
    } catch (err) {
      outcome.notes.push(`${move.key}: moving it from ${move.from} to ${move.to} failed: ${errorText(err)}`);
    }
  }
  return outcome;
}

async function moveOne(record: MovableRecord, move: RebalanceMove, fromRoot: string, io: RebalanceIo) {
  const replacement = await io.enqueueHeld(move.key, move.to);
  const mine: MovedTo = { host: move.to, entryId: replacement.runId, runRoot: replacement.runRoot };
  // If this throws, whether the host took it is unknown: the replacement stays held (never started) unless the
  // pointer names it, which the next pass follows.
  const named = await io.moveOut(move.from, fromRoot, move.entryId, mine);
  if (!named || named.entryId !== mine.entryId || named.host !== mine.host) {
    // It was claimed where it was, or another app instance's replacement won: ours never runs.
    await io.held(mine.host, mine.runRoot, { drop: [mine.entryId] }).catch(() => undefined);
  }
  if (!named) return null;
  await io.held(named.host, named.runRoot, { activate: [named.entryId] });
  const cell = record.cells.find((c) => c.key === move.key && c.entryId === move.entryId);
  if (cell) {
    cell.moves = [
      ...(cell.moves ?? []),
      { from: cell.host, fromEntryId: cell.entryId, to: named.host, at: new Date().toISOString() },
    ];
    cell.host = named.host;
    cell.entryId = named.entryId;
  }
  record.hosts[named.host] ??= { runRoot: named.runRoot };
  return named;
}

/** The doing, over SSH, for hosts whose queue is the dispatcher's. */
export function sshRebalanceIo(
  launch: LaunchDeps,
  options: { tickSeconds?: number; enqueueHeld: RebalanceIo['enqueueHeld'] },
): RebalanceIo {
  const at = (host: string, runRoot: string) => ({ host, runRoot, resourcesDir: launch.resourcesDir });
  return {
    status: async (host, runRoot) => queueStatus(await launch.session(host), at(host, runRoot), { gpus: true }),
    runRoot: async (host) => {
      const session = await launch.session(host);
      const probe = parseProbe((await session.exec(probeScript(), { timeoutMs: 60_000 })).stdout);
      if (!probe.home) throw new Error(`${host} did not say what HOME is`);
      return resolveHostPath((await launch.profile(host)).runRoot, probe.home);
    },
    enqueueHeld: options.enqueueHeld,
    moveOut: async (host, runRoot, entryId, to) => moveOut(await launch.session(host), at(host, runRoot), entryId, to),
    held: async (host, runRoot, change) => moveEntries(await launch.session(host), at(host, runRoot), change),
    drain: async (host, runRoot) =>
      startDispatcher(await launch.session(host), {
        ...at(host, runRoot),
        ...(options.tickSeconds ? { tickSeconds: options.tickSeconds } : {}),
      }),
  };
}
