import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AgentStep, RunTimelineData, StepKind, StepsPage } from '../../shared/contract-trajectory';
import type { AppErrorData } from '../../shared/errors';
import { ReplayPlayer } from '../replay/replay-view';
import type { RunTabProps } from '../runs/run-tabs';
import { runTimeline } from '../runs/run-timeline';
import { useAppStoreApi } from '../store/store-context';
import { currentRunPosition, publishRunPosition, subscribeRunPosition } from './run-position';
import { PtbRecordPanel } from './ptb-record-panel';
import { StepsTimeline } from './steps-timeline';
import {
  KIND_LABELS,
  KIND_ORDER,
  offsetLabel,
  stepAtTime,
  stepTimeIndex,
  timelineScale,
  totalsText,
} from './step-view-model';

const PAGE = 1000;
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/**
 * The Steps tab: what the agent did, from its JSON stream, as an expandable virtualized list (messages, thinking,
 * tool calls with input and output, shell commands and their output, files written, errors, usage), filtered by
 * kind, with token and cost totals; above it the one timeline. Picking a step moves the shared run position
 * (run-position.ts), which the terminal replay follows; the replay's position highlights the step it is at.
 * Everything from the agent is rendered as text.
 */
export function StepsTabView({ run }: RunTabProps) {
  const client = useAppStoreApi().client;
  const [kinds, setKinds] = useState<ReadonlySet<StepKind>>(new Set());
  const [page, setPage] = useState<StepsPage | null>(null);
  const [steps, setSteps] = useState<AgentStep[]>([]);
  const [timeline, setTimeline] = useState<RunTimelineData | null>(null);
  const [error, setError] = useState<AppErrorData | null>(null);
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  const [selected, setSelected] = useState<number | null>(null);
  const [cursor, setCursor] = useState<number | null>(null);
  const [reload, setReload] = useState(0);
  const [showTerminal, setShowTerminal] = useState(true);
  const loadingMore = useRef(false);
  const listRef = useRef<HTMLDivElement>(null);
  const kindList = useMemo(() => [...kinds].sort(), [kinds]);
  // A live run syncs every second; its steps are read again at most every 5 s.
  const refreshKey = typeof run.syncedAt === 'number' ? Math.floor(run.syncedAt / 5_000) : 0;
  /** How many steps are loaded, so a refresh keeps them (up to 5000) rather than dropping back to one page. */
  const loaded = useRef({ filter: '', count: 0 });

  // First page (again when the filter changes or the record grows) and the timeline.
  useEffect(() => {
    let cancelled = false;
    const filter = kindList.join(',');
    const limit = loaded.current.filter === filter ? Math.min(5_000, Math.max(PAGE, loaded.current.count)) : PAGE;
    void (async () => {
      const [first, tl] = await Promise.all([
        client.call('trajectory.steps', {
          id: run.id,
          offset: 0,
          limit,
          ...(kindList.length ? { kinds: kindList } : {}),
        }),
        client.call('trajectory.timeline', { id: run.id }),
      ]);
      if (cancelled) return;
      if (!first.ok) return setError(first.error);
      if (!tl.ok) return setError(tl.error);
      setError(null);
      setPage(first.data);
      setSteps(first.data.steps);
      loaded.current = { filter, count: first.data.steps.length };
      setTimeline(tl.data);
    })();
    return () => {
      cancelled = true;
    };
  }, [client, run.id, kindList, refreshKey, reload]);

  const loadMore = useCallback(async () => {
    if (!page || loadingMore.current || steps.length >= page.total) return;
    loadingMore.current = true;
    const next = await client.call('trajectory.steps', {
      id: run.id,
      offset: steps.length,
      limit: PAGE,
      ...(kindList.length ? { kinds: kindList } : {}),
    });
    loadingMore.current = false;
    if (next.ok) {
      setSteps((prev) => {
        if (prev.length !== next.data.offset) return prev;
        const all = [...prev, ...next.data.steps];
        loaded.current = { filter: kindList.join(','), count: all.length };
        return all;
      });
    }
  }, [client, run.id, kindList, page, steps.length]);

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
        <button type="button" className="button" onClick={() => setReload((n) => n + 1)}>
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

      {timeline.hasTerminal && scale.mode === 'time' ? (
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
          {showTerminal ? <ReplayPlayer runId={run.id} runStartedAt={run.startedAt ?? null} /> : null}
        </section>
      ) : null}

      <div className="steps-filter" role="group" aria-label="Show steps of kind">
        {KIND_ORDER.filter((k) => (totals.byKind[k] ?? 0) > 0).map((kind) => (
          <button
            key={kind}
            type="button"
            className={`steps-chip steps-chip-${kind}`}
            aria-pressed={kinds.has(kind)}
            data-testid={`steps-filter-${kind}`}
            onClick={() => toggleKind(kind)}
          >
            {KIND_LABELS[kind]} <span className="muted">{totals.byKind[kind]}</span>
          </button>
        ))}
        {kinds.size > 0 ? (
          <button type="button" className="button button-quiet" onClick={() => setKinds(new Set())}>
            Show all
          </button>
        ) : null}
      </div>

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

function StepRow({
  runId,
  step,
  origin,
  open,
  current,
  onToggle,
}: {
  runId: string;
  step: AgentStep;
  origin: number | null;
  open: boolean;
  current: boolean;
  onToggle: () => void;
}) {
  const when = step.t !== null && origin !== null ? offsetLabel(step.t - origin) : '';
  const status =
    step.status === 'in_progress'
      ? 'no result'
      : step.exitCode !== undefined && step.exitCode !== null
        ? `exit ${step.exitCode}`
        : step.isError
          ? 'error'
          : '';
  return (
    <div
      className={`steps-row steps-row-${step.kind}${current ? ' steps-row-current' : ''}${step.isError ? ' steps-row-error' : ''}`}
      data-testid={`steps-row-${step.index}`}
      data-kind={step.kind}
      data-current={current ? 'true' : 'false'}
    >
      <button type="button" className="steps-row-head" aria-expanded={open} onClick={onToggle}>
        <span className={`steps-kind steps-kind-${step.kind}`}>{KIND_LABELS[step.kind].replace(/s$/, '')}</span>
        <span className="steps-line cell-mono muted" title={`line ${step.line} of the stream`}>
          L{step.line}
        </span>
        <span className="steps-when cell-mono muted">{when}</span>
        <span className="steps-title">{step.title}</span>
        {status ? (
          <span className={`steps-status${step.isError || step.status === 'in_progress' ? ' steps-status-warn' : ''}`}>
            {status}
          </span>
        ) : null}
      </button>
      {open ? step.truncated ? <WholeStep runId={runId} step={step} /> : <StepDetail step={step} /> : null}
    </div>
  );
}

function json(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

/** A step the list page cut: shown as it is at once, then whole once `trajectory.step` answers. */
function WholeStep({ runId, step }: { runId: string; step: AgentStep }) {
  const client = useAppStoreApi().client;
  const [whole, setWhole] = useState<AgentStep | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    void client.call('trajectory.step', { id: runId, index: step.index }).then((r) => {
      if (!live) return;
      if (r.ok) setWhole(r.data);
      else setFailed(r.error.message);
    });
    return () => {
      live = false;
    };
  }, [client, runId, step.index]);
  return (
    <>
      {whole ? null : (
        <p className="muted steps-loading" data-testid={`steps-loading-${step.index}`}>
          {failed ? `Could not read the whole step: ${failed}` : 'Reading the whole step…'}
        </p>
      )}
      <StepDetail step={whole ?? step} />
    </>
  );
}

