import { formatDuration } from './duration';

/**
 * PostTrainBench's grid (shared/PTB.md): 4 base models × 7 benchmarks, the instruct models that must never be
 * submitted, and the scoring facts. Data, not configuration: a change here changes what a score means.
 */

export interface BaseModel {
  /** The id the harness and its baselines use: the Hugging Face name without the organisation. */
  id: string;
  /** Hugging Face id the agent fine-tunes, e.g. `Qwen/Qwen3-1.7B-Base`. */
  hfId: string;
  label: string;
  /** The official instruct model: the reference to beat, never a starting point or a submission. */
  instructHfId: string;
  /** Further post-trained releases of the same base, equally forbidden. */
  alsoForbidden: readonly string[];
}

export const BASE_MODELS = [
  {
    id: 'Qwen3-1.7B-Base',
    hfId: 'Qwen/Qwen3-1.7B-Base',
    label: 'Qwen3 1.7B Base',
    instructHfId: 'Qwen/Qwen3-1.7B',
    alsoForbidden: [],
  },
  {
    id: 'Qwen3-4B-Base',
    hfId: 'Qwen/Qwen3-4B-Base',
    label: 'Qwen3 4B Base',
    instructHfId: 'Qwen/Qwen3-4B',
    alsoForbidden: ['Qwen/Qwen3-4B-Instruct-2507', 'Qwen/Qwen3-4B-Thinking-2507'],
  },
  {
    id: 'SmolLM3-3B-Base',
    hfId: 'HuggingFaceTB/SmolLM3-3B-Base',
    label: 'SmolLM3 3B Base',
    instructHfId: 'HuggingFaceTB/SmolLM3-3B',
    alsoForbidden: [],
  },
  {
    id: 'gemma-3-4b-pt',
    hfId: 'google/gemma-3-4b-pt',
    label: 'Gemma 3 4B (pretrained)',
    instructHfId: 'google/gemma-3-4b-it',
    alsoForbidden: [],
  },
] as const satisfies readonly BaseModel[];

export type BaseModelId = (typeof BASE_MODELS)[number]['id'];

export interface Benchmark {
  /** Task id: the folder name under the harness's tasks directory. */
  id: string;
  label: string;
  /** Weight in the overall score (∝ 1 / (instruct mean − base mean), normalised), from PTB.md. */
  weight: number;
  /** The evaluator calls an LLM grader: it needs a grader API key, which belongs to the evaluator only. */
  llmGraded: boolean;
}

export const BENCHMARKS = [
  { id: 'aime2025', label: 'AIME 2025', weight: 0.2265, llmGraded: false },
  { id: 'arenahardwriting', label: 'Arena-Hard (writing)', weight: 0.0904, llmGraded: true },
  { id: 'bfcl', label: 'BFCL (function calling)', weight: 0.0746, llmGraded: false },
  { id: 'gpqamain', label: 'GPQA (main)', weight: 0.2246, llmGraded: false },
  { id: 'gsm8k', label: 'GSM8K', weight: 0.0936, llmGraded: false },
  { id: 'healthbench', label: 'HealthBench', weight: 0.1841, llmGraded: true },
  { id: 'humaneval', label: 'HumanEval', weight: 0.1061, llmGraded: false },
] as const satisfies readonly Benchmark[];

export type BenchmarkId = (typeof BENCHMARKS)[number]['id'];

export function findBenchmark(id: string): Benchmark | undefined {
  return BENCHMARKS.find((b) => b.id === id);
}

/** A base model by catalog id or Hugging Face id (either spelling, case-insensitive). */
export function findBaseModel(idOrHfId: string): BaseModel | undefined {
  const wanted = idOrHfId.trim().toLowerCase();
  return BASE_MODELS.find((m) => m.id.toLowerCase() === wanted || m.hfId.toLowerCase() === wanted);
}

