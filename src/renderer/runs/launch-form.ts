import type { CatalogTask, HostSummary } from '../../shared/contract';
import type { AppErrorData } from '../../shared/errors';
import type { PreflightReport } from '../../shared/hosts';
import { getAgent, type AgentCredential, type AgentDefinition, type AgentId } from '../../shared/runs/agent-catalog';
import { formatDuration, parseDuration } from '../../shared/runs/duration';
import { runSpecWarnings, validateRunSpec, type RunSpec, type RunSpecProblem } from '../../shared/runs/run-spec';
import { BASE_MODELS, BENCHMARKS, REHEARSAL_TASK } from '../../shared/runs/task-catalog';

/**
 * The launch form's state as typed, and the pure steps from it to a run spec. Validation is the shared
 * `validateRunSpec`, so a field shows the very message `runs.start` would send back; the few checks a spec cannot
 * express (a malformed command line, an env row without a name, a name twice) are added here.
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
export const REHEARSAL_BUDGET = '3m';
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

/**
 * A command line → argv: words split on whitespace, '…' taken literally, "…" with \" and \\ escapes. Nothing is
 * expanded: the agent catalog quotes every word again when it builds the container's command.
 */
export function splitCommandLine(text: string): { ok: true; words: string[] } | { ok: false; message: string } {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) return { ok: false, message: `the command has an unclosed ${quote} quote` };
  if (inWord) words.push(word);
  return { ok: true, words };
}

/** A number field: the number when it reads as one, else the text, so the spec's own message explains. */
function numberOrText(text: string): number | string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  return /^\d+(?:\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/** What the form hands to `runs.start` (before the shared schema normalises it). */
export interface LaunchSpecDraft {
  host: string;
  task: { kind: 'rehearsal' } | { kind: 'ptb'; benchmark: string; baseModel: string };
  agent: { id: AgentId; model?: string; command?: string[] };
  budgetSeconds: string;
  gpus: number[];
  image?: string;
  limits: { cpus?: number | string; memoryBytes?: string; pidsLimit?: number | string };
  network: boolean;
  env: Record<string, string>;
  label?: string;
}

export interface DraftResult {
  readonly draft: LaunchSpecDraft;
  /** Problems found while building the draft, before the schema sees it. */
  readonly errors: LaunchFieldErrors;
}

export function buildLaunchDraft(values: LaunchFormValues, ctx: LaunchContext): DraftResult {
  const errors: LaunchFieldErrors = {};
  const task = chosenTask(values, ctx);

  const agent: LaunchSpecDraft['agent'] = { id: values.agent };
  if (values.agent === 'custom') {
    const split = splitCommandLine(values.command);
    if (split.ok) agent.command = split.words;
    else errors.command = split.message;
    if (values.model.trim() !== '') agent.model = values.model;
  } else if (values.agent !== 'rehearsal') {
    agent.model = values.model;
  }

  const env: Record<string, string> = {};
  const envProblems: string[] = [];
  for (const row of values.env) {
    const name = row.name.trim();
    if (name === '' && row.value === '') continue;
    if (name === '') envProblems.push(`the variable with value "${row.value.slice(0, 20)}" has no name`);
    else if (Object.prototype.hasOwnProperty.call(env, name)) envProblems.push(`${name} is set twice`);
    else env[name] = row.value;
  }
  if (envProblems.length > 0) errors.env = envProblems.join('; ');

  const limits: LaunchSpecDraft['limits'] = {};
  const cpus = numberOrText(values.cpus);
  if (cpus !== undefined) limits.cpus = cpus;
  if (values.memory.trim() !== '') limits.memoryBytes = values.memory.trim();
  const pids = numberOrText(values.pids);
  if (pids !== undefined) limits.pidsLimit = pids;

  const image = effectiveImage(values, ctx).trim();
  const label = values.label.trim();
  const draft: LaunchSpecDraft = {
    host: values.host,
    task:
      task?.kind === 'ptb' && task.benchmark !== undefined
        ? { kind: 'ptb', benchmark: task.benchmark, baseModel: values.baseModel }
        : { kind: 'rehearsal' },
    agent,
    budgetSeconds: values.budget,
    gpus: [...effectiveGpus(values, ctx)],
    ...(image === '' ? {} : { image }),
    limits,
    network: values.network,
    env,
    ...(label === '' ? {} : { label }),
  };
  return { draft, errors };
}

/** Which form field a spec problem belongs to (the spec's dotted path → the input that holds it). */
export function fieldForProblem(path: string): LaunchField {
  const [head, next] = path.split('.');
  switch (head) {
    case 'host':
      return 'host';
    case 'task':
      return next === 'baseModel' ? 'baseModel' : 'task';
    case 'agent':
      return next === 'model' ? 'model' : next === 'command' ? 'command' : 'agent';
    case 'budgetSeconds':
      return 'budget';
    case 'gpus':
      return 'gpus';
    case 'image':
      return 'image';
    case 'limits':
      return next === 'cpus' ? 'cpus' : next === 'memoryBytes' ? 'memory' : next === 'pidsLimit' ? 'pids' : 'form';
    case 'network':
      return 'network';
    case 'env':
      return 'env';
    case 'label':
      return 'label';
    default:
      return 'form';
  }
}

/**
 * Spec problems onto fields; a field with several keeps them all, in order. Messages stay as the shared spec words
 * them (the CLI prints the same), so the form and `runs.start` never disagree.
 */
export function problemsToFieldErrors(
  problems: readonly RunSpecProblem[],
  into: LaunchFieldErrors = {},
): LaunchFieldErrors {
  const errors: LaunchFieldErrors = { ...into };
  for (const problem of problems) {
    const field = fieldForProblem(problem.path);
    errors[field] = errors[field] ? `${errors[field]}; ${problem.message}` : problem.message;
  }
  return errors;
}

export type LaunchValidation =
  | { readonly ok: true; readonly draft: LaunchSpecDraft; readonly spec: RunSpec; readonly warnings: string[] }
  | { readonly ok: false; readonly errors: LaunchFieldErrors };

/** The whole form: the draft to send and the normalised spec, or errors by field. */
export function validateLaunchForm(values: LaunchFormValues, ctx: LaunchContext): LaunchValidation {
  const { draft, errors } = buildLaunchDraft(values, ctx);
  const checked = validateRunSpec(draft);
  if (!checked.ok) return { ok: false, errors: problemsToFieldErrors(checked.problems, errors) };
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, draft, spec: checked.spec, warnings: runSpecWarnings(checked.spec) };
}

