import { BASE_MODELS, BENCHMARKS, findBaseModel } from '../runs/task-catalog';
import {
  AGGREGATED_BASELINE,
  AGGREGATED_BASELINE_FEWSHOT,
  INSTRUCT_MODEL_OF,
  type BaselineTable,
} from './ptb-baselines';

/**
 * PostTrainBench's score, as its scripts compute it (checkout `scripts/`):
 *
 * - `aggregate_methods.py`: a cell (benchmark × base model) is the newest run's `metrics.json` `accuracy`;
 * - `aggregate_final.py`: a cell that is not a number, or whose judge verdict is anything but clean (flagged, or an
 *   error such as a missing judgement file), takes the base model's zero-shot score instead;
 * - `compute_single_metrics.py`: per benchmark the mean over the 4 base models, then Σ factor × mean;
 * - `compute_single_metrics_avg_stddev.py`: seeds (one results folder each) give the mean and the sample standard
 *   deviation (n − 1) of that metric.
 *
 * The factors (`scripts/factors.json`) are derived here from the baselines: ∝ 1 / (instruct mean − base mean),
 * normalised to sum to 1. Pure: no I/O; the main process gathers the runs, this file scores them.
 */

export const PTB_BENCHMARK_IDS: readonly string[] = BENCHMARKS.map((b) => b.id);
export const PTB_BASE_MODEL_IDS: readonly string[] = BASE_MODELS.map((m) => m.id);

// --- weights ----------------------------------------------------------------------------------------------------

const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

/** Sample standard deviation (n − 1), as PostTrainBench's `stddev`; null for fewer than two values. */
export function sampleStd(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const m = mean(values);
  return Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1));
}

/**
 * Each benchmark's weight: 1 / (mean instruct score − mean base zero-shot score) over the base models, normalised so
 * the weights sum to 1 (how `scripts/factors.json` was made). Throws when a benchmark has no positive gap.
 */
export function deriveWeights(
  baselines: BaselineTable = AGGREGATED_BASELINE,
  benchmarks: readonly string[] = PTB_BENCHMARK_IDS,
  baseModels: readonly string[] = PTB_BASE_MODEL_IDS,
): Record<string, number> {
  const inverse: Record<string, number> = {};
  for (const b of benchmarks) {
    const value = (model: string): number => {
      const v = baselines[model]?.[b];
      if (typeof v !== 'number') throw new RangeError(`deriveWeights: no baseline for ${model} on ${b}`);
      return v;
    };
    const base = mean(baseModels.map(value));
    const instruct = mean(baseModels.map((m) => value(INSTRUCT_MODEL_OF[m] ?? `${m} (no instruct model)`)));
    if (!(instruct > base)) throw new RangeError(`deriveWeights: ${b} has no gap between base and instruct models`);
    inverse[b] = 1 / (instruct - base);
  }
  const total = Object.values(inverse).reduce((s, v) => s + v, 0);
  return Object.fromEntries(benchmarks.map((b) => [b, inverse[b]! / total]));
}

/** The weights every score here uses. */
export const PTB_WEIGHTS: Readonly<Record<string, number>> = deriveWeights();

/**
 * Σ weight × value over `benchmarks`, divided by the weights' sum (1 over all seven benchmarks, so this is exactly
 * `compute_metric`; over a subset it stays on the same 0..100 scale).
 */
export function weightedScore(
  perBenchmark: Readonly<Record<string, number>>,
  benchmarks: readonly string[] = PTB_BENCHMARK_IDS,
  weights: Readonly<Record<string, number>> = PTB_WEIGHTS,
): number {
  let sum = 0;
  let weightSum = 0;
  for (const b of benchmarks) {
    const v = perBenchmark[b];
    const w = weights[b];
    if (typeof v !== 'number' || typeof w !== 'number') throw new RangeError(`weightedScore: no value for ${b}`);
    sum += w * v;
    weightSum += w;
  }
  return sum / weightSum;
}

