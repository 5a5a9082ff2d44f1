import type {
  CompareSide,
  LeaderboardCellData,
  LeaderboardData,
  LeaderboardFilterInput,
  LeaderboardRowData,
} from '../../shared/contract-leaderboard';

/**
 * The Leaderboard page's pure derivations: what the table, the heat map, the scatter and the exports show, from the
 * `leaderboard.get` reply. No React here; the views render what these return (as text, never as HTML).
 */

/** The page's filters, as the user set them ('' = all). */
export interface LeaderboardFilters {
  benchmark: string;
  baseModel: string;
  agent: string;
  budget: string;
  from: string;
  to: string;
}

export const NO_FILTERS: LeaderboardFilters = { benchmark: '', baseModel: '', agent: '', budget: '', from: '', to: '' };

/** The `leaderboard.get` input for the filters (all of them are applied by main, before scoring). */
export function filterInput(f: LeaderboardFilters): LeaderboardFilterInput {
  const budgetSeconds = f.budget ? Number(f.budget) : NaN;
  return {
    ...(f.benchmark ? { benchmarks: [f.benchmark] } : {}),
    ...(f.baseModel ? { baseModels: [f.baseModel] } : {}),
    ...(f.agent ? { agents: [f.agent] } : {}),
    ...(Number.isFinite(budgetSeconds) ? { budgetsSeconds: [budgetSeconds] } : {}),
    ...(f.from ? { from: f.from } : {}),
    ...(f.to ? { to: f.to } : {}),
  };
}

/** A colour for a cell's progress from its base model (0) toward its instruct model (1): red below, green toward 1. */
export function progressColor(progress: number | null): string | undefined {
  if (progress === null || !Number.isFinite(progress)) return undefined;
  const p = Math.max(-0.5, Math.min(1.2, progress));
  // Hue 0 (red) at −0.5 through 50 (amber) at 0 to 140 (green) at 1 and past it.
  const hue = p < 0 ? 50 + p * 100 : 50 + Math.min(p, 1) * 90;
  const alpha = 0.18 + Math.min(Math.abs(p), 1) * 0.32;
  return `hsla(${Math.round(hue)}, 70%, 45%, ${alpha.toFixed(2)})`;
}

/** A cell's value as the table shows it: points, one decimal, ± std when there are seeds. */
export function cellText(cell: LeaderboardCellData): string {
  return cell.std === null ? cell.value.toFixed(1) : `${cell.value.toFixed(1)} ± ${cell.std.toFixed(1)}`;
}

/** Why a cell is what it is, one line each: fallbacks, flags, runs that were never checked. */
export function cellExplanation(cell: LeaderboardCellData, seeds: number): string[] {
  const lines: string[] = [];
  const missing = seeds - cell.runs.length;
  if (missing > 0) {
    lines.push(`${missing} of ${seeds} seed(s) have no run of this cell: those count the base model's zero-shot score`);
  }
  for (const run of cell.runs) {
    if (run.fallback === 'flagged') {
      lines.push(`${run.seed}: flagged, counts the zero-shot score instead (${run.reasons.join('; ')})`);
    } else if (run.fallback === 'unverified') {
      lines.push(`${run.seed}: no clean verdict, counts the zero-shot score (${run.reasons.join('; ')})`);
    } else if (run.fallback === 'no-result') {
      lines.push(`${run.seed}: no score, counts the zero-shot score (${run.reasons.join('; ')})`);
    } else if (run.reasons.length > 0) {
      lines.push(`${run.seed}: ${run.reasons.join('; ')}`);
    }
  }
  return lines;
}

/** The agents and budgets the filter menus offer: every one seen so far, so picking one keeps the others. */
export interface SeenChoices {
  readonly agents: string[];
  readonly budgets: Array<[number, string]>;
}

