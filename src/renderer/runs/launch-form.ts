import type { CatalogTask, HostSummary } from '../../shared/contract';
import type { PreflightReport } from '../../shared/hosts';
import { getAgent, type AgentId } from '../../shared/runs/agent-catalog';
import { formatDuration, parseDuration } from '../../shared/runs/duration';
import { BASE_MODELS, BENCHMARKS, REHEARSAL_TASK } from '../../shared/runs/task-catalog';

/**
 * The launch form's state as typed, and the pure edits on it (another host, agent, GPU, env row). The steps from it
 * to a run spec are in `launch-spec.ts`, the agent's keys in `launch-keys.ts`.
 */

export interface EnvRow {
  /** For React keys; rows are added and removed in the middle. */
  readonly id: number;
  readonly name: string;
  readonly value: string;
}

export interface LaunchFormValues {
  readonly host: string;
  /** A {@link TaskOption} key: `ptb:<benchmark>` or `rehearsal`; empty until chosen (the first option then). */
  readonly task: string;
  /** A BASE_MODELS id. */
  readonly baseModel: string;
  readonly agent: AgentId;
  readonly model: string;
  /** The custom agent's command line: words, with '…' or "…" quoting. */
  readonly command: string;
  readonly budget: string;
  /** Ticked GPU indices; null until the user ticks one: then the first free GPU of the last preflight. */
  readonly gpus: readonly number[] | null;
  /** null until edited: then the host's default (its first required image). */
  readonly image: string | null;
  readonly cpus: string;
  readonly memory: string;
  readonly pids: string;
  readonly network: boolean;
  readonly env: readonly EnvRow[];
  readonly label: string;
}

export type LaunchField =
  | 'host'
  | 'task'
  | 'baseModel'
  | 'agent'
  | 'model'
  | 'command'
  | 'budget'
  | 'gpus'
  | 'image'
  | 'cpus'
  | 'memory'
  | 'pids'
  | 'network'
  | 'env'
  | 'label'
  | 'form';

export type LaunchFieldErrors = Partial<Record<LaunchField, string>>;

/** What the form knows about the chosen host and its task catalog. */
export interface LaunchContext {
  readonly host: HostSummary | null;
  /** The host's last preflight (GPUs, free GPUs), if one is known. */
  readonly report: PreflightReport | null;
  readonly tasks: readonly TaskOption[];
}

export interface TaskOption {
  readonly key: string;
  readonly kind: 'ptb' | 'rehearsal';
  /** With `ptb`. */
  readonly benchmark?: string;
  readonly label: string;
  /** Keys the evaluator needs for this task (LLM-graded benchmarks), when the host's catalog says. */
  readonly requiredApiKeys: readonly string[];
}

export const DEFAULT_BUDGET = '10h';
export const REHEARSAL_KEY = 'rehearsal';

const DEFAULT_AGENT: AgentId = 'claude-code';

export function initialLaunchForm(host: string): LaunchFormValues {
  return {
    host,
    task: '',
    baseModel: BASE_MODELS[0].id,
    agent: DEFAULT_AGENT,
    model: getAgent(DEFAULT_AGENT).exampleModels[0] ?? '',
    command: '',
    budget: DEFAULT_BUDGET,
    gpus: null,
    image: null,
    cpus: '',
    memory: '',
    pids: '',
    network: true,
    env: [],
    label: '',
  };
}

/** Options from the host's catalog; without one (not loaded, or it failed) PostTrainBench's own benchmarks. */
export function taskOptions(catalog: readonly CatalogTask[] | null): TaskOption[] {
  if (catalog === null) {
    return [
      ...BENCHMARKS.map((b) => ({
        key: `ptb:${b.id}`,
        kind: 'ptb' as const,
        benchmark: b.id,
        label: b.label,
        requiredApiKeys: [],
      })),
      { key: REHEARSAL_KEY, kind: 'rehearsal', label: REHEARSAL_TASK.label, requiredApiKeys: [] },
    ];
  }
  // Benchmarks in the catalog's order, then the rehearsal (always offered, whether or not the host lists it).
  const options: TaskOption[] = [];
  let rehearsalLabel: string = REHEARSAL_TASK.label;
  for (const task of catalog) {
    if (task.kind === 'rehearsal') {
      rehearsalLabel = task.displayName;
    } else if (task.benchmark && !options.some((o) => o.benchmark === task.benchmark)) {
      options.push({
        key: `ptb:${task.benchmark}`,
        kind: 'ptb',
        benchmark: task.benchmark,
        label: task.displayName,
        requiredApiKeys: task.requiredApiKeys,
      });
    }
  }
  options.push({ key: REHEARSAL_KEY, kind: 'rehearsal', label: rehearsalLabel, requiredApiKeys: [] });
  return options;
}