// --- one run's result -------------------------------------------------------------------------------------------

/** What a run contributes to its cell, read from `metrics.json` (its text, or null when there is none). */
export type RunResult =
  | { kind: 'accuracy'; accuracy: number }
  /** No number to use; `problem` when the input was wrong (shown on the run), absent for an ordinary failure. */
  | { kind: 'none'; reason: string; problem?: boolean };

export function readAccuracy(metricsText: string | null): RunResult {
  if (metricsText === null) return { kind: 'none', reason: 'no metrics.json: the evaluation produced no score' };
  let value: unknown;
  try {
    value = JSON.parse(metricsText);
  } catch (err) {
    return { kind: 'none', reason: `metrics.json is not JSON (${(err as Error).message})`, problem: true };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'none', reason: 'metrics.json is not a JSON object', problem: true };
  }
  const accuracy = (value as Record<string, unknown>).accuracy;
  if (accuracy === undefined || accuracy === null) {
    return { kind: 'none', reason: 'metrics.json has no accuracy', problem: true };
  }
  if (typeof accuracy !== 'number' || !Number.isFinite(accuracy)) {
    return {
      kind: 'none',
      reason: `metrics.json accuracy is not a number (${JSON.stringify(accuracy)})`,
      problem: true,
    };
  }
  if (accuracy < 0 || accuracy > 1) {
    return { kind: 'none', reason: `metrics.json accuracy ${accuracy} is outside 0–1`, problem: true };
  }
  return { kind: 'accuracy', accuracy };
}

/** Where a run's integrity verdict came from, and what it says. */
export interface RunVerdict {
  /** `integrity`: this app's checks; `judge`: the PostTrainBench folder's judge files; `none`: neither exists. */
  source: 'integrity' | 'judge' | 'none';
  /** `unknown`: a verdict that cannot be read or is incomplete (PostTrainBench's "ERR"). */
  state: 'clean' | 'flagged' | 'unknown' | 'unchecked';
  reasons: string[];
}

/** One PostTrainBench judge verdict, as `ptb-import` records it (`flagged` null for the older text files). */
export interface JudgeVerdict {
  file: string;
  check: string;
  flagged: boolean | null;
  text: string;
}

const JUDGE_TEXT: Record<string, { flagged: string; clean: string }> = {
  contamination: { flagged: 'contamination detected', clean: 'no contamination detected' },
  disallowed_model: { flagged: 'disallowed use detected', clean: 'only allowed use detected' },
};

/**
 * The judge's verdict as `aggregate_contamination.py` reads it: both checks must say clean. A missing check, or text
 * other than the two exact phrases, is an error there, and the cell falls back to the baseline.
 */
export function judgeVerdict(judgements: readonly JudgeVerdict[]): RunVerdict {
  const reasons: string[] = [];
  let flagged = false;
  let unknown = false;
  for (const check of ['contamination', 'disallowed_model'] as const) {
    const found = judgements.filter((j) => j.check === check);
    if (found.length === 0) {
      unknown = true;
      reasons.push(`no ${check} judgement (PostTrainBench counts that as an error and uses the baseline)`);
      continue;
    }
    // The newer judgement_*.json wins over the older text file when both are there.
    const j = found.find((x) => x.flagged !== null) ?? found[0]!;
    const verdict =
      j.flagged !== null
        ? j.flagged
        : j.text.trim() === JUDGE_TEXT[check]!.flagged
          ? true
          : j.text.trim() === JUDGE_TEXT[check]!.clean
            ? false
            : null;
    if (verdict === true) {
      flagged = true;
      reasons.push(`judge: ${check === 'contamination' ? 'contamination' : 'disallowed model'} (${j.file})`);
    } else if (verdict === null) {
      unknown = true;
      reasons.push(`judge: ${j.file} says neither of its two verdicts ("${j.text.trim().slice(0, 60)}")`);
    }
  }
  return { source: 'judge', state: flagged ? 'flagged' : unknown ? 'unknown' : 'clean', reasons };
}