export function seenChoices(old: SeenChoices, board: LeaderboardData): SeenChoices {
  const rows = agentRows(board);
  return {
    agents: [...new Set([...old.agents, ...rows.map((r) => r.agent)])].sort(),
    budgets: [
      ...new Map([
        ...old.budgets,
        ...rows.filter((r) => r.budgetSeconds !== null).map((r): [number, string] => [r.budgetSeconds!, r.budget]),
      ]),
    ].sort((a, b) => a[0] - b[0]),
  };
}

/** Agent rows only, ranked (the reply is already ranked; reference rows come last). */
export function agentRows(board: LeaderboardData): LeaderboardRowData[] {
  return board.rows.filter((r) => r.kind === 'agent');
}

/** The reference rows by name, for the heat map's scale. */
function reference(board: LeaderboardData, variant: string): LeaderboardRowData | undefined {
  return board.rows.find((r) => r.kind === 'reference' && r.variant === variant);
}

export interface HeatmapCell {
  value: number;
  /** 0 at the base models' zero-shot mean, 1 at the instruct models' mean. */
  progress: number | null;
}

/** Agent × benchmark: each row's benchmark mean and how far it went from base toward instruct. */
export function heatmap(board: LeaderboardData): { rows: string[]; benchmarks: string[]; cells: HeatmapCell[][] } {
  const zero = reference(board, 'zeroshot');
  const instruct = reference(board, 'instruct');
  const rows = agentRows(board);
  return {
    rows: rows.map((r) => r.label),
    benchmarks: board.benchmarks,
    cells: rows.map((r) =>
      board.benchmarks.map((b) => {
        const value = r.benchmarks[b]?.mean ?? 0;
        const lo = zero?.benchmarks[b]?.mean;
        const hi = instruct?.benchmarks[b]?.mean;
        const progress = lo !== undefined && hi !== undefined && hi > lo ? (value - lo) / (hi - lo) : null;
        return { value, progress };
      }),
    ),
  };
}

export interface ScatterPoint {
  label: string;
  score: number;
  gpuHours: number | null;
  costUsd: number | null;
}

/** Score against GPU hours (mean per seed, so rows with more seeds are not pushed right), for rows that have them. */
export function scatterPoints(board: LeaderboardData): ScatterPoint[] {
  return agentRows(board)
    .filter((r) => (r.gpuHours !== null || r.costUsd !== null) && r.n > 0)
    .map((r) => ({
      label: r.label,
      score: r.score,
      gpuHours: r.gpuHours === null ? null : r.gpuHours / r.n,
      costUsd: r.costUsd === null ? null : r.costUsd / r.n,
    }));
}

/** uPlot's data for the scatter against GPU hours or API cost: x sorted ascending, points without that x left out. */
export function scatterData(
  points: readonly ScatterPoint[],
  by: 'gpuHours' | 'costUsd' = 'gpuHours',
): { x: number[]; y: number[]; labels: string[] } {
  const sorted = points.filter((p) => p[by] !== null).sort((a, b) => (a[by] as number) - (b[by] as number));
  return { x: sorted.map((p) => p[by] as number), y: sorted.map((p) => p.score), labels: sorted.map((p) => p.label) };
}

const xml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The ranked table as text cells (header first), for the SVG and PNG exports. */
export function tableCells(board: LeaderboardData): string[][] {
  let rank = 0;
  return [
    ['#', 'Agent', 'Score', 'n', ...board.benchmarks],
    ...board.rows.map((r) => [
      r.kind === 'agent' ? String(++rank) : '–',
      r.label,
      r.std === null ? r.score.toFixed(1) : `${r.score.toFixed(1)} ± ${r.std.toFixed(1)}`,
      r.kind === 'agent' ? String(r.n) : '',
      ...board.benchmarks.map((b) => (r.benchmarks[b] ? r.benchmarks[b]!.mean.toFixed(1) : '')),
    ]),
  ];
}

const COLUMN_CHARS = (cells: string[][]): number[] =>
  cells[0]!.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));

