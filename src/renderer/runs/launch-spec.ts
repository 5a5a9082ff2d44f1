import type { AppErrorData } from '../../shared/errors';
import { getAgent, type AgentId } from '../../shared/runs/agent-catalog';
import { runSpecWarnings, validateRunSpec, type RunSpec, type RunSpecProblem } from '../../shared/runs/run-spec';
import { isScriptedAgent, SCRIPTED_SETUP } from '../../shared/runs/scripted-agents';
import {
  chosenTask,
  effectiveGpus,
  effectiveImage,
  type LaunchContext,
  type LaunchField,
  type LaunchFieldErrors,
  type LaunchFormValues,
} from './launch-form';

/**
 * From the launch form's values to the spec `runs.start` takes. Validation is the shared `validateRunSpec`, so a
 * field shows the very message `runs.start` would send back; the few checks a spec cannot express (a malformed
 * command line, an env row without a name, a name twice) are added here.
 */

export const REHEARSAL_BUDGET = '3m';

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
  agent: { id: AgentId; model?: string; command?: string[]; scripted?: Record<string, never> };
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

/**
 * The rehearsal with the real agent CLI the form names, against the scripted model and its default script
 * (docs/model-script.md); null when the form's agent is not one of the four CLIs.
 */
export function scriptedRehearsalDraft(values: LaunchFormValues, ctx: LaunchContext): LaunchSpecDraft | null {
  if (!isScriptedAgent(values.agent)) return null;
  const model = values.model.trim() === '' ? SCRIPTED_SETUP[values.agent].model : values.model.trim();
  return {
    ...rehearsalDraft(values, ctx),
    agent: { id: values.agent, model, scripted: {} },
    // The point of it: the CLI works with the scripted model and nothing else to reach.
    network: false,
    label: `Rehearsal with ${getAgent(values.agent).label}`,
  };
}

export function validateRehearsal(values: LaunchFormValues, ctx: LaunchContext, scripted = false): LaunchValidation {
  const draft = scripted ? scriptedRehearsalDraft(values, ctx) : rehearsalDraft(values, ctx);
  if (!draft) return { ok: false, errors: { agent: 'Choose Claude Code, Codex, Gemini CLI or OpenCode as the agent' } };
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
