import { useMemo, useState } from 'react';
import type { LeaderboardData, LeaderboardRowData } from '../../shared/contract-leaderboard';
import { cellKey, finalCsv, finalCsvName } from '../../shared/leaderboard/ptb-score';
import { BASE_MODELS, BENCHMARKS } from '../../shared/runs/task-catalog';
import { EmptyState, ListError, LoadingState, RefreshButton, SectionLayout } from '../shell/section-layout';
import { useAppStore } from '../store/store-context';
import { useQuery } from '../store/use-query';
import {
  agentRows,
  seenChoices,
  type SeenChoices,
  cellExplanation,
  cellText,
  filterInput,
  heatmap,
  NO_FILTERS,
  progressColor,
  scatterData,
  scatterPoints,
  tableCells,
  tableSvg,
  type LeaderboardFilters,
} from './leaderboard-model';
import { XyChart } from './xy-chart';
import './leaderboard.css';
import { TableHead } from '../shell/table-head';

type Tab = 'table' | 'heatmap' | 'scatter';

/** Saves text or a blob as a file: a download in the browser, the save dialog in the desktop app. */
function saveFile(name: string, data: Blob): void {
  const url = URL.createObjectURL(data);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The ranked table drawn on a canvas (text only), saved as PNG. */
function savePng(board: LeaderboardData): void {
  const cells = tableCells(board);
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)) * 8 + 16);
  const canvas = document.createElement('canvas');
  const scale = 2;
  canvas.width = widths.reduce((s, w) => s + w, 0) * scale;
  canvas.height = (cells.length * 22 + 8) * scale;
  const g = canvas.getContext('2d');
  if (!g) return;
  g.scale(scale, scale);
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = '#111111';
  cells.forEach((row, r) => {
    g.font = `${r === 0 ? 'bold ' : ''}13px monospace`;
    let x = 8;
    row.forEach((text, c) => {
      g.fillText(text, x, (r + 1) * 22);
      x += widths[c]!;
    });
  });
  canvas.toBlob((blob) => blob && saveFile('leaderboard.png', blob), 'image/png');
}