/**
 * The built-in rehearsal on the chosen host: scripted agent, tiny CPU task, 3 minutes. It keeps the form's GPUs,
 * image and network setting so it exercises the same sandbox the real run will get.
 */
export function rehearsalDraft(values: LaunchFormValues, ctx: LaunchContext): LaunchSpecDraft {
  const image = effectiveImage(values, ctx).trim();
  return {
    host: values.host,
    task: { kind: 'rehearsal' },
    agent: { id: 'rehearsal' },
    budgetSeconds: REHEARSAL_BUDGET,
    gpus: [...effectiveGpus(values, ctx)],
    ...(image === '' ? {} : { image }),
    limits: {},
    network: values.network,
    env: {},
    label: 'Rehearsal',
  };
}

export function validateRehearsal(values: LaunchFormValues, ctx: LaunchContext): LaunchValidation {
  const draft = rehearsalDraft(values, ctx);
  const checked = validateRunSpec(draft);
  if (!checked.ok) return { ok: false, errors: problemsToFieldErrors(checked.problems) };
  return { ok: true, draft, spec: checked.spec, warnings: [] };
}

/** A heading for a launch `runs.start` refused; the message under it (shown in full) says why. */
export function launchErrorTitle(error: AppErrorData, what: 'run' | 'rehearsal'): string | undefined {
  switch (error.code) {
    case 'INVALID_INPUT':
      return 'The run spec was refused';
    case 'CONFLICT':
      return what === 'run' ? 'The run cannot start now' : 'The rehearsal cannot start now';
    case 'SECRET_MISSING':
      return 'The agent’s key is missing';
    case 'IMAGE_MISSING':
      return 'The image is not on the host';
    case 'GPU_BUSY':
      return 'The GPU is busy';
    case 'RUN_ROOT_NOT_WRITABLE':
      return 'The run folder cannot be written on the host';
    case 'RUN_ROOT_FULL':
      return 'The host’s disk is too full for the run';
    case 'HOST_REQUIREMENT_MISSING':
      return 'The host lacks something runs need';
    case 'INTERNAL':
      return what === 'run' ? 'The launch failed' : 'The rehearsal failed to start';
    default:
      // Host faults (unreachable, Docker, host keys) have their own headings.
      return undefined;
  }
}

// --- keys ---------------------------------------------------------------------------------------------------

export type SecretSource = 'environment' | 'keychain' | null;

export interface SecretStatus {
  readonly name: string;
  readonly source: SecretSource;
}

/** One credential the agent accepts, and whether (and under which name) the secret store has it. */
export interface CredentialStatus {
  readonly credential: AgentCredential;
  /** The name a new key is stored under (the first the agent tries). */
  readonly storeName: string;
  /** The stored name that was found, and where; null when none of its names is set (or not known yet). */
  readonly found: { readonly name: string; readonly source: Exclude<SecretSource, null> } | null;
}

/** Every name to ask `secrets.status` about: the agent's credentials and the task's grader keys. */
export function secretNamesToCheck(agent: AgentDefinition, task: TaskOption | null): string[] {
  const names = agent.credentials.flatMap((c) => c.secretNames);
  for (const name of task?.requiredApiKeys ?? []) names.push(name);
  return [...new Set(names)];
}

export function credentialStatuses(
  agent: AgentDefinition,
  secrets: readonly SecretStatus[] | null,
): CredentialStatus[] {
  const sources = new Map((secrets ?? []).map((s) => [s.name, s.source]));
  return agent.credentials.map((credential) => {
    let found: CredentialStatus['found'] = null;
    for (const name of credential.secretNames) {
      const source = sources.get(name);
      if (source) {
        found = { name, source };
        break;
      }
    }
    return { credential, storeName: credential.secretNames[0] ?? credential.env, found };
  });
}

/** The agent can authenticate: it needs no key, or one of its credentials is stored. */
export function agentHasKey(agent: AgentDefinition, statuses: readonly CredentialStatus[]): boolean {
  return agent.credentials.length === 0 || statuses.some((s) => s.found !== null);
}

/** The variable `ptw` reads a secret from when there is no keychain (serve mode, CLI). */
export function secretEnvName(name: string): string {
  return `PTW_SECRET_${name}`;
}
