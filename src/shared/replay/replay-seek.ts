import type { ReplaySegment } from '../contract-replay';

/**
 * The pure half of seeking and playing an indexed cast: which segment holds a time, which of its events to apply,
 * and how the play clock skips idle gaps. The renderer's controller and the tests share these.
 */

/** The segment whose keyframe is the closest at or before `t`: the last one starting at or before it. */
export function segmentForTime(segments: ReadonlyArray<{ tStart: number }>, t: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segments[mid]!.tStart <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export type TerminalOp = { kind: 'output'; data: string } | { kind: 'resize'; cols: number; rows: number };

/**
 * The terminal operations for the segment's events from index `from` up to and including time `t`, consecutive
 * output joined into one write. Returns them with the index of the first event not applied.
 */
export function segmentOpsUntil(
  segment: Pick<ReplaySegment, 'times' | 'codes' | 'ends' | 'data'>,
  from: number,
  t: number,
): { ops: TerminalOp[]; next: number } {
  const ops: TerminalOp[] = [];
  let runStart = -1;
  let i = from;
  const flush = (end: number) => {
    if (runStart >= 0 && end > runStart) ops.push({ kind: 'output', data: segment.data.slice(runStart, end) });
    runStart = -1;
  };
  for (; i < segment.times.length && segment.times[i]! <= t; i++) {
    const code = segment.codes[i];
    const start = i === 0 ? 0 : segment.ends[i - 1]!;
    const end = segment.ends[i]!;
    if (code === 'o') {
      if (runStart < 0) runStart = start;
    } else {
      flush(start);
      if (code === 'r') {
        const m = /^\s*(\d+)x(\d+)\s*$/.exec(segment.data.slice(start, end));
        if (m) ops.push({ kind: 'resize', cols: Number(m[1]), rows: Number(m[2]) });
      }
    }
  }
  flush(i === 0 ? 0 : segment.ends[i - 1]!);
  return { ops, next: i };
}

/**
 * Moves the play clock by `elapsed` recorded seconds, except that a pause between events longer than
 * `idleLimit` is cut to `idleLimit`: once the clock has idled that long after the last event, it jumps to the
 * next one. `nextEvent` is null at the end.
 */
export function advancePlayClock(
  now: number,
  elapsed: number,
  lastEvent: number,
  nextEvent: number | null,
  idleLimit: number | null,
): number {
  const t = now + elapsed;
  if (idleLimit === null || nextEvent === null || nextEvent - lastEvent <= idleLimit || now >= nextEvent) return t;
  const idleEnd = lastEvent + idleLimit;
  if (t <= idleEnd) return t;
  // The part of this step past the allowed idle time continues from the next event.
  return nextEvent + (t - Math.max(now, idleEnd));
}

/**
 * Where to draw marker ticks on a scrubber: one per `buckets`-th of the duration that holds any (the first marker
 * of each, with how many it stands for), so a 10-hour session with thousands of markers draws at most `buckets`.
 */
export function markerTicks<M extends { t: number }>(
  markers: readonly M[],
  duration: number,
  buckets = 400,
): Array<{ percent: number; marker: M; count: number }> {
  const ticks = new Map<number, { percent: number; marker: M; count: number }>();
  for (const marker of markers) {
    const at = duration > 0 ? Math.min(1, Math.max(0, marker.t / duration)) : 0;
    const bucket = Math.min(buckets - 1, Math.floor(at * buckets));
    const tick = ticks.get(bucket);
    if (tick) tick.count++;
    else ticks.set(bucket, { percent: at * 100, marker, count: 1 });
  }
  return [...ticks.values()];
}