/** The catalog base model whose instruct (or other post-trained) release `hfId` is, if any. */
export function forbiddenCounterpartOf(hfId: string): BaseModel | undefined {
  const wanted = hfId.trim().toLowerCase();
  return BASE_MODELS.find((m) => [m.instructHfId, ...m.alsoForbidden].some((id) => id.toLowerCase() === wanted));
}

/**
 * Overall score from per-benchmark means (each already × 100): Σ weight × mean over all 7 benchmarks. Missing
 * benchmarks are an error rather than a silently lower number.
 */
export function overallScore(benchmarkMeans: Readonly<Record<string, number>>): number {
  const missing = BENCHMARKS.filter((b) => typeof benchmarkMeans[b.id] !== 'number').map((b) => b.id);
  if (missing.length > 0) throw new RangeError(`overallScore: no mean for ${missing.join(', ')}`);
  const weightSum = BENCHMARKS.reduce((sum, b) => sum + b.weight, 0);
  // The published weights are rounded to 4 places; renormalise so they sum to exactly 1.
  return BENCHMARKS.reduce((sum, b) => sum + (b.weight / weightSum) * (benchmarkMeans[b.id] ?? 0), 0);
}

/** The built-in rehearsal task: a tiny CPU-only stand-in for a benchmark, to try the whole pipeline in a minute. */
export const REHEARSAL_TASK = {
  id: 'rehearsal',
  label: 'Rehearsal (tiny arithmetic, CPU only)',
  /** What the prompt calls the model to train; there is no real checkpoint behind it. */
  modelName: 'ptw/rehearsal-tiny',
  benchmarkName: 'Rehearsal Arithmetic',
  /** Under resources/: the task files, as a PostTrainBench task folder would hold them. */
  resourceDir: 'rehearsal/task',
  /** Copied into the agent's workspace and the clean task/ folder. */
  taskFiles: ['evaluate.py', 'test.jsonl'],
  /** Bind-mounted read-only over their workspace copies. */
  protectedPaths: ['evaluate.py', 'test.jsonl'],
  evaluationEntry: 'evaluate.py',
  /** The prompt template, rendered by the launcher into /ptw/prompt.txt; not a task file. */
  promptTemplate: 'prompt.txt',
  defaultBudgetSeconds: 5 * 60,
} as const;

/** Where the launcher puts the time-left script (a shell script, read-only in the sandbox). */
export const TIMER_PATH = '/ptw/timer';

export interface PromptVarsInput {
  /** Hugging Face id of the model to train (or the rehearsal's stand-in name). */
  model: string;
  /** The benchmark as the prompt names it (the harness uses its display name, e.g. `HealthBench Hard`). */
  benchmark: string;
  budgetSeconds: number;
  gpuCount: number;
  /** When the prompt is rendered; `{datetime}` shows it as `date -u` would. */
  now: Date;
  /** Text for the harness's `{setup_other}` slot (extra setup notes); empty by default. */
  setupOther?: string;
}

/**
 * The values a prompt template may use. PostTrainBench's own template uses `{model}`, `{benchmark}`,
 * `{num_hours}`, `{datetime}` and `{setup_other}`; ours add `{hours}`, `{budget}`, `{num_gpus}` and `{timer}`.
 */
export function promptVars(input: PromptVarsInput): Record<string, string> {
  const hours = input.budgetSeconds / 3_600;
  const hoursText = Number.isInteger(hours) ? String(hours) : String(Math.round(hours * 100) / 100);
  return {
    model: input.model,
    benchmark: input.benchmark,
    hours: hoursText,
    num_hours: hoursText,
    budget: formatDuration(input.budgetSeconds),
    num_gpus: String(input.gpuCount),
    datetime: utcDateLikeDate(input.now),
    setup_other: input.setupOther ?? '',
    timer: TIMER_PATH,
  };
}

/** `Mon Nov 23 12:00:00 UTC 2026`, the shape of `date -u` in the C locale. */
function utcDateLikeDate(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number): string => String(n).padStart(2, '0');
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const day = String(d.getUTCDate()).padStart(2, ' ');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${day} ${time} UTC ${d.getUTCFullYear()}`;
}