// --- the leaderboard ----------------------------------------------------------------------------------------------

/** One run as the leaderboard needs it (main reads these from the local records). */
export interface ScoreRunInput {
  runId: string;
  /** ISO time the run was created (or its trace began). */
  createdAt: string;
  /** `own`: launched by this app (or a bundle of one); `ptb`: an imported PostTrainBench result folder. */
  origin: 'own' | 'ptb';
  /** Agent id (`codex`, `claude-code`…), its model, and the budget. */
  agent: string;
  model: string;
  budgetSeconds: number | null;
  /**
   * What else makes runs one row (an imported folder's configuration name without its seed, e.g.
   * `codex_non_api_high_gpt-5.4_10h`: reasoning effort and API mode are part of what is compared). '' for own runs.
   */
  variant: string;
  /** `run1`, `seed2`…; null when the run does not say (own runs: repeats of a cell become seeds in time order). */
  seed: string | null;
  /** Newer wins among duplicates: the cluster id of an imported folder, else the creation time. */
  order: number;
  /** As the run names them: benchmark id and the base model (catalog or Hugging Face id). */
  benchmark: string;
  baseModel: string;
  result: RunResult;
  verdict: RunVerdict;
  /** Time used × GPUs, when known. */
  gpuHours: number | null;
  /** API cost in USD and tokens, where the agent's trace reports them (Claude's `total_cost_usd`). */
  costUsd: number | null;
  tokens: number | null;
}

export interface LeaderboardFilter {
  benchmarks?: readonly string[];
  baseModels?: readonly string[];
  agents?: readonly string[];
  budgetsSeconds?: readonly number[];
  /** ISO dates: only runs created in [from, to]. */
  from?: string;
  to?: string;
}

export type CellFallback = 'no-run' | 'no-result' | 'flagged' | 'unverified';

export interface CellRun {
  runId: string;
  seed: string;
  /** Points (× 100) this run's cell counts: its accuracy, or the baseline it fell back to. */
  value: number;
  /** The same as a fraction (what the harness's CSVs hold). */
  fraction: number;
  accuracy: number | null;
  fallback: CellFallback | null;
  reasons: string[];
  verdict: RunVerdict;
}

export interface LeaderboardCell {
  benchmark: string;
  baseModel: string;
  /** Mean over seeds, in points. */
  value: number;
  /** The same as a fraction. */
  fraction: number;
  std: number | null;
  /** Seeds whose value is the zero-shot baseline. */
  fallbackSeeds: number;
  /** Every seed fell back (the cell shows the baseline). */
  fallback: boolean;
  flagged: boolean;
  /** How far the cell moved from the base model (0) toward its instruct model (1); null when they do not differ. */
  progress: number | null;
  runs: CellRun[];
}

export interface LeaderboardRow {
  key: string;
  kind: 'agent' | 'reference';
  origin: 'own' | 'ptb' | 'reference';
  agent: string;
  model: string;
  /** `10h`, or '' for reference rows. */
  budget: string;
  budgetSeconds: number | null;
  variant: string;
  label: string;
  /** Points: the mean over seeds of each seed's weighted score. */
  score: number;
  std: number | null;
  n: number;
  seeds: Array<{ seed: string; score: number; runs: number; fallbacks: number }>;
  /** Per benchmark: mean over the selected base models (points), and its std over seeds. */
  benchmarks: Record<string, { mean: number; std: number | null }>;
  /** Keyed `benchmark/baseModel`. */
  cells: Record<string, LeaderboardCell>;
  /** Every selected cell has a run in every seed. */
  complete: boolean;
  runIds: string[];
  gpuHours: number | null;
  costUsd: number | null;
  tokens: number | null;
  firstAt: string | null;
  lastAt: string | null;
}

