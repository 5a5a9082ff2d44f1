import { useMemo, useRef, type KeyboardEvent, type PointerEvent } from 'react';
import type { RunTimelineData, StepKind } from '../../shared/contract-trajectory';
import type { TimelineEntry } from '../common/run-timeline';
import { fractionOf, KIND_ORDER, offsetLabel, valueAt, type TimelineScale } from './step-view-model';

const W = 1000;
const STEP_H = 24;
const GPU_H = 28;

/**
 * The one scrubber: the agent's steps (a tick per step, by kind), GPU utilisation, the budget (deadline and the
 * warnings) and lifecycle / intervention events on one time axis, with the shared position as a cursor. Clicking or
 * dragging anywhere seeks; arrow keys go to the previous / next step.
 */
export function StepsTimeline({
  data,
  scale,
  cursor,
  events,
  onSeek,
  onStep,
  selectedStep,
}: {
  data: RunTimelineData;
  scale: TimelineScale;
  /** Where the cursor is, in the scale's units (epoch ms, or a step number in sequence mode); null: nowhere yet. */
  cursor: number | null;
  events: readonly TimelineEntry[];
  onSeek: (value: number) => void;
  /** Step to the previous (-1) or next (+1) step. */
  onStep: (delta: -1 | 1) => void;
  selectedStep: number | null;
}) {
  const area = useRef<HTMLDivElement>(null);
  const dragging = useRef(false);
  const timeMode = scale.mode === 'time';

  const stepPaths = useMemo(() => {
    const byKind = new Map<StepKind, string[]>();
    for (const s of data.steps) {
      const v = timeMode ? s.t : s.index;
      if (v === null) continue;
      const x = (fractionOf(scale, v) * W).toFixed(1);
      const list = byKind.get(s.kind) ?? [];
      list.push(`M${x} 2V${STEP_H - 2}`);
      byKind.set(s.kind, list);
    }
    return KIND_ORDER.filter((k) => byKind.has(k)).map((k) => ({ kind: k, d: byKind.get(k)!.join('') }));
  }, [data.steps, scale, timeMode]);

  const gpuPoints = useMemo(() => {
    if (!timeMode || data.gpu.length === 0) return null;
    const pts = data.gpu.map(
      (g) => `${(fractionOf(scale, g.t) * W).toFixed(1)},${(GPU_H - (g.utilization / 100) * (GPU_H - 2)).toFixed(1)}`,
    );
    const first = fractionOf(scale, data.gpu[0]!.t) * W;
    const last = fractionOf(scale, data.gpu[data.gpu.length - 1]!.t) * W;
    return `${first.toFixed(1)},${GPU_H} ${pts.join(' ')} ${last.toFixed(1)},${GPU_H}`;
  }, [data.gpu, scale, timeMode]);

  const seekAt = (clientX: number): void => {
    const rect = area.current?.getBoundingClientRect();
    if (!rect || rect.width === 0) return;
    onSeek(valueAt(scale, (clientX - rect.left) / rect.width));
  };
  const onPointerDown = (e: PointerEvent<HTMLDivElement>): void => {
    dragging.current = true;
    e.currentTarget.setPointerCapture(e.pointerId);
    seekAt(e.clientX);
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>): void => {
    if (dragging.current) seekAt(e.clientX);
  };
  const onPointerUp = (e: PointerEvent<HTMLDivElement>): void => {
    dragging.current = false;
    if (e.currentTarget.hasPointerCapture(e.pointerId)) e.currentTarget.releasePointerCapture(e.pointerId);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') onStep(-1);
    else if (e.key === 'ArrowRight' || e.key === 'ArrowDown') onStep(1);
    else return;
    e.preventDefault();
  };

  const pct = (v: number) => `${(fractionOf(scale, v) * 100).toFixed(3)}%`;
  const cursorLabel =
    cursor === null ? 'no position' : timeMode ? offsetLabel(cursor - scale.from) : `step ${Math.round(cursor) + 1}`;

  return (
    <div className="steps-timeline" data-testid="steps-timeline" data-mode={scale.mode}>
      <div className="steps-timeline-legend muted">
        {timeMode ? (
          <>
            <span>{offsetLabel(0)}</span>
            <span>steps{gpuPoints ? ' · GPU' : ''} · budget · events</span>
            <span>{offsetLabel(scale.to - scale.from)}</span>
          </>
        ) : (
          <span>
            No line of this trace has a time: steps are laid out in order, and there is nothing to seek the terminal to.
          </span>
        )}
      </div>
      <div
        ref={area}
        className="steps-timeline-area"
        role="slider"
        tabIndex={0}
        aria-label="Run timeline"
        aria-valuemin={scale.from}
        aria-valuemax={scale.to}
        aria-valuenow={cursor ?? scale.from}
        aria-valuetext={cursorLabel}
        data-testid="steps-timeline-area"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onKeyDown={onKeyDown}
      >
        <svg
          className="steps-lane steps-lane-steps"
          viewBox={`0 0 ${W} ${STEP_H}`}
          preserveAspectRatio="none"
          aria-hidden="true"
        >
          {stepPaths.map((p) => (
            <path
              key={p.kind}
              d={p.d}
              className={`steps-tick steps-tick-${p.kind}`}
              vectorEffect="non-scaling-stroke"
            />
          ))}
        </svg>
        {timeMode ? (
          <>
            {gpuPoints ? (
              <svg
                className="steps-lane steps-lane-gpu"
                viewBox={`0 0 ${W} ${GPU_H}`}
                preserveAspectRatio="none"
                aria-hidden="true"
              >
                <polygon points={gpuPoints} className="steps-gpu-area" />
              </svg>
            ) : null}
            <div className="steps-lane steps-lane-marks" aria-hidden="true">
              {data.deadline !== null ? (
                <span
                  className="steps-mark steps-mark-deadline"
                  style={{ left: pct(data.deadline) }}
                  title="deadline"
                />
              ) : null}
              {data.warnings.map((w, i) => (
                <span
                  key={`w${i}`}
                  className="steps-mark steps-mark-warning"
                  style={{ left: pct(w.t) }}
                  title={`budget warning: ${Math.round(w.secondsLeft / 60)} min left`}
                />
              ))}
              {events.map((e) => (
                <span
                  key={e.key}
                  className={`steps-mark steps-mark-event steps-mark-${e.tone}${e.kind === 'intervention' ? ' steps-mark-intervention' : ''}`}
                  style={{ left: pct(e.t) }}
                  title={`${e.title}${e.detail ? ` (${e.detail})` : ''}`}
                  data-testid={`steps-event-${e.kind}`}
                />
              ))}
            </div>
          </>
        ) : null}
        {cursor !== null ? (
          <span
            className="steps-cursor"
            style={{ left: pct(cursor) }}
            data-testid="steps-cursor"
            data-value={String(cursor)}
            data-step={selectedStep === null ? '' : String(selectedStep)}
          />
        ) : null}
      </div>
      <div className="steps-timeline-position muted" data-testid="steps-timeline-position">
        {cursorLabel}
      </div>
    </div>
  );
}