function StepDetail({ step }: { step: AgentStep }) {
  const blocks: { label: string; text: string }[] = [];
  if (step.command !== undefined) blocks.push({ label: 'Command', text: step.command });
  if (step.files && step.files.length > 0)
    blocks.push({ label: 'Files', text: step.files.map((f) => `${f.action}  ${f.path}`).join('\n') });
  if (step.text !== undefined && step.text !== '')
    blocks.push({ label: step.kind === 'raw' ? 'Line' : 'Text', text: step.text });
  if (step.input !== undefined && step.command === undefined) blocks.push({ label: 'Input', text: json(step.input) });
  if (step.output !== undefined)
    blocks.push({ label: 'Output', text: step.output === null ? '(no result recorded)' : step.output || '(empty)' });
  if (step.usage) {
    blocks.push({
      label: 'Tokens',
      text: `input ${step.usage.inputTokens} (cached ${step.usage.cachedInputTokens}), output ${step.usage.outputTokens}${step.costUsd !== undefined ? `, cost $${step.costUsd}` : ''}`,
    });
  }
  return (
    <div className="steps-detail" data-testid={`steps-detail-${step.index}`}>
      {step.problem ? (
        <p className="steps-problem">
          Line {step.line}: {step.problem}
        </p>
      ) : null}
      {step.endLine ? (
        <p className="muted">
          Lines {step.line}–{step.endLine} of the stream{step.toolId ? ` · id ${step.toolId}` : ''}
        </p>
      ) : null}
      {blocks.map((b) => (
        <section key={b.label} className="steps-block">
          <h4 className="steps-block-label">{b.label}</h4>
          <pre className="steps-pre">{b.text}</pre>
        </section>
      ))}
    </div>
  );
}
