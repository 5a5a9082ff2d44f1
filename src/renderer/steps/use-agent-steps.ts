import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { RunSummary } from '../../shared/contract';
import type { AgentStep, StepKind, StepsPage } from '../../shared/contract-trajectory';
import type { AppErrorData } from '../../shared/errors';
import { useAppStore } from '../store/store-context';
import { useQuery } from '../store/use-query';

const PAGE = 1000;
/** A refresh keeps the steps already loaded, up to this many, rather than dropping back to one page. */
const MAX_KEPT = 5_000;

/**
 * A run's agent steps (filtered by kind) and its timeline. The timeline is a cached read; the steps list grows by
 * pages as the list scrolls, so its pages are fetched on demand through the store's `run` and kept here.
 * A live run syncs every second; its steps are read again at most every 5 s.
 */
export function useAgentSteps(run: RunSummary, kinds: ReadonlySet<StepKind>) {
  const runCommand = useAppStore((s) => s.queries.run);
  const refreshKey = typeof run.syncedAt === 'number' ? Math.floor(run.syncedAt / 5_000) : 0;
  const timelineQuery = useQuery('trajectory.timeline', { id: run.id }, { refetchWhen: refreshKey });
  const [page, setPage] = useState<StepsPage | null>(null);
  const [steps, setSteps] = useState<AgentStep[]>([]);
  const [stepsError, setStepsError] = useState<AppErrorData | null>(null);
  const [reloads, setReloads] = useState(0);
  const loadingMore = useRef(false);
  const kindList = useMemo(() => [...kinds].sort(), [kinds]);
  const loaded = useRef({ filter: '', count: 0 });

  // First page (again when the filter changes or the record grows).
  useEffect(() => {
    let cancelled = false;
    const filter = kindList.join(',');
    const limit = loaded.current.filter === filter ? Math.min(MAX_KEPT, Math.max(PAGE, loaded.current.count)) : PAGE;
    void runCommand('trajectory.steps', {
      id: run.id,
      offset: 0,
      limit,
      ...(kindList.length ? { kinds: kindList } : {}),
    }).then((first) => {
      if (cancelled) return;
      if (!first.ok) return setStepsError(first.error);
      setStepsError(null);
      setPage(first.data);
      setSteps(first.data.steps);
      loaded.current = { filter, count: first.data.steps.length };
    });
    return () => {
      cancelled = true;
    };
  }, [runCommand, run.id, kindList, refreshKey, reloads]);

  const loadMore = useCallback(async () => {
    if (!page || loadingMore.current || steps.length >= page.total) return;
    loadingMore.current = true;
    const next = await runCommand('trajectory.steps', {
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
  }, [runCommand, run.id, kindList, page, steps.length]);

  const reloadTimeline = timelineQuery.reload;
  const retry = useCallback(() => {
    setReloads((n) => n + 1);
    void reloadTimeline();
  }, [reloadTimeline]);

  return {
    page,
    steps,
    timeline: timelineQuery.data ?? null,
    error: stepsError ?? timelineQuery.error,
    loadMore,
    retry,
  };
}