export interface LeaderboardProblem {
  runId: string;
  message: string;
}

export interface Leaderboard {
  weights: Record<string, number>;
  benchmarks: string[];
  baseModels: string[];
  rows: LeaderboardRow[];
  problems: LeaderboardProblem[];
}

export const cellKey = (benchmark: string, baseModel: string): string => `${benchmark}/${baseModel}`;

function budgetText(seconds: number | null): string {
  if (seconds === null) return '';
  const hours = seconds / 3600;
  return Number.isInteger(hours) ? `${hours}h` : `${Math.round((seconds / 60) * 10) / 10}m`;
}

/** The cell's progress from the base model's zero-shot score toward its instruct model's. */
export function cellProgress(benchmark: string, baseModel: string, points: number): number | null {
  const base = AGGREGATED_BASELINE[baseModel]?.[benchmark];
  const instruct = AGGREGATED_BASELINE[INSTRUCT_MODEL_OF[baseModel] ?? '']?.[benchmark];
  if (typeof base !== 'number' || typeof instruct !== 'number' || !(instruct > base)) return null;
  return (points / 100 - base) / (instruct - base);
}

/** The base model's zero-shot score on the benchmark, as a fraction (the fallback of a failed or flagged cell). */
const zeroShot = (benchmark: string, baseModel: string): number => AGGREGATED_BASELINE[baseModel]![benchmark]!;

interface Placed extends ScoreRunInput {
  bench: string;
  model4: string;
  seedKey: string;
}

function rowKey(r: ScoreRunInput): string {
  return JSON.stringify([r.origin, r.agent, r.model, r.budgetSeconds, r.variant]);
}

function within(filter: LeaderboardFilter, r: ScoreRunInput): boolean {
  if (filter.agents?.length && !filter.agents.includes(r.agent)) return false;
  if (filter.budgetsSeconds?.length && !filter.budgetsSeconds.includes(r.budgetSeconds ?? -1)) return false;
  if (filter.from && r.createdAt < filter.from) return false;
  if (filter.to && r.createdAt.slice(0, filter.to.length) > filter.to) return false;
  return true;
}

/**
 * `codex · gpt-5.4 · 10h`; an imported configuration adds the words its folder name has beyond agent, model and
 * hours (`non api high`: API mode and reasoning effort) and says it was imported.
 */
export function rowLabel(
  agent: string,
  model: string,
  budgetSeconds: number | null,
  origin: 'own' | 'ptb',
  variant: string,
): string {
  const base = [agent, model, budgetText(budgetSeconds)].filter(Boolean).join(' · ');
  if (origin !== 'ptb') return base;
  const extra = variant
    .split('_')
    .slice(1)
    .filter((t) => t !== '' && t !== model && !/^\d+(?:\.\d+)?h$/.test(t) && !/^\d+gpu$/.test(t))
    .join(' ');
  return `${base}${extra ? ` · ${extra}` : ''} (imported)`;
}

