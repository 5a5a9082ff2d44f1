import { useEffect } from 'react';
import { runNotifications, type RunNotification, type RunWatchFacts } from '../../shared/monitor/run-notifications';
import type { AppStore } from '../store/app-store';
import { useAppStoreApi } from '../store/store-context';

/**
 * Desktop notifications, one per transition (decided by the pure `runNotifications`) from the runs list and the
 * monitor slice, plus one per run that an integrity pass flags (issue 13). Returns its dispose.
 */
export function watchRunNotifications(app: AppStore): () => void {
  const { notifier } = app;
  let previous: Map<string, RunWatchFacts> | null = null;
  const sent = new Set<string>();
  const openRun = (runId: string) => () => {
    const state = app.getState();
    state.nav.setSection('runs');
    state.runs.select(runId);
  };

  const check = (): void => {
    const { runs, monitor } = app.getState();
    if (!runs.loaded || !monitor.loaded) return;
    const facts: RunWatchFacts[] = runs.items.map((r) => ({
      id: r.id,
      label: r.label,
      status: r.status,
      stoppedAt: r.stoppedAt ?? null,
      stopReason: r.stopReason ?? null,
      score: r.score ?? null,
      error: r.error ?? null,
      gpuIdle: monitor.runs.get(r.id)?.idle ?? null,
      budgetWarning: monitor.runs.get(r.id)?.warnings.at(-1) ?? null,
    }));
    if (previous !== null) {
      const due = runNotifications(previous, facts, sent);
      for (const n of due) {
        sent.add(n.key);
        notifier.show(n, openRun(n.runId));
      }
      if (due.length > 0) app.getState().monitor.addShown(due);
    }
    previous = new Map(facts.map((f) => [f.id, f]));
  };

  // An integrity pass (live or final) that flags a run: once per run and window.
  const integrityFlag = (runId: string): void => {
    const key = `integrity-flag:${runId}`;
    if (sent.has(key)) return;
    sent.add(key);
    const label = app.getState().runs.items.find((r) => r.id === runId)?.label ?? runId;
    const n: RunNotification = {
      key,
      kind: 'integrity-flag',
      runId,
      title: `Integrity flag: ${label}`,
      body: 'The integrity checks flagged this run; its Integrity tab has the evidence.',
    };
    notifier.show(n, openRun(runId));
    app.getState().monitor.addShown([n]);
  };

  const unsubscribe = [
    app.client.on('integrity.changed', (p) => {
      if (p.verdict === 'flagged') integrityFlag(p.runId);
    }),
    app.subscribe((state, before) => {
      if (
        state.runs.items !== before.runs.items ||
        state.runs.loaded !== before.runs.loaded ||
        state.monitor.runs !== before.monitor.runs ||
        state.monitor.loaded !== before.monitor.loaded
      )
        check();
    }),
  ];
  check();
  return () => unsubscribe.splice(0).forEach((u) => u());
}

/** Watches for notifications for the window; renders nothing. Mounted once at the app's root. */
export function RunNotifications(): null {
  const store = useAppStoreApi();
  useEffect(() => watchRunNotifications(store), [store]);
  return null;
}