/** The table as a standalone SVG document (every text escaped; monospace, so widths follow character counts). */
export function tableSvg(board: LeaderboardData): string {
  const cells = tableCells(board);
  const widths = COLUMN_CHARS(cells).map((n) => n * 7.8 + 16);
  const lineHeight = 22;
  const width = Math.ceil(widths.reduce((s, w) => s + w, 0));
  const height = cells.length * lineHeight + 8;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
  ];
  cells.forEach((row, r) => {
    let x = 8;
    row.forEach((text, c) => {
      const weight = r === 0 ? ' font-weight="bold"' : '';
      parts.push(`<text x="${x.toFixed(1)}" y="${(r + 1) * lineHeight}"${weight}>${xml(text)}</text>`);
      x += widths[c]!;
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Two runs' GPU utilisation on one chart, aligned by elapsed hours since each one's start. */
export function alignedGpu(
  a: { start: number | null; gpu: readonly { t: number; utilization: number }[] },
  b: { start: number | null; gpu: readonly { t: number; utilization: number }[] },
): { x: number[]; a: (number | null)[]; b: (number | null)[] } {
  const points = new Map<number, { a: number | null; b: number | null }>();
  const add = (side: 'a' | 'b', run: typeof a): void => {
    const start = run.start ?? run.gpu[0]?.t ?? 0;
    for (const g of run.gpu) {
      // One point per minute of elapsed time, so the two series share x values.
      const x = Math.round((g.t - start) / 60_000) / 60;
      const at = points.get(x) ?? { a: null, b: null };
      at[side] = g.utilization;
      points.set(x, at);
    }
  };
  add('a', a);
  add('b', b);
  const xs = [...points.keys()].sort((p, q) => p - q);
  return { x: xs, a: xs.map((x) => points.get(x)!.a), b: xs.map((x) => points.get(x)!.b) };
}

/** Steps by elapsed hour: how many steps each run took in each hour since its start. */
export function stepsByHour(
  run: { start: number | null; steps: readonly { t: number | null }[] },
  hours: number,
): number[] {
  const counts = new Array<number>(Math.max(1, Math.ceil(hours))).fill(0);
  const start = run.start ?? run.steps.find((s) => s.t !== null)?.t ?? null;
  if (start === null) return counts;
  for (const s of run.steps) {
    if (s.t === null) continue;
    const h = Math.floor((s.t - start) / 3_600_000);
    if (h >= 0 && h < counts.length) counts[h]!++;
  }
  return counts;
}

/** "3h 20m of 10h (33%)" */
export function timeAgainstBudget(side: CompareSide): string {
  if (side.usedSeconds === null) return '—';
  const hm = (s: number): string => {
    const h = Math.floor(s / 3600);
    const m = Math.round((s % 3600) / 60);
    return h > 0 ? `${h}h ${m}m` : `${m}m`;
  };
  if (!side.budgetSeconds) return hm(side.usedSeconds);
  return `${hm(side.usedSeconds)} of ${hm(side.budgetSeconds)} (${Math.round((100 * side.usedSeconds) / side.budgetSeconds)}%)`;
}

/** Two runs' dataset listings side by side: the files both built (same workspace path), and those only one did. */
export function datasetOverlap(
  a: readonly { path: string; size: number; rows: number | null }[],
  b: readonly { path: string; size: number; rows: number | null }[],
): {
  both: Array<{
    path: string;
    sizeA: number;
    sizeB: number;
    rowsA: number | null;
    rowsB: number | null;
    same: boolean;
  }>;
  onlyA: string[];
  onlyB: string[];
} {
  const byPath = new Map(b.map((e) => [e.path, e]));
  const both = a
    .filter((e) => byPath.has(e.path))
    .map((e) => {
      const other = byPath.get(e.path)!;
      return {
        path: e.path,
        sizeA: e.size,
        sizeB: other.size,
        rowsA: e.rows,
        rowsB: other.rows,
        same: e.size === other.size && e.rows === other.rows,
      };
    });
  const inA = new Set(a.map((e) => e.path));
  return {
    both,
    onlyA: a.filter((e) => !byPath.has(e.path)).map((e) => e.path),
    onlyB: b.filter((e) => !inA.has(e.path)).map((e) => e.path),
  };
}