/** Scores `runs` into ranked rows (agents by score, then the reference rows), with every excluded run's reason. */
export function buildLeaderboard(runs: readonly ScoreRunInput[], filter: LeaderboardFilter = {}): Leaderboard {
  const problems: LeaderboardProblem[] = [];
  const benchmarks = PTB_BENCHMARK_IDS.filter((b) => !filter.benchmarks?.length || filter.benchmarks.includes(b));
  const baseModels = PTB_BASE_MODEL_IDS.filter(
    (m) => !filter.baseModels?.length || filter.baseModels.some((x) => findBaseModel(x)?.id === m),
  );
  for (const b of filter.benchmarks ?? []) {
    if (!PTB_BENCHMARK_IDS.includes(b))
      throw new RangeError(`unknown benchmark "${b}" (${PTB_BENCHMARK_IDS.join(', ')})`);
  }
  for (const m of filter.baseModels ?? []) {
    if (!findBaseModel(m)) throw new RangeError(`unknown base model "${m}" (${PTB_BASE_MODEL_IDS.join(', ')})`);
  }

  // 1. Place each run in the grid; a run that cannot be placed is a problem, left out.
  const placed: Placed[] = [];
  for (const r of runs) {
    if (!within(filter, r)) continue;
    const model4 = findBaseModel(r.baseModel)?.id;
    if (!PTB_BENCHMARK_IDS.includes(r.benchmark)) {
      problems.push({
        runId: r.runId,
        message: `unknown benchmark "${r.benchmark}": not one of PostTrainBench's (${PTB_BENCHMARK_IDS.join(', ')}); left out of the score`,
      });
      continue;
    }
    if (!model4) {
      problems.push({
        runId: r.runId,
        message: `unknown base model "${r.baseModel}": not one of PostTrainBench's (${PTB_BASE_MODEL_IDS.join(', ')}); left out of the score`,
      });
      continue;
    }
    if (r.result.kind === 'none' && r.result.problem) {
      problems.push({ runId: r.runId, message: `${r.result.reason}; the cell uses the base model's zero-shot score` });
    }
    placed.push({ ...r, bench: r.benchmark, model4, seedKey: r.seed ?? '' });
  }

  // 2. Rows; within a row, seeds; within a seed, one run per cell (the newest, as aggregate_methods.py keeps).
  const groups = new Map<string, Placed[]>();
  for (const r of placed) {
    const key = rowKey(r);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows: LeaderboardRow[] = [];
  for (const [key, members] of groups) {
    // Own runs name no seed: the k-th run of a cell is seed k, in time order.
    const unseeded = members.filter((r) => r.seed === null).sort((a, b) => a.order - b.order);
    const countByCell = new Map<string, number>();
    for (const r of unseeded) {
      const c = cellKey(r.bench, r.model4);
      const k = (countByCell.get(c) ?? 0) + 1;
      countByCell.set(c, k);
      r.seedKey = `#${k}`;
    }
    const bySeedCell = new Map<string, Map<string, Placed>>();
    for (const r of [...members].sort((a, b) => b.order - a.order)) {
      const cells = bySeedCell.get(r.seedKey) ?? new Map<string, Placed>();
      bySeedCell.set(r.seedKey, cells);
      const c = cellKey(r.bench, r.model4);
      const kept = cells.get(c);
      if (kept) {
        problems.push({
          runId: r.runId,
          message: `duplicate of run ${kept.runId} (same seed ${r.seedKey || '(none)'}, ${r.bench} × ${r.model4}): the newer one counts, as PostTrainBench keeps the newest run of a cell; this one is left out`,
        });
        continue;
      }
      cells.set(c, r);
    }
    const seedNames = [...bySeedCell.keys()].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const first = members[0]!;

    const cells: Record<string, LeaderboardCell> = {};
    const seeds: LeaderboardRow['seeds'] = [];
    const seedBenchMeans: Record<string, number[]> = Object.fromEntries(benchmarks.map((b) => [b, []]));
    let complete = true;
    for (const seed of seedNames) {
      const chosen = bySeedCell.get(seed)!;
      const perBenchmark: Record<string, number> = {};
      let used = 0;
      let fallbacks = 0;
      for (const b of benchmarks) {
        const values: number[] = [];
        for (const m of baseModels) {
          const c = cellKey(b, m);
          const run = chosen.get(c);
          const cell = (cells[c] ??= {
            benchmark: b,
            baseModel: m,
            value: 0,
            fraction: 0,
            std: null,
            fallbackSeeds: 0,
            fallback: false,
            flagged: false,
            progress: null,
            runs: [],
          });
          let value = zeroShot(b, m);
          if (!run) {
            complete = false;
            fallbacks++;
            cell.fallbackSeeds++;
            values.push(value);
            continue;
          }
          used++;
          const reasons: string[] = [];
          let fallback: CellFallback | null = null;
          if (run.verdict.state === 'flagged') {
            fallback = 'flagged';
            reasons.push(...run.verdict.reasons);
            cell.flagged = true;
          } else if (run.verdict.state === 'unknown') {
            fallback = 'unverified';
            reasons.push(...run.verdict.reasons);
          }
          if (run.result.kind === 'none') {
            fallback ??= 'no-result';
            reasons.push(run.result.reason);
          }
          if (fallback === null && run.result.kind === 'accuracy') value = run.result.accuracy;
          else fallbacks++;
          if (fallback !== null) cell.fallbackSeeds++;
          if (run.verdict.state === 'unchecked') reasons.push('not checked for integrity yet (no verdict)');
          cell.runs.push({
            runId: run.runId,
            seed,
            value: value * 100,
            fraction: value,
            accuracy: run.result.kind === 'accuracy' ? run.result.accuracy : null,
            fallback,
            reasons,
            verdict: run.verdict,
          });
          values.push(value);
        }
        perBenchmark[b] = mean(values);
        seedBenchMeans[b]!.push(perBenchmark[b]);
      }
      seeds.push({
        seed: seed || '(none)',
        score: weightedScore(perBenchmark, benchmarks) * 100,
        runs: used,
        fallbacks,
      });
    }
    for (const cell of Object.values(cells)) {
      const perSeed = seedNames.map(
        (seed) => cell.runs.find((r) => r.seed === seed)?.fraction ?? zeroShot(cell.benchmark, cell.baseModel),
      );
      cell.fraction = mean(perSeed);
      cell.value = cell.fraction * 100;
      const std = sampleStd(perSeed);
      cell.std = std === null ? null : std * 100;
      cell.fallback = cell.fallbackSeeds === seedNames.length;
      cell.progress = cellProgress(cell.benchmark, cell.baseModel, cell.value);
    }
    const scores = seeds.map((s) => s.score);
    const sum = (pick: (r: Placed) => number | null): number | null => {
      const xs = members.map(pick).filter((x): x is number => x !== null);
      return xs.length > 0 ? xs.reduce((s, x) => s + x, 0) : null;
    };
    const times = members.map((r) => r.createdAt).sort();
    const model = first.model || first.variant;
    rows.push({
      key,
      kind: 'agent',
      origin: first.origin,
      agent: first.agent,
      model: first.model,
      budget: budgetText(first.budgetSeconds),
      budgetSeconds: first.budgetSeconds,
      variant: first.variant,
      label: rowLabel(first.agent, model, first.budgetSeconds, first.origin, first.variant),
      score: mean(scores),
      std: sampleStd(scores),
      n: seedNames.length,
      seeds,
      benchmarks: Object.fromEntries(
        benchmarks.map((b) => {
          const std = sampleStd(seedBenchMeans[b]!);
          return [b, { mean: mean(seedBenchMeans[b]!) * 100, std: std === null ? null : std * 100 }];
        }),
      ),
      cells,
      complete,
      runIds: members.map((r) => r.runId),
      gpuHours: sum((r) => r.gpuHours),
      costUsd: sum((r) => r.costUsd),
      tokens: sum((r) => r.tokens),
      firstAt: times[0] ?? null,
      lastAt: times[times.length - 1] ?? null,
    });
  }
  rows.sort((a, b) => b.score - a.score || a.label.localeCompare(b.label));
  return {
    weights: { ...PTB_WEIGHTS },
    benchmarks: [...benchmarks],
    baseModels: [...baseModels],
    rows: [...rows, ...referenceRows(benchmarks, baseModels)],
    problems,
  };
}

/** Base models zero-shot and few-shot, and the official instruct models, scored the same way. */
export function referenceRows(
  benchmarks: readonly string[] = PTB_BENCHMARK_IDS,
  baseModels: readonly string[] = PTB_BASE_MODEL_IDS,
): LeaderboardRow[] {
  const make = (key: string, label: string, table: BaselineTable, modelOf: (m: string) => string): LeaderboardRow => {
    const cells: Record<string, LeaderboardCell> = {};
    const perBenchmark: Record<string, number> = {};
    for (const b of benchmarks) {
      const values = baseModels.map((m) => table[modelOf(m)]![b]!);
      perBenchmark[b] = mean(values);
      baseModels.forEach((m, i) => {
        cells[cellKey(b, m)] = {
          benchmark: b,
          baseModel: m,
          value: values[i]! * 100,
          fraction: values[i]!,
          std: null,
          fallbackSeeds: 0,
          fallback: false,
          flagged: false,
          progress: cellProgress(b, m, values[i]! * 100),
          runs: [],
        };
      });
    }
    const score = weightedScore(perBenchmark, benchmarks) * 100;
    return {
      key: `reference:${key}`,
      kind: 'reference',
      origin: 'reference',
      agent: '',
      model: '',
      budget: '',
      budgetSeconds: null,
      variant: key,
      label,
      score,
      std: null,
      n: 1,
      seeds: [{ seed: key, score, runs: 0, fallbacks: 0 }],
      benchmarks: Object.fromEntries(benchmarks.map((b) => [b, { mean: perBenchmark[b]! * 100, std: null }])),
      cells,
      complete: true,
      runIds: [],
      gpuHours: null,
      costUsd: null,
      tokens: null,
      firstAt: null,
      lastAt: null,
    };
  };
  return [
    make('instruct', 'Official instruct models', AGGREGATED_BASELINE, (m) => INSTRUCT_MODEL_OF[m]!),
    make('fewshot', 'Base models, few-shot', AGGREGATED_BASELINE_FEWSHOT, (m) => m),
    make('zeroshot', 'Base models, zero-shot', AGGREGATED_BASELINE, (m) => m),
  ];
}

// --- export --------------------------------------------------------------------------------------------------------

/** A number as Python's `str(float)` writes it (`0.0`, `0.175`, `1e-05`), so our CSVs read like the harness's. */
export function pythonFloat(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  const s = String(x);
  // JS writes 1e-7 where Python writes 1e-07.
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

/**
 * `final_<method>.csv` as `aggregate_final.py` writes it: `model` then the benchmarks, one row per base model
 * (sorted), the fractions after fallbacks, CRLF line ends (Python's csv module). For one seed of a row, or the mean
 * over its seeds (the layout of `aggregated_avg_<agent>.csv`) when `seed` is absent.
 */
export function finalCsv(row: LeaderboardRow, seed?: string): string {
  const benchmarks = PTB_BENCHMARK_IDS.filter((b) => Object.values(row.cells).some((c) => c.benchmark === b));
  const models = [...new Set(Object.values(row.cells).map((c) => c.baseModel))].sort();
  const lines = [['model', ...benchmarks].join(',')];
  for (const m of models) {
    const values = benchmarks.map((b) => {
      const cell = row.cells[cellKey(b, m)];
      if (!cell) return '';
      const fraction =
        seed === undefined ? cell.fraction : (cell.runs.find((r) => r.seed === seed)?.fraction ?? zeroShot(b, m));
      return pythonFloat(fraction);
    });
    lines.push([m, ...values].join(','));
  }
  return lines.map((l) => `${l}\r\n`).join('');
}

/** A file name for {@link finalCsv}: `final_<method>.csv`, the method being the row's configuration (and seed). */
export function finalCsvName(row: LeaderboardRow, seed?: string): string {
  const method =
    (row.origin === 'ptb' ? row.variant : [row.agent, row.model, row.budget].filter(Boolean).join('_')) +
    (seed ? `_${seed.replace(/^#/, 'run')}` : '');
  return `final_${method.replace(/[^A-Za-z0-9._-]+/g, '_')}.csv`;
}