export function LeaderboardView() {
  // Scores follow the run list: an import, a finished run or a new verdict changes the table.
  // Only what changes a score: a run's status and score (sync times and countdowns change far more often).
  const runsKey = useAppStore((s) => s.runs.items.map((r) => `${r.id}:${r.status}:${r.score ?? ''}`).join('|'));
  const setSection = useAppStore((s) => s.nav.setSection);
  const selectRun = useAppStore((s) => s.runs.select);
  const [filters, setFilters] = useState<LeaderboardFilters>(NO_FILTERS);
  const query = useQuery('leaderboard.get', filterInput(filters), { refetchWhen: runsKey });
  const [tab, setTab] = useState<Tab>('table');
  const [picked, setPicked] = useState<{ row: string; benchmark: string } | null>(null);
  // The last board stays shown while another filter's is on its way; agents and budgets seen with no agent or
  // budget filter stay in the menus, so picking one keeps the others.
  const [kept, setKept] = useState<{ board: LeaderboardData | null; seen: SeenChoices }>({
    board: null,
    seen: { agents: [], budgets: [] },
  });
  if (query.data && query.data !== kept.board) setKept({ board: query.data, seen: seenChoices(kept.seen, query.data) });
  const { board, seen } = kept;
  const error = query.error;
  const loading = query.loading;

  const setFilter = (key: keyof LeaderboardFilters, value: string) => {
    setPicked(null);
    setFilters((f) => ({ ...f, [key]: value }));
  };
  const refresh = () => void query.reload();
  const openRun = (id: string) => {
    selectRun(id);
    setSection('runs');
  };

  const rows = board ? agentRows(board) : [];
  return (
    <SectionLayout
      section="leaderboard"
      title="Leaderboard"
      actions={
        <>
          <RefreshButton testId="refresh-leaderboard" busy={loading} onClick={refresh} />
          <button
            type="button"
            className="button"
            data-testid="leaderboard-export-svg"
            disabled={!board}
            onClick={() => board && saveFile('leaderboard.svg', new Blob([tableSvg(board)], { type: 'image/svg+xml' }))}
          >
            SVG
          </button>
          <button
            type="button"
            className="button"
            data-testid="leaderboard-export-png"
            disabled={!board}
            onClick={() => board && savePng(board)}
          >
            PNG
          </button>
        </>
      }
    >
      <FilterBar filters={filters} seen={seen} onChange={setFilter} />

      {error ? <ListError testId="error-leaderboard" what="the leaderboard" error={error} onRetry={refresh} /> : null}
      {!board && loading ? <LoadingState testId="loading-leaderboard" text="Scoring runs…" /> : null}
      {board && rows.length === 0 ? (
        <EmptyState testId="empty-leaderboard" title="No scored PostTrainBench runs yet.">
          <p className="muted">
            Finished runs of a PostTrainBench cell (your own, or result folders brought in with Import PostTrainBench)
            are scored here the way PostTrainBench scores them: the reference rows below show the scale.
          </p>
        </EmptyState>
      ) : null}

      {board ? (
        <>
          <div className="leaderboard-tabs" role="tablist">
            {(['table', 'heatmap', 'scatter'] as const).map((t) => (
              <button
                key={t}
                type="button"
                role="tab"
                className="button button-quiet"
                aria-selected={tab === t}
                data-testid={`leaderboard-tab-${t}`}
                onClick={() => setTab(t)}
              >
                {t === 'table' ? 'Table' : t === 'heatmap' ? 'Heat map' : 'Score vs GPU hours'}
              </button>
            ))}
          </div>
          {tab === 'table' ? (
            <LeaderboardTable board={board} picked={picked} onPick={setPicked} onOpenRun={openRun} />
          ) : tab === 'heatmap' ? (
            <Heatmap board={board} />
          ) : (
            <Scatter board={board} />
          )}
          {board.problems.length > 0 ? (
            <section className="leaderboard-problems" data-testid="leaderboard-problems">
              <h3 className="subsection-title">Runs with problems ({board.problems.length})</h3>
              <ul>
                {board.problems.map((p, i) => (
                  <li key={`${p.runId}-${i}`}>
                    <button type="button" className="button-link" onClick={() => openRun(p.runId)}>
                      {p.runId}
                    </button>
                    : {p.message}
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
          <p className="muted">
            Score: per benchmark the mean over the base models, then the weighted sum with weights derived from the
            baselines ({board.benchmarks.map((b) => `${b} ${(board.weights[b] ?? 0).toFixed(3)}`).join(', ')}). A cell
            that failed, was flagged or has no clean verdict counts the base model’s zero-shot score.
          </p>
        </>
      ) : null}
    </SectionLayout>
  );
}

/** The filter menus and date fields above the board; each sets one of the page's filters. */
function FilterBar({
  filters,
  seen,
  onChange,
}: {
  filters: LeaderboardFilters;
  seen: SeenChoices;
  onChange: (key: keyof LeaderboardFilters, value: string) => void;
}) {
  // [value, text] per option; '' (the first option) is no filter.
  const menus: {
    key: keyof LeaderboardFilters;
    label: string;
    testId: string;
    all: string;
    options: [string, string][];
  }[] = [
    {
      key: 'benchmark',
      label: 'Benchmark',
      testId: 'benchmark',
      all: 'All 7',
      options: BENCHMARKS.map((b) => [b.id, b.label]),
    },
    {
      key: 'baseModel',
      label: 'Base model',
      testId: 'base-model',
      all: 'All 4',
      options: BASE_MODELS.map((m) => [m.id, m.label]),
    },
    { key: 'agent', label: 'Agent', testId: 'agent', all: 'All', options: seen.agents.map((a) => [a, a]) },
    {
      key: 'budget',
      label: 'Budget',
      testId: 'budget',
      all: 'All',
      options: seen.budgets.map(([seconds, text]) => [String(seconds), text]),
    },
  ];
  return (
    <div className="leaderboard-filters" data-testid="leaderboard-filters">
      {menus.map((menu) => (
        <label key={menu.key}>
          {menu.label}
          <select
            className="select"
            data-testid={`leaderboard-filter-${menu.testId}`}
            value={filters[menu.key]}
            onChange={(e) => onChange(menu.key, e.target.value)}
          >
            <option value="">{menu.all}</option>
            {menu.options.map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
        </label>
      ))}
      {(['from', 'to'] as const).map((key) => (
        <label key={key}>
          {key === 'from' ? 'From' : 'To'}
          <input
            className="input"
            type="date"
            data-testid={`leaderboard-filter-${key}`}
            value={filters[key]}
            onChange={(e) => onChange(key, e.target.value)}
          />
        </label>
      ))}
    </div>
  );
}

function LeaderboardTable({
  board,
  picked,
  onPick,
  onOpenRun,
}: {
  board: LeaderboardData;
  picked: { row: string; benchmark: string } | null;
  onPick: (p: { row: string; benchmark: string } | null) => void;
  onOpenRun: (id: string) => void;
}) {
  const zero = board.rows.find((r) => r.variant === 'zeroshot');
  const instruct = board.rows.find((r) => r.variant === 'instruct');
  let rank = 0;
  const pickedRow = picked ? board.rows.find((r) => r.key === picked.row) : undefined;
  return (
    <>
      <div className="leaderboard-table-wrap">
        <table className="leaderboard-table" data-testid="leaderboard-table">
          <thead>
            <tr>
              <th>#</th>
              <th>Agent</th>
              <th>Score</th>
              <th>n</th>
              {board.benchmarks.map((b) => (
                <th key={b}>{BENCHMARKS.find((x) => x.id === b)?.label ?? b}</th>
              ))}
              <th>Export</th>
            </tr>
          </thead>
          <tbody>
            {board.rows.map((row) => (
              <tr
                key={row.key}
                className={row.kind === 'reference' ? 'leaderboard-reference' : undefined}
                data-testid={`leaderboard-row-${row.kind === 'agent' ? ++rank : row.variant}`}
              >
                <td>{row.kind === 'agent' ? rank : '–'}</td>
                <td title={row.variant}>
                  {row.label}
                  {row.kind === 'agent' && !row.complete ? <span className="leaderboard-mark">incomplete</span> : null}
                </td>
                <td data-testid="leaderboard-score">
                  {row.score.toFixed(1)}
                  {row.std !== null ? ` ± ${row.std.toFixed(1)}` : ''}
                </td>
                <td>{row.kind === 'agent' ? row.n : ''}</td>
                {board.benchmarks.map((b) => {
                  const mean = row.benchmarks[b]?.mean ?? 0;
                  const lo = zero?.benchmarks[b]?.mean;
                  const hi = instruct?.benchmarks[b]?.mean;
                  const progress = lo !== undefined && hi !== undefined && hi > lo ? (mean - lo) / (hi - lo) : null;
                  const cells = board.baseModels.map((m) => row.cells[cellKey(b, m)]).filter((c) => c !== undefined);
                  const fallbacks = cells.filter((c) => c.fallbackSeeds > 0).length;
                  const flagged = cells.some((c) => c.flagged);
                  const on = picked?.row === row.key && picked.benchmark === b;
                  return (
                    <td key={b}>
                      <button
                        type="button"
                        className="leaderboard-cell"
                        aria-pressed={on}
                        data-testid={`leaderboard-cell-${b}`}
                        title={
                          progress === null
                            ? undefined
                            : `${Math.round(progress * 100)}% of the way from base to instruct`
                        }
                        style={{ background: progressColor(progress) }}
                        onClick={() => onPick(on ? null : { row: row.key, benchmark: b })}
                      >
                        {mean.toFixed(1)}
                        {row.benchmarks[b]?.std != null ? ` ±${row.benchmarks[b]!.std!.toFixed(1)}` : ''}
                        {flagged ? <span className="leaderboard-mark leaderboard-mark-flag">⚑</span> : null}
                        {!flagged && fallbacks > 0 && row.kind === 'agent' ? (
                          <span className="leaderboard-mark">↓{fallbacks}</span>
                        ) : null}
                      </button>
                    </td>
                  );
                })}
                <td>
                  {row.kind === 'agent' ? (
                    <button
                      type="button"
                      className="button button-quiet"
                      data-testid="leaderboard-export-csv"
                      title="PostTrainBench's final_<method>.csv: one row per base model, fractions after fallbacks (the mean over seeds)"
                      onClick={() => saveFile(finalCsvName(row), new Blob([finalCsv(row)], { type: 'text/csv' }))}
                    >
                      CSV
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {pickedRow && picked ? (
        <CellDetail row={pickedRow} benchmark={picked.benchmark} baseModels={board.baseModels} onOpenRun={onOpenRun} />
      ) : (
        <p className="muted">Click a benchmark’s value to see its cells, their runs, and why a cell fell back.</p>
      )}
    </>
  );
}

function CellDetail({
  row,
  benchmark,
  baseModels,
  onOpenRun,
}: {
  row: LeaderboardRowData;
  benchmark: string;
  baseModels: string[];
  onOpenRun: (id: string) => void;
}) {
  return (
    <section className="leaderboard-detail" data-testid="leaderboard-detail">
      <h3 className="subsection-title">
        {row.label}: {BENCHMARKS.find((b) => b.id === benchmark)?.label ?? benchmark}
      </h3>
      {row.kind === 'agent' && row.seeds.length > 1 ? (
        <p className="muted">
          Seeds: {row.seeds.map((s) => `${s.seed} ${s.score.toFixed(1)}`).join(', ')}
          {' · '}
          {row.seeds.map((s) => (
            <button
              key={s.seed}
              type="button"
              className="button-link"
              onClick={() =>
                saveFile(finalCsvName(row, s.seed), new Blob([finalCsv(row, s.seed)], { type: 'text/csv' }))
              }
            >
              {finalCsvName(row, s.seed)}{' '}
            </button>
          ))}
        </p>
      ) : null}
      <table className="compare-grid">
        <TableHead columns={['Base model', 'Value', 'Toward instruct', 'Runs', 'Why']} />
        <tbody>
          {baseModels.map((m) => {
            const cell = row.cells[cellKey(benchmark, m)];
            if (!cell) return null;
            const why = row.kind === 'agent' ? cellExplanation(cell, row.n) : [];
            return (
              <tr key={m} data-testid={`leaderboard-detail-${m}`}>
                <td>{m}</td>
                <td style={{ background: progressColor(cell.progress) }}>{cellText(cell)}</td>
                <td>{cell.progress === null ? '—' : `${Math.round(cell.progress * 100)}%`}</td>
                <td>
                  {cell.runs.map((r) => (
                    <div key={r.runId}>
                      <button type="button" className="button-link" onClick={() => onOpenRun(r.runId)}>
                        {r.runId}
                      </button>{' '}
                      <span className="muted">
                        {r.seed} · {r.accuracy === null ? 'no score' : (r.accuracy * 100).toFixed(1)} ·{' '}
                        {r.verdict.state} ({r.verdict.source})
                      </span>
                    </div>
                  ))}
                  {row.kind === 'reference' ? <span className="muted">published baseline</span> : null}
                </td>
                <td>
                  {why.length > 0 ? (
                    <ul>
                      {why.map((w, i) => (
                        <li key={i}>{w}</li>
                      ))}
                    </ul>
                  ) : (
                    <span className="muted">counted as run</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function Heatmap({ board }: { board: LeaderboardData }) {
  const map = useMemo(() => heatmap(board), [board]);
  if (map.rows.length === 0) return <p className="muted">No agent rows to map.</p>;
  return (
    <div
      className="leaderboard-heatmap"
      data-testid="leaderboard-heatmap"
      style={{ gridTemplateColumns: `minmax(180px, 2fr) repeat(${map.benchmarks.length}, minmax(60px, 1fr))` }}
    >
      <div />
      {map.benchmarks.map((b) => (
        <div key={b}>{b}</div>
      ))}
      {map.rows.map((label, r) => (
        <HeatmapRow key={label} label={label} cells={map.cells[r]!} />
      ))}
    </div>
  );
}

function HeatmapRow({ label, cells }: { label: string; cells: ReturnType<typeof heatmap>['cells'][number] }) {
  return (
    <>
      <div className="leaderboard-heatmap-label" title={label}>
        {label}
      </div>
      {cells.map((c, i) => (
        <div
          key={i}
          style={{ background: progressColor(c.progress) }}
          title={c.progress === null ? undefined : `${Math.round(c.progress * 100)}% from base to instruct`}
        >
          {c.value.toFixed(1)}
        </div>
      ))}
    </>
  );
}

function Scatter({ board }: { board: LeaderboardData }) {
  const [by, setBy] = useState<'gpuHours' | 'costUsd'>('gpuHours');
  const points = useMemo(() => scatterPoints(board), [board]);
  const data = useMemo(() => scatterData(points, by), [points, by]);
  const series = useMemo(() => [{ label: 'score', values: data.y }], [data]);
  if (points.length === 0) return <p className="muted">No row knows its GPU hours or API cost yet.</p>;
  return (
    <section data-testid="leaderboard-scatter">
      <label className="muted">
        Against{' '}
        <select
          className="select"
          data-testid="leaderboard-scatter-axis"
          value={by}
          onChange={(e) => setBy(e.target.value === 'costUsd' ? 'costUsd' : 'gpuHours')}
        >
          <option value="gpuHours">GPU hours per seed</option>
          <option value="costUsd">API cost per seed (USD)</option>
        </select>
      </label>
      {data.x.length > 0 ? (
        <XyChart
          testId="leaderboard-scatter-chart"
          x={data.x}
          series={series}
          xLabel={by === 'gpuHours' ? 'GPU hours per seed' : 'API cost per seed (USD)'}
          yLabel="score"
          points
        />
      ) : (
        <p className="muted">No row’s traces report an API cost (Claude Code’s do: total_cost_usd).</p>
      )}
      <table className="compare-grid">
        <TableHead columns={['Agent', 'Score', 'GPU hours per seed', 'API cost per seed']} />
        <tbody>
          {points.map((p) => (
            <tr key={p.label}>
              <td>{p.label}</td>
              <td>{p.score.toFixed(1)}</td>
              <td>{p.gpuHours === null ? '—' : p.gpuHours.toFixed(1)}</td>
              <td>{p.costUsd === null ? '— (the trace does not say)' : `$${p.costUsd.toFixed(2)}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
