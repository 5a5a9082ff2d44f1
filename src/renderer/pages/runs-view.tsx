import { useMemo, useState } from 'react';
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
import { RunListToolbar } from '../runs/run-list-toolbar';
import { RunSelectionBar } from '../runs/run-selection-bar';
import { RunTable } from '../runs/run-table-view';
import { CARDS_SHOWN_MAX, filterRuns, runTableRows, shownLayout } from '../common/run-query';
import { sortRunsNewestFirst } from '../common/run-order';

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
  const table = shownLayout(runs.layout, runs.items.length) === 'table';
  // Derived views of the list (issue 17): the table's rows (filtered, sorted, grouped) or the cards (filtered).
  const rows = useMemo(() => (table ? runTableRows(runs.items, runs.query) : null), [table, runs.items, runs.query]);
  // Cards past a few hundred cost seconds to lay out: the newest are shown, and the table has them all.
  const cards = useMemo(
    () => (table ? null : sortRunsNewestFirst(filterRuns(runs.items, runs.query)).slice(0, CARDS_SHOWN_MAX)),
    [table, runs.items, runs.query],
  );
  const shownCount = useMemo(
    () => (rows ? rows.filter((row) => row.kind === 'run').length : filterRuns(runs.items, runs.query).length),
    [rows, runs.items, runs.query],
  );
  // The runs ticked in the table, for the actions on several (stop, export, compare two).
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set());
  const pick = (id: string) =>
    setPicked((set) => {
      const next = new Set(set);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  const pickAll = () => {
    const shown = (rows ?? []).flatMap((row) => (row.kind === 'run' ? [row.run.id] : []));
    setPicked((set) => (shown.length > 0 && shown.every((id) => set.has(id)) ? new Set() : new Set(shown)));
  };
  const pickedRuns = runs.items.filter((run) => picked.has(run.id));
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
        {table ? 'Tick two runs in the table, then Compare two' : 'Tick two runs in the list to compare them'} (best:
        two runs of the same benchmark and base model).
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
            onClick={() =>
              // In the table, two runs already ticked are compared at once.
              setComparing((c) => (c !== null ? null : table && picked.size === 2 ? [...picked] : []))
            }
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
        <div className={table ? 'runs-layout runs-layout-table' : 'runs-layout'} data-testid="runs-table">
          <div className="runs-list-column">
            <RunListToolbar
              runs={runs.items}
              query={runs.query}
              shown={shownCount}
              layout={runs.layout}
              table={table}
              onQuery={runs.setQuery}
              onLayout={runs.setLayout}
            />
            {rows ? (
              <>
                {pickedRuns.length > 0 ? (
                  <RunSelectionBar
                    picked={pickedRuns}
                    onCompare={(a, b) => setComparing([a, b])}
                    onClear={() => setPicked(new Set())}
                  />
                ) : null}
                <RunTable
                  rows={rows}
                  sort={runs.query.sort}
                  selected={launching ? null : (current?.id ?? null)}
                  picked={picked}
                  onSort={(sort) => runs.setQuery({ sort })}
                  onSelect={runs.select}
                  onPick={pick}
                  onPickAll={pickAll}
                />
              </>
            ) : (
              <>
                {shownCount > CARDS_SHOWN_MAX ? (
                  <p className="muted run-cards-more" data-testid="run-cards-more">
                    The newest {CARDS_SHOWN_MAX} of {shownCount}: the table shows them all.
                  </p>
                ) : null}
                <RunList
                  runs={cards ?? []}
                  selected={launching ? null : (current?.id ?? null)}
                  now={now}
                  onSelect={runs.select}
                  {...(comparing ? { checked: comparing, onCheck: toggleCompare } : {})}
                />
              </>
            )}
          </div>
          <div className="runs-pane">{pane}</div>
        </div>
      ) : null}
    </SectionLayout>
  );
}
