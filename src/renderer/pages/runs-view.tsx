import { useState } from 'react';
import { RunCompareView } from '../leaderboard/run-compare-view';
import { HostsIcon, PlusIcon } from '../shell/icons';
import { EmptyState, ListError, LoadingState, RefreshButton, SectionLayout } from '../shell/section-layout';
import { useNow } from '../shell/use-now';
import { listView } from '../store/list-state';
import { selectedRun } from '../store/slices/runs-slice';
import { useAppStore } from '../store/store-context';
import { PtbImportAction } from '../steps/ptb-import-action';
import { OpenRecordingAction, RecordingView } from '../replay/open-recording-action';
import type { ReplayIndex } from '../../shared/contract-replay';
import { BundleImportAction, ExampleRunButton } from '../runs/bundle-actions';
import { LaunchFormView } from '../runs/launch-form-view';
import { clockTicks } from '../runs/run-clock';
import { RunDetailView } from './run-detail-view';
import { RunList } from '../runs/run-list-view';

export function RunsView() {
  const runs = useAppStore((s) => s.runs);
  const hostCount = useAppStore((s) => s.hosts.items.length);
  const hostsLoaded = useAppStore((s) => s.hosts.loaded);
  const setSection = useAppStore((s) => s.nav.setSection);
  const showHostsPane = useAppStore((s) => s.hosts.showPane);
  const view = listView(runs);
  const current = selectedRun(runs);
  // Countdowns need the clock every second; finished runs only say how long they ran.
  const now = useNow(runs.items.some(clockTicks) ? 1_000 : 30_000);
  const close = () => runs.showPane('detail');
  const launching = runs.pane === 'launch';
  // A recording opened without a run (Open recording…, or the URL of `ptw replay FILE`).
  const [recording, setRecording] = useState<ReplayIndex | null>(null);
  // Compare mode: null when off; else the runs ticked in the list (the two newest ticks are compared).
  const [comparing, setComparing] = useState<string[] | null>(null);
  const toggleCompare = (id: string) =>
    setComparing((list) =>
      list === null ? [id] : list.includes(id) ? list.filter((x) => x !== id) : [...list, id].slice(-2),
    );

  const pane =
    comparing && comparing.length === 2 ? (
      <RunCompareView a={comparing[0]!} b={comparing[1]!} onClose={() => setComparing(null)} />
    ) : comparing ? (
      <p className="muted" data-testid="run-compare-hint">
        Tick two runs in the list to compare them (best: two runs of the same benchmark and base model).
      </p>
    ) : launching ? (
      <LaunchFormView intent={runs.launchIntent} onCancel={close} />
    ) : current ? (
      <RunDetailView key={current.id} run={current} now={now} />
    ) : null;

  const addHost = () => {
    setSection('hosts');
    showHostsPane('add');
  };

  return (
    <SectionLayout
      section="runs"
      title="Runs"
      actions={
        <>
          <RefreshButton testId="refresh-runs" busy={runs.loading} onClick={() => void runs.load()} />
          <button
            type="button"
            className="button"
            data-testid="compare-runs-button"
            aria-pressed={comparing !== null}
            onClick={() => setComparing((c) => (c === null ? [] : null))}
          >
            Compare…
          </button>
          <PtbImportAction />
          <BundleImportAction />
          <OpenRecordingAction onOpen={setRecording} />
          <button
            type="button"
            className="button button-primary button-with-icon"
            data-testid="new-run-button"
            aria-pressed={launching}
            onClick={() => runs.showPane('launch')}
          >
            <PlusIcon />
            New run
          </button>
        </>
      }
    >
      {recording ? <RecordingView index={recording} onClose={() => setRecording(null)} /> : null}
      {runs.error ? (
        <ListError testId="error-runs" what="runs" error={runs.error} onRetry={() => void runs.load()} />
      ) : null}
      {view === 'loading' ? <LoadingState testId="loading-runs" text="Loading runs…" /> : null}
      {view === 'empty' && !launching ? (
        <EmptyState testId="empty-runs" title="No runs yet.">
          <p>
            Start with <strong>Rehearse first</strong>: a 3-minute scripted run on your host that goes through the whole
            pipeline (sandbox, prompt, timer, recording, budget stop, scoring) with no API key. Then launch a real one
            with <strong>New run</strong>.
          </p>
          <div className="empty-actions">
            {hostsLoaded && hostCount === 0 ? (
              <button
                type="button"
                className="button button-primary button-with-icon"
                data-testid="empty-runs-add-host"
                onClick={addHost}
              >
                <HostsIcon />
                Add a host first
              </button>
            ) : null}
            <button
              type="button"
              className={`button button-with-icon${hostCount > 0 ? ' button-primary' : ''}`}
              data-testid="empty-rehearse"
              onClick={() => runs.showPane('launch', 'rehearse')}
            >
              Rehearse first…
            </button>
            <button
              type="button"
              className="button button-with-icon"
              data-testid="empty-new-run"
              onClick={() => runs.showPane('launch')}
            >
              <PlusIcon />
              New run
            </button>
            <ExampleRunButton />
          </div>
        </EmptyState>
      ) : null}
      {view === 'empty' && launching ? <div className="runs-single">{pane}</div> : null}
      {view === 'items' ? (
        // `runs-table` is the id the app-shell e2e test has known the run list by since it was a table.
        <div className="runs-layout" data-testid="runs-table">
          <RunList
            runs={runs.items}
            selected={launching ? null : (current?.id ?? null)}
            now={now}
            onSelect={runs.select}
            {...(comparing ? { checked: comparing, onCheck: toggleCompare } : {})}
          />
          <div className="runs-pane">{pane}</div>
        </div>
      ) : null}
    </SectionLayout>
  );
}
