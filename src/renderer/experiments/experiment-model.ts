import type { ExperimentCell, ExperimentDetail } from '../../shared/contract-experiments';
import { FINAL_RUN_STATUSES, RUN_STATUSES } from '../../shared/runs/run-status';

/**
 * The experiment page's derivations (pure, unit-tested): the matrix as a grid (a row per task, a column per agent
 * and model, the seeds side by side in each), and what each cell says.
 */

export interface GridColumn {
  key: string;
  agent: string;
  model: string;
}

export interface ExperimentGrid {
  columns: GridColumn[];
  rows: Array<{ task: string; cells: ExperimentCell[][] }>;
}

const columnKey = (agent: string, model: string) => `${agent}|${model}`;

export function experimentGrid(detail: Pick<ExperimentDetail, 'tasks' | 'agents' | 'cells'>): ExperimentGrid {
  const columns: GridColumn[] = [];
  const seen = new Set<string>();
  const addColumn = (agent: string, model: string) => {
    const key = columnKey(agent, model);
    if (!seen.has(key)) {
      seen.add(key);
      columns.push({ key, agent, model });
    }
  };
  for (const a of detail.agents) addColumn(a.agent, a.model);
  for (const c of detail.cells) addColumn(c.agent, c.model);
  const tasks = [...detail.tasks];
  for (const c of detail.cells) if (!tasks.includes(c.task)) tasks.push(c.task);
  return {
    columns,
    rows: tasks.map((task) => ({
      task,
      cells: columns.map((col) =>
        detail.cells
          .filter((c) => c.task === task && columnKey(c.agent, c.model) === col.key)
          .sort((a, b) => a.seed - b.seed),
      ),
    })),
  };
}

export type CellTone = 'queued' | 'running' | 'evaluating' | 'scored' | 'failed' | 'flagged' | 'other';

/** The cell's colour family: flagged wins over scored (a flagged score does not count). */
export function cellTone(cell: ExperimentCell): CellTone {
  if (cell.flagged) return 'flagged';
  switch (cell.status) {
    case 'queued':
      return 'queued';
    case 'starting':
    case 'running':
    case 'stopping':
      return 'running';
    case 'evaluating':
      return 'evaluating';
    case 'scored':
      return 'scored';
    case 'failed':
    case 'evaluation-failed':
    case 'no-model':
      return 'failed';
    default:
      return 'other';
  }
}

/** Share of the budget used, 0..1, for a running cell; null otherwise. */
export function cellProgress(cell: ExperimentCell, now: number): number | null {
  if (cell.status !== 'running' || !cell.startedAt || !cell.deadline || cell.deadline <= cell.startedAt) return null;
  return Math.min(1, Math.max(0, (now - cell.startedAt) / (cell.deadline - cell.startedAt)));
}

/** One line for the cell: the score, the progress, or the status with its reason. */
export function cellText(cell: ExperimentCell, now: number): string {
  const progress = cellProgress(cell, now);
  if (progress !== null) return `running ${Math.round(progress * 100)}%`;
  if (cell.status === 'scored') {
    const score = cell.score === null || cell.score === undefined ? '—' : cell.score.toFixed(1);
    return cell.flagged ? `${score} (flagged)` : score;
  }
  if (cell.flagged) return `${cell.status} (flagged)`;
  return cell.reason ? `${cell.status}: ${cell.reason}` : cell.status;
}

/** The tile's tooltip: where the run is, where it was queued before it moved (never started there), and its line. */
export function cellTitle(cell: ExperimentCell, now: number): string {
  const moved = (cell.moves ?? []).map((m) => `moved from ${m.from} (${m.fromRunId}) to ${m.to}`);
  return [`seed ${cell.seed} · ${cell.host} · ${cell.runId}`, ...moved, cellText(cell, now)].join('\n');
}

/** How many cells are in each status, in lifecycle order (queued first), for the page's header. */
export function statusCounts(cells: readonly ExperimentCell[]): Array<[string, number]> {
  const order: readonly string[] = ['queued', ...RUN_STATUSES];
  const rank = (status: string) => (order.includes(status) ? order.indexOf(status) : order.length);
  const counts = new Map<string, number>();
  for (const c of cells) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  return [...counts].sort((a, b) => rank(a[0]) - rank(b[0]));
}

/** Whether the page should keep asking the hosts: some cell is not final (nor taken back) yet. */
export function isLive(detail: Pick<ExperimentDetail, 'cells' | 'stopped'>): boolean {
  const settled: readonly string[] = [...FINAL_RUN_STATUSES, 'withdrawn'];
  return detail.cells.some((c) => !settled.includes(c.status));
}

export const MATRIX_TEMPLATE = `name: my-experiment
tasks: [rehearsal]            # or gsm8k:Qwen3-4B-Base, … or benchmarks: [...] with baseModels: [...]
agents:
  - agent: rehearsal
seeds: 2
budget: 10m
hosts: []                     # host names, as on the Hosts page
`;
