import { memo, useEffect, useMemo, useState } from 'react';
import type { ExperimentCell } from '../../shared/contract-experiments';
import { EmptyState, ListError, LoadingState, RefreshButton, SectionLayout } from '../shell/section-layout';
import { useNow } from '../shell/use-now';
import { useAppStore } from '../store/store-context';
import { useQuery } from '../store/use-query';
import {
  cellProgress,
  cellText,
  cellTitle,
  cellTone,
  experimentGrid,
  isLive,
  MATRIX_TEMPLATE,
  statusCounts,
} from './experiment-model';
import './experiments.css';

/**
 * Experiments (issue 17): the list, the New experiment screen (the matrix as YAML, previewed as runs and GPU-hours
 * before launch) and an experiment's page (the matrix as a grid of cells, live while any is not final).
 */
export function ExperimentsView() {
  const [open, setOpen] = useState<string | null>(null);
  if (open === 'new') return <NewExperiment onLaunched={setOpen} onCancel={() => setOpen(null)} />;
  if (open) return <ExperimentPage id={open} onBack={() => setOpen(null)} />;
  return <ExperimentList onOpen={setOpen} />;
}

function ExperimentList({ onOpen }: { onOpen: (id: string) => void }) {
  const list = useQuery('experiments.list', {}, { refetchOn: [{ event: 'experiments.changed' }] });
  return (
    <SectionLayout
      section="experiments"
      title="Experiments"
      actions={
        <>
          <RefreshButton busy={list.loading} onClick={() => void list.reload()} testId="experiments-refresh" />
          <button
            type="button"
            className="button button-primary"
            data-testid="experiment-new"
            onClick={() => onOpen('new')}
          >
            New experiment
          </button>
        </>
      }
    >
      {list.error ? (
        <ListError
          testId="experiments-error"
          what="the experiments"
          error={list.error}
          onRetry={() => void list.reload()}
        />
      ) : null}
      {!list.data ? (
        <LoadingState testId="experiments-loading" text="Loading experiments…" />
      ) : list.data.length === 0 ? (
        <EmptyState testId="empty-experiments" title="No experiments yet">
          <p className="muted">
            An experiment is a matrix of runs (tasks × agents × seeds) queued over your hosts&apos; GPUs; each host
            drains its queue with the app closed.
          </p>
        </EmptyState>
      ) : (
        <table className="table" data-testid="experiments-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Runs</th>
              <th>GPU-hours</th>
              <th>Hosts</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((e) => (
              <tr key={e.id} data-testid={`experiment-row-${e.id}`}>
                <td>
                  <button type="button" className="button-link" onClick={() => onOpen(e.id)}>
                    {e.name}
                  </button>
                  {e.stopped ? <span className="badge">stopped</span> : null}
                </td>
                <td>{e.runs}</td>
                <td>{e.gpuHours.toFixed(1)}</td>
                <td>{e.hosts.join(', ')}</td>
                <td className="cell-nowrap">{new Date(e.createdAt).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </SectionLayout>
  );
}

/** The matrix typed in, checked as it is typed (after a pause), launched once it has no problem. */
function NewExperiment({ onLaunched, onCancel }: { onLaunched: (id: string) => void; onCancel: () => void }) {
  const [text, setText] = useState(MATRIX_TEMPLATE);
  const [checked, setChecked] = useState(MATRIX_TEMPLATE);
  const [launching, setLaunching] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const runCommand = useAppStore((s) => s.queries.run);
  useEffect(() => {
    const timer = setTimeout(() => setChecked(text), 300);
    return () => clearTimeout(timer);
  }, [text]);
  const preview = useQuery('experiments.preview', { text: checked });
  const ready = preview.data?.ok === true && checked === text;

  const launch = async (): Promise<void> => {
    setLaunching(true);
    setProblem(null);
    const result = await runCommand('experiments.start', { text });
    setLaunching(false);
    if (result.ok) onLaunched(result.data.id);
    else setProblem(result.error.message);
  };

  return (
    <SectionLayout
      section="experiments"
      title="New experiment"
      actions={
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
      }
    >
      <label className="field">
        <span className="field-label">Matrix (YAML)</span>
        <textarea
          className="experiment-yaml"
          data-testid="experiment-yaml"
          spellCheck={false}
          rows={16}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
      </label>
      <div className="experiment-preview" data-testid="experiment-preview" aria-live="polite">
        {preview.data?.ok === true ? (
          <p>
            <strong data-testid="experiment-preview-runs">{preview.data.runs} runs</strong>,{' '}
            <span data-testid="experiment-preview-gpu-hours">{preview.data.gpuHours.toFixed(1)} GPU-hours</span> at
            most: {preview.data.tasks.length} task(s) × {preview.data.agents.length} agent(s) ×{' '}
            {preview.data.seeds.length} seed(s) on {preview.data.hosts.join(', ')}
          </p>
        ) : preview.data?.ok === false ? (
          <ul className="experiment-problems" data-testid="experiment-problems">
            {preview.data.problems.map((p, i) => (
              <li key={i}>
                {p.line > 0 ? `line ${p.line}: ` : ''}
                {p.path ? `${p.path}: ` : ''}
                {p.message}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
      {problem ? (
        <p className="field-error" role="alert" data-testid="experiment-launch-error">
          {problem}
        </p>
      ) : null}
      <button
        type="button"
        className="button button-primary"
        data-testid="experiment-launch"
        disabled={!ready || launching}
        onClick={() => void launch()}
      >
        {launching ? 'Queuing runs…' : 'Launch'}
      </button>
    </SectionLayout>
  );
}

/** Every few seconds while a cell is live: the hosts are the source of truth and push nothing to the app. */
const LIVE_REFRESH_MS = 5_000;

function ExperimentPage({ id, onBack }: { id: string; onBack: () => void }) {
  const detail = useQuery(
    'experiments.get',
    { id },
    {
      refetchOn: [{ event: 'experiments.changed', when: (p) => p.id === id }],
    },
  );
  const runCommand = useAppStore((s) => s.queries.run);
  const put = useAppStore((s) => s.queries.put);
  const [problem, setProblem] = useState<string | null>(null);
  const now = useNow(1_000);
  const live = detail.data ? isLive(detail.data) : false;
  const { reload } = detail;
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => void reload(), LIVE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [live, reload]);

  const control = async (command: 'experiments.stop' | 'experiments.resume'): Promise<void> => {
    const result = await runCommand(command, { id });
    if (result.ok) put('experiments.get', { id }, result.data);
    setProblem(result.ok ? null : result.error.message);
  };

  const data = detail.data;
  const controls = [
    { command: 'experiments.stop', label: 'Stop', testId: 'experiment-stop', shown: !!data && !data.stopped && live },
    {
      command: 'experiments.resume',
      label: 'Resume',
      testId: 'experiment-resume',
      shown: !!data && (data.stopped || data.hostStates.some((h) => h.paused)),
    },
  ] as const;
  return (
    <SectionLayout
      section="experiments"
      title={data ? data.name : 'Experiment'}
      actions={
        <>
          <button type="button" className="button" onClick={onBack}>
            All experiments
          </button>
          <RefreshButton busy={detail.loading} onClick={() => void reload()} testId="experiment-refresh" />
          {controls
            .filter((c) => c.shown)
            .map((c) => (
              <button
                key={c.command}
                type="button"
                className="button"
                data-testid={c.testId}
                onClick={() => void control(c.command)}
              >
                {c.label}
              </button>
            ))}
        </>
      }
    >
      {detail.error ? (
        <ListError testId="experiment-error" what="the experiment" error={detail.error} onRetry={() => void reload()} />
      ) : null}
      {problem ? (
        <p className="field-error" role="alert">
          {problem}
        </p>
      ) : null}
      {!data ? (
        <LoadingState testId="experiment-loading" text="Asking the hosts…" />
      ) : (
        <>
          <p className="muted" data-testid="experiment-counts">
            {data.runs} runs · {data.gpuHours.toFixed(1)} GPU-hours at most ·{' '}
            {statusCounts(data.cells)
              .map(([status, n]) => `${n} ${status}`)
              .join(', ')}
            {data.stopped ? ' · stopped' : ''}
          </p>
          {data.hostStates
            .filter((h) => h.paused || h.error)
            .map((h) => (
              <p key={h.name} className="inline-error" role="status" data-testid={`experiment-host-${h.name}`}>
                {h.name}: {h.paused ? `paused: ${h.paused}` : `not reachable: ${h.error}`}
              </p>
            ))}
          <ExperimentGridView cells={data} now={now} />
        </>
      )}
    </SectionLayout>
  );
}

function ExperimentGridView({ cells, now }: { cells: Parameters<typeof experimentGrid>[0]; now: number }) {
  // The grid is laid out again only when the hosts answered; a clock tick re-renders only the tiles it changes.
  const grid = useMemo(() => experimentGrid(cells), [cells]);
  return (
    <div className="experiment-grid-scroll">
      <table className="table experiment-grid" data-testid="experiment-grid">
        <thead>
          <tr>
            <th>Task</th>
            {grid.columns.map((c) => (
              <th key={c.key}>
                {c.agent}
                {c.model && c.model !== c.agent ? <span className="muted"> · {c.model}</span> : null}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {grid.rows.map((row) => (
            <tr key={row.task}>
              <th scope="row">{row.task}</th>
              {row.cells.map((seeds, i) => (
                <td key={grid.columns[i]!.key}>
                  <div className="experiment-seeds">
                    {seeds.map((cell) => (
                      <CellTile key={cell.key} cell={cell} now={now} />
                    ))}
                  </div>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** What a tile shows depends on the clock only through its rounded progress (a running cell's percent). */
const tilePercent = (cell: ExperimentCell, now: number): number | null => {
  const progress = cellProgress(cell, now);
  return progress === null ? null : Math.round(progress * 100);
};

/** A tile re-renders when its cell changed or its percent moved: 200 tiles ticking every second cost frames. */
const CellTile = memo(
  CellTileView,
  (a, b) => a.cell === b.cell && tilePercent(a.cell, a.now) === tilePercent(b.cell, b.now),
);

function CellTileView({ cell, now }: { cell: ExperimentCell; now: number }) {
  const progress = cellProgress(cell, now);
  const text = cellText(cell, now);
  return (
    <div
      className={`experiment-cell experiment-cell-${cellTone(cell)}`}
      data-testid={`experiment-cell-${cell.task}-${cell.agent}-${cell.seed}`}
      data-status={cell.status}
      title={cellTitle(cell, now)}
    >
      <span className="experiment-cell-seed">seed {cell.seed}</span>
      <span className="experiment-cell-text">{text}</span>
      {progress !== null ? (
        <span className="experiment-cell-bar" aria-hidden="true">
          <span style={{ width: `${Math.round(progress * 100)}%` }} />
        </span>
      ) : null}
    </div>
  );
}
