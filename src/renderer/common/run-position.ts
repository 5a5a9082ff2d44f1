/**
 * The one position a run's views share: "this run, at time t" (epoch ms, the host's clock, as everything in a run's
 * record). The Steps tab and its timeline publish a `seek` when the user picks a step or a moment; a player (the
 * terminal replay) publishes `play` as it advances and follows `seek`s from the others; a chart (GPU) can follow
 * either. Tabs are mounted only while shown, so the last position is kept per run: a view mounted later starts
 * from `currentRunPosition(runId)`.
 *
 *     const stop = subscribeRunPosition(runId, (p) => { if (p.source !== 'replay') player.seek((p.t - startedAt) / 1000) });
 *     publishRunPosition(runId, startedAt + player.time * 1000, 'replay', 'play');
 *
 * Each subscriber gets every position, its own included; it ignores those whose `source` is itself.
 */

export type RunPositionReason = 'seek' | 'play';

export interface RunPosition {
  readonly runId: string;
  /** Epoch ms. */
  readonly t: number;
  /** Who moved it: `steps`, `timeline`, `replay`, `gpu`… */
  readonly source: string;
  readonly reason: RunPositionReason;
  /** The step picked, when a step was (so the list does not pick another step at the same time). */
  readonly stepIndex?: number;
}

type Listener = (position: RunPosition) => void;

const positions = new Map<string, RunPosition>();
const listeners = new Map<string, Set<Listener>>();

export function publishRunPosition(
  runId: string,
  t: number,
  source: string,
  reason: RunPositionReason = 'seek',
  stepIndex?: number,
): void {
  if (!Number.isFinite(t)) return;
  const position: RunPosition = { runId, t, source, reason, ...(stepIndex === undefined ? {} : { stepIndex }) };
  positions.set(runId, position);
  for (const listener of [...(listeners.get(runId) ?? [])]) listener(position);
}

export function currentRunPosition(runId: string): RunPosition | null {
  return positions.get(runId) ?? null;
}

/** Calls `listener` on every position published for `runId` from now on; returns the unsubscribe. */
export function subscribeRunPosition(runId: string, listener: Listener): () => void {
  let set = listeners.get(runId);
  if (!set) listeners.set(runId, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0) listeners.delete(runId);
  };
}

/** How many listeners a run has (tests check that views unsubscribe when they unmount). */
export function runPositionListenerCount(runId: string): number {
  return listeners.get(runId)?.size ?? 0;
}
