import type { RunTimelineData, StepKind, StepTotals } from '../../shared/contract-trajectory';

/** Pure derivations for the Steps tab and its timeline (unit-tested; the components only draw them). */

export const KIND_LABELS: Record<StepKind, string> = {
  message: 'Messages',
  thinking: 'Thinking',
  tool: 'Tool calls',
  shell: 'Shell',
  file: 'Files',
  error: 'Errors',
  usage: 'Usage',
  system: 'System',
  raw: 'Raw lines',
};

export const KIND_ORDER: readonly StepKind[] = [
  'message',
  'thinking',
  'shell',
  'tool',
  'file',
  'error',
  'usage',
  'system',
  'raw',
];

/** `20976581` → `20.98 M`. */
export function formatCount(n: number): string {
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(2)} M`;
  if (n >= 10_000) return `${(n / 1_000).toFixed(1)} k`;
  return n.toLocaleString('en');
}

export function totalsText(t: StepTotals): { label: string; value: string }[] {
  const rows = [
    { label: 'Steps', value: formatCount(t.steps) },
    {
      label: 'Tool calls',
      value: `${formatCount(t.toolCalls)}${t.unfinishedCalls > 0 ? ` (${t.unfinishedCalls} without a result)` : ''}`,
    },
    {
      label: 'Input tokens',
      value: `${formatCount(t.inputTokens)}${t.cachedInputTokens > 0 ? ` (${formatCount(t.cachedInputTokens)} cached)` : ''}`,
    },
    { label: 'Output tokens', value: formatCount(t.outputTokens) },
    { label: 'Cost', value: t.costUsd === null ? 'not reported' : `$${t.costUsd.toFixed(2)}` },
  ];
  if (t.rawLines > 0) rows.push({ label: 'Raw lines', value: formatCount(t.rawLines) });
  return rows;
}

/** Steps with a time, sorted by it, for "which step was the agent at, at time t". */
export interface StepTimeIndex {
  readonly times: Float64Array;
  readonly indices: Int32Array;
}

export function stepTimeIndex(steps: RunTimelineData['steps']): StepTimeIndex {
  const timed = steps.filter((s): s is { index: number; t: number; kind: StepKind } => s.t !== null);
  timed.sort((a, b) => a.t - b.t || a.index - b.index);
  return { times: Float64Array.from(timed.map((s) => s.t)), indices: Int32Array.from(timed.map((s) => s.index)) };
}

/** The step in progress at `t`: the last one that started at or before it; null before the first. */
export function stepAtTime(index: StepTimeIndex, t: number): number | null {
  let lo = 0;
  let hi = index.times.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (index.times[mid]! <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found < 0 ? null : index.indices[found]!;
}

/**
 * Where the scrubber puts things. `time`: from the run's start to its end (or deadline, whichever is later), for
 * runs whose steps have times. `sequence`: by step number, when nothing says when steps happened (a trace without
 * timestamps); then only steps are drawn.
 */
export type TimelineScale = { mode: 'time'; from: number; to: number } | { mode: 'sequence'; from: 0; to: number };

export function timelineScale(data: RunTimelineData): TimelineScale {
  const timed = data.steps.some((s) => s.t !== null);
  if (timed && data.start !== null) {
    let from = data.start;
    let to = data.start + 1000;
    for (const t of [data.end, data.deadline]) if (t !== null && t > to) to = t;
    // A loop, not Math.min(...steps): a long run has more steps than a call takes arguments.
    for (const s of data.steps) {
      if (s.t === null) continue;
      if (s.t < from) from = s.t;
      if (s.t > to) to = s.t;
    }
    return { mode: 'time', from, to };
  }
  return { mode: 'sequence', from: 0, to: Math.max(1, data.steps.length - 1) };
}

/** 0..1 along the scrubber; clamped. */
export function fractionOf(scale: TimelineScale, value: number): number {
  const span = scale.to - scale.from;
  if (span <= 0) return 0;
  return Math.min(1, Math.max(0, (value - scale.from) / span));
}

/** The value at a fraction of the scrubber (the inverse of {@link fractionOf}). */
export function valueAt(scale: TimelineScale, fraction: number): number {
  return scale.from + Math.min(1, Math.max(0, fraction)) * (scale.to - scale.from);
}

/** `+1:02:03` from the start. */
export function offsetLabel(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `+${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}