/** The chosen task: the one picked, else the first benchmark, else the rehearsal. */
export function chosenTask(values: LaunchFormValues, ctx: LaunchContext): TaskOption | null {
  return (
    ctx.tasks.find((t) => t.key === values.task) ?? ctx.tasks.find((t) => t.kind === 'ptb') ?? ctx.tasks[0] ?? null
  );
}

export interface GpuOption {
  readonly index: number;
  readonly name: string;
  readonly memoryMiB: number;
  readonly free: boolean;
}

export function gpuOptions(report: PreflightReport | null): GpuOption[] {
  if (!report) return [];
  const free = new Set(report.freeGpus);
  return [...report.gpus]
    .sort((a, b) => a.index - b.index)
    .map((g) => ({ index: g.index, name: g.name, memoryMiB: g.memoryTotalMiB, free: free.has(g.index) }));
}

/** The first free GPU of the last preflight; none known, none ticked (the launcher then picks). */
export function defaultGpus(report: PreflightReport | null): number[] {
  const first = gpuOptions(report).find((g) => g.free);
  return first ? [first.index] : [];
}

export function effectiveGpus(values: LaunchFormValues, ctx: LaunchContext): readonly number[] {
  return values.gpus ?? defaultGpus(ctx.report);
}

export function defaultImage(host: HostSummary | null): string {
  return host?.requiredImages[0] ?? '';
}

export function effectiveImage(values: LaunchFormValues, ctx: LaunchContext): string {
  return values.image ?? defaultImage(ctx.host);
}

/** Another host: its GPUs and image are its own, so those go back to following its defaults. */
export function hostChanged(values: LaunchFormValues, host: string): LaunchFormValues {
  return host === values.host ? values : { ...values, host, gpus: null, image: null };
}

/** Another agent: the model id of the previous one means nothing to it. */
export function agentChanged(values: LaunchFormValues, agent: AgentId): LaunchFormValues {
  return agent === values.agent ? values : { ...values, agent, model: getAgent(agent).exampleModels[0] ?? '' };
}

export function gpuToggled(values: LaunchFormValues, ctx: LaunchContext, index: number, on: boolean): LaunchFormValues {
  const current = effectiveGpus(values, ctx).filter((i) => i !== index);
  return { ...values, gpus: (on ? [...current, index] : current).sort((a, b) => a - b) };
}

export function envRowAdded(values: LaunchFormValues): LaunchFormValues {
  const id = values.env.reduce((max, row) => Math.max(max, row.id), 0) + 1;
  return { ...values, env: [...values.env, { id, name: '', value: '' }] };
}

export function envRowChanged(
  values: LaunchFormValues,
  id: number,
  change: Partial<Omit<EnvRow, 'id'>>,
): LaunchFormValues {
  return { ...values, env: values.env.map((row) => (row.id === id ? { ...row, ...change } : row)) };
}

export function envRowRemoved(values: LaunchFormValues, id: number): LaunchFormValues {
  return { ...values, env: values.env.filter((row) => row.id !== id) };
}

/** "1h30m = 1.5 hours": how the budget reads back, or null when it does not parse (the error says why). */
export function budgetEcho(text: string): string | null {
  const parsed = parseDuration(text);
  if (!parsed.ok) return null;
  const hours = parsed.value / 3600;
  const inHours =
    parsed.value >= 3600
      ? ` = ${Number.isInteger(hours) ? hours : hours.toFixed(2).replace(/0+$/, '')} ${hours === 1 ? 'hour' : 'hours'}`
      : '';
  return `${formatDuration(parsed.value)}${inHours}`;
}
