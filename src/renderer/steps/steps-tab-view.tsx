import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { RunSummary } from '../../shared/contract';
import type { AgentStep, StepKind } from '../../shared/contract-trajectory';
import { stepAtLine } from '../common/evidence-target';
import type { RunTabProps } from '../common/run-tabs';
import { runTimeline } from '../common/run-timeline';
import { currentRunPosition, publishRunPosition, subscribeRunPosition } from '../common/run-position';
import { useAppStore } from '../store/store-context';
import { PtbRecordPanel } from './ptb-record-panel';
import { StepKindFilter } from './step-kind-filter';
import { StepRow } from './step-row';
import { StepsTimeline } from './steps-timeline';
import { stepAtTime, stepTimeIndex, timelineScale, totalsText } from './step-view-model';
import { useAgentSteps } from './use-agent-steps';

const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/**
 * The Steps tab: what the agent did, from its JSON stream, as an expandable virtualized list (messages, thinking,
 * tool calls with input and output, shell commands and their output, files written, errors, usage), filtered by
 * kind, with token and cost totals; above it the one timeline. Picking a step moves the shared run position
 * (run-position.ts), which the terminal replay follows; the replay's position highlights the step it is at.
 * Everything from the agent is rendered as text.
 */
export function StepsTabView({
  run,
  terminalPlayer,
}: RunTabProps & {
  /** The terminal replay's player, shown beside the steps and following the same run position. */
  terminalPlayer?: (run: RunSummary) => ReactNode;
}) {
  const [kinds, setKinds] = useState<ReadonlySet<StepKind>>(new Set());
  const { page, steps, timeline, error, loadMore, retry } = useAgentSteps(run, kinds);
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  const [selected, setSelected] = useState<number | null>(null);
  const [cursor, setCursor] = useState<number | null>(null);
  const [showTerminal, setShowTerminal] = useState(true);
  const listRef = useRef<HTMLDivElement>(null);

  const scale = useMemo(() => (timeline ? timelineScale(timeline) : null), [timeline]);
  const timeIndex = useMemo(() => (timeline ? stepTimeIndex(timeline.steps) : null), [timeline]);
  const rowOf = useMemo(() => new Map(steps.map((s, i) => [s.index, i])), [steps]);
  const events = useMemo(
    () =>
      timeline
        ? runTimeline({ createdAt: run.createdAt, events: timeline.events, formatTime: (ms) => timeFormat.format(ms) })
        : [],
    [timeline, run.createdAt],
  );

  // The virtualizer is read fresh on every render and handed to nothing memoized, which is what this rule guards.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: steps.length,
    getScrollElement: () => listRef.current,
    estimateSize: () => 34,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const lastItem = items[items.length - 1];
  useEffect(() => {
    if (lastItem && lastItem.index >= steps.length - 20) void loadMore();
  }, [lastItem, steps.length, loadMore]);

  const reveal = useCallback(
    (stepIndex: number) => {
      const row = rowOf.get(stepIndex);
      if (row !== undefined) virtualizer.scrollToIndex(row, { align: 'center' });
    },
    [rowOf, virtualizer],
  );

  // Follow the shared position: the replay playing or seeking, or a position left by another tab (applied once).
  const revealRef = useRef(reveal);
  useEffect(() => {
    revealRef.current = reveal;
  });
  const startApplied = useRef<string | null>(null);
  useEffect(() => {
    if (!scale || scale.mode !== 'time' || !timeIndex) return;
    const follow = (t: number, stepIndex?: number): void => {
      setCursor(t);
      const at = stepIndex ?? stepAtTime(timeIndex, t);
      setSelected(at);
      if (at !== null) revealRef.current(at);
    };
    const start = currentRunPosition(run.id);
    if (start && startApplied.current !== run.id) follow(start.t, start.stepIndex);
    startApplied.current = run.id;
    return subscribeRunPosition(run.id, (p) => {
      if (p.source !== 'steps') follow(p.t, p.stepIndex);
    });
  }, [run.id, scale, timeIndex]);

  const pick = (step: AgentStep): void => {
    setSelected(step.index);
    if (scale?.mode === 'time') {
      if (step.t !== null) {
        setCursor(step.t);
        publishRunPosition(run.id, step.t, 'steps', 'seek', step.index);
      }
    } else setCursor(step.index);
  };

  const toggle = (step: AgentStep): void => {
    pick(step);
    setExpanded((prev) => {
      const next = new Set(prev);
      if (next.has(step.index)) next.delete(step.index);
      else next.add(step.index);
      return next;
    });
  };

  const seekTimeline = (value: number): void => {
    if (!scale) return;
    if (scale.mode === 'time') {
      setCursor(value);
      const at = timeIndex ? stepAtTime(timeIndex, value) : null;
      setSelected(at);
      if (at !== null) reveal(at);
      publishRunPosition(run.id, value, 'steps', 'seek', at ?? undefined);
    } else {
      const index = Math.round(value);
      setCursor(index);
      setSelected(index);
      reveal(index);
    }
  };

  const stepBy = (delta: -1 | 1): void => {
    if (!timeline || timeline.steps.length === 0) return;
    const from = selected ?? (delta > 0 ? -1 : timeline.steps.length);
    const nextIndex = Math.min(timeline.steps.length - 1, Math.max(0, from + delta));
    const mark = timeline.steps[nextIndex]!;
    setSelected(nextIndex);
    reveal(nextIndex);
    if (scale?.mode === 'time') {
      if (mark.t !== null) {
        setCursor(mark.t);
        publishRunPosition(run.id, mark.t, 'steps', 'seek', nextIndex);
      }
    } else setCursor(nextIndex);
  };

  // Evidence opened from the Integrity tab: the step its trace line belongs to, picked, opened and scrolled to
  // (which moves the run position the replay follows). Every kind is shown so the step is not filtered out.
  const evidence = useAppStore((s) =>
    s.nav.evidence?.tab === 'steps' && s.nav.evidence.runId === run.id ? s.nav.evidence : null,
  );
  const evidenceShown = useAppStore((s) => s.nav.evidenceShown);
  const [focus, setFocus] = useState<{ line: number; seq: number; done: boolean } | null>(null);
  if (evidence?.tab === 'steps' && evidence.seq !== focus?.seq) {
    setFocus({ line: evidence.line, seq: evidence.seq, done: false });
    setKinds(new Set());
  }
  useEffect(() => {
    if (evidence) evidenceShown(evidence.seq);
  }, [evidence, evidenceShown]);
  const pickRef = useRef(pick);
  useEffect(() => {
    pickRef.current = pick;
  });
  useEffect(() => {
    if (!focus || focus.done || !page || kinds.size > 0) return;
    const last = steps[steps.length - 1];
    if (steps.length < page.total && (!last || last.line < focus.line)) {
      void loadMore();
      return;
    }
    const at = stepAtLine(steps, focus.line);
    const step = at === null ? undefined : steps.find((s) => s.index === at);
    setFocus({ ...focus, done: true });
    if (!step) return;
    pickRef.current(step);
    setExpanded((prev) => new Set(prev).add(step.index));
    reveal(step.index);
  }, [focus, page, kinds, steps, loadMore, reveal]);

  const toggleKind = (kind: StepKind): void => {
    setKinds((prev) => {
      const next = new Set(prev);
      if (next.has(kind)) next.delete(kind);
      else next.add(kind);
      return next;
    });
    setExpanded(new Set());
  };

  if (error) {
    return (
      <div className="inline-error" role="alert" data-testid="steps-error">
        <span>
          <strong>Could not read the agent’s steps.</strong> {error.message}
        </span>
        <button type="button" className="button" onClick={retry}>
          Retry
        </button>
      </div>
    );
  }
  if (!page || !timeline || !scale) return <p className="muted">Reading the agent’s stream…</p>;

  const totals = page.totals;
  const origin = scale.mode === 'time' ? scale.from : null;
  return (
    <div className="steps-tab" data-testid="steps-tab" data-dialect={page.dialect}>
      {page.ptb ? <PtbRecordPanel record={page.ptb} /> : null}
      <dl className="steps-totals" data-testid="steps-totals">
        {totalsText(totals).map((row) => (
          <div key={row.label} className="steps-total">
            <dt>{row.label}</dt>
            <dd>{row.value}</dd>
          </div>
        ))}
      </dl>

      <StepsTimeline
        data={timeline}
        scale={scale}
        cursor={cursor}
        events={events}
        onSeek={seekTimeline}
        onStep={stepBy}
        selectedStep={selected}
      />

      {timeline.hasTerminal && scale.mode === 'time' && terminalPlayer ? (
        <section className="steps-terminal" aria-label="Terminal at the picked moment">
          <button
            type="button"
            className="button button-quiet"
            aria-expanded={showTerminal}
            data-testid="steps-terminal-toggle"
            onClick={() => setShowTerminal((v) => !v)}
          >
            {showTerminal ? 'Hide the terminal' : 'Show the terminal at this moment'}
          </button>
          {/* The Replay tab's player: it follows the run position a picked step sets, and publishes its own. */}
          {showTerminal ? terminalPlayer?.(run) : null}
        </section>
      ) : null}

      <StepKindFilter
        counts={totals.byKind}
        kinds={kinds}
        onToggle={toggleKind}
        onShowAll={() => setKinds(new Set())}
      />

      {page.dialect === 'none' && totals.steps > 0 ? (
        <p className="muted">No known agent dialect was recognised: every line is shown as it was printed.</p>
      ) : null}
      {steps.length === 0 ? (
        <p className="muted" data-testid="steps-empty">
          {totals.steps === 0 ? 'The agent has printed no JSON stream (yet).' : 'No step of the kinds chosen.'}
        </p>
      ) : (
        <div ref={listRef} className="steps-list" data-testid="steps-list" role="list" aria-label="Agent steps">
          <div className="steps-list-inner" style={{ height: virtualizer.getTotalSize() }}>
            {items.map((item) => {
              const step = steps[item.index]!;
              return (
                <div
                  key={step.index}
                  ref={virtualizer.measureElement}
                  data-index={item.index}
                  className="steps-row-wrap"
                  style={{ transform: `translateY(${item.start}px)` }}
                  role="listitem"
                >
                  <StepRow
                    runId={run.id}
                    step={step}
                    origin={origin}
                    open={expanded.has(step.index)}
                    current={selected === step.index}
                    onToggle={() => toggle(step)}
                  />
                </div>
              );
            })}
          </div>
        </div>
      )}
      {steps.length < page.total ? (
        <p className="muted steps-more">
          {steps.length} of {page.total} loaded; scroll for more.
        </p>
      ) : null}
    </div>
  );
}
