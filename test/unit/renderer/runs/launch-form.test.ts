import { describe, expect, it } from 'vitest';
import {
  agentChanged,
  agentHasKey,
  budgetEcho,
  buildLaunchDraft,
  chosenTask,
  credentialStatuses,
  effectiveGpus,
  effectiveImage,
  envRowAdded,
  envRowChanged,
  envRowRemoved,
  fieldForProblem,
  gpuOptions,
  gpuToggled,
  hostChanged,
  initialLaunchForm,
  launchErrorTitle,
  rehearsalDraft,
  secretNamesToCheck,
  splitCommandLine,
  taskOptions,
  validateLaunchForm,
  validateRehearsal,
  type LaunchContext,
  type LaunchFormValues,
} from '../../../../src/renderer/runs/launch-form';
import type { PreflightReport } from '../../../../src/shared/hosts';
import { getAgent } from '../../../../src/shared/runs/agent-catalog';
import { validateRunSpec } from '../../../../src/shared/runs/run-spec';
import { hostSummary } from '../fakes';

const report: PreflightReport = {
  host: 'gpu1',
  startedAt: '2026-11-23T12:00:00Z',
  finishedAt: '2026-11-23T12:00:05Z',
  checks: [],
  gpus: [2, 0, 1].map((index) => ({
    index,
    name: 'NVIDIA H100 80GB HBM3',
    uuid: `GPU-${index}`,
    memoryTotalMiB: 81559,
    driverVersion: '550.54',
  })),
  freeGpus: [1, 2],
  overall: 'pass',
};

// As main lists it: the rehearsal first, then the checkout's benchmarks.
const catalog = taskOptions([
  { kind: 'rehearsal', displayName: 'Rehearsal', requiredApiKeys: [] },
  { kind: 'ptb', benchmark: 'gsm8k', displayName: 'GSM8K', requiredApiKeys: [] },
  { kind: 'ptb', benchmark: 'arenahardwriting', displayName: 'Arena-Hard', requiredApiKeys: ['OPENAI_API_KEY'] },
]);

const ctx: LaunchContext = {
  host: hostSummary('gpu1', { requiredImages: ['ghcr.io/lab/sandbox:1', 'ghcr.io/lab/eval:1'] }),
  report,
  tasks: catalog,
};
const bare: LaunchContext = { host: hostSummary('local', { kind: 'local' }), report: null, tasks: taskOptions(null) };

const form = (overrides: Partial<LaunchFormValues> = {}): LaunchFormValues => ({
  ...initialLaunchForm('gpu1'),
  ...overrides,
});

describe('launch form defaults', () => {
  it('starts on a PostTrainBench run with Claude Code, its first example model and 10 hours', () => {
    const values = initialLaunchForm('gpu1');
    expect(values).toMatchObject({ host: 'gpu1', agent: 'claude-code', model: 'claude-opus-4-6', budget: '10h' });
    expect(chosenTask(values, ctx)?.key).toBe('ptb:gsm8k');
    expect(validateLaunchForm(values, ctx).ok).toBe(true);
  });

  it('ticks the first free GPU of the last preflight, and none without one', () => {
    expect(effectiveGpus(form(), ctx)).toEqual([1]);
    expect(effectiveGpus(form(), bare)).toEqual([]);
    expect(effectiveGpus(form(), { ...ctx, report: { ...report, freeGpus: [] } })).toEqual([]);
  });

  it('lists GPUs by index with the free ones marked', () => {
    expect(gpuOptions(report).map((g) => [g.index, g.free])).toEqual([
      [0, false],
      [1, true],
      [2, true],
    ]);
    expect(gpuOptions(null)).toEqual([]);
  });

  it('uses the host’s first required image until the user types one', () => {
    expect(effectiveImage(form(), ctx)).toBe('ghcr.io/lab/sandbox:1');
    expect(effectiveImage(form({ image: 'mine:2' }), ctx)).toBe('mine:2');
    expect(effectiveImage(form({ image: '' }), ctx)).toBe('');
    expect(effectiveImage(form(), bare)).toBe('');
  });

  it('another host brings back its own GPU and image defaults', () => {
    const edited = gpuToggled(form({ image: 'mine:2' }), ctx, 2, true);
    expect(edited.gpus).toEqual([1, 2]);
    const moved = hostChanged(edited, 'gpu2');
    expect(moved).toMatchObject({ host: 'gpu2', gpus: null, image: null });
    expect(hostChanged(edited, 'gpu1')).toBe(edited);
  });

  it('toggles GPUs from what is shown, in index order', () => {
    let values = gpuToggled(form(), ctx, 0, true);
    expect(values.gpus).toEqual([0, 1]);
    values = gpuToggled(values, ctx, 1, false);
    expect(values.gpus).toEqual([0]);
    values = gpuToggled(values, ctx, 0, false);
    // Unticking everything is a choice (the launcher then picks), not a return to the default.
    expect(effectiveGpus(values, ctx)).toEqual([]);
  });

  it('a new agent gets its own example model', () => {
    expect(agentChanged(form({ model: 'claude-sonnet-4-6' }), 'codex').model).toBe('gpt-5.1-codex-max');
    expect(agentChanged(form(), 'rehearsal').model).toBe('');
    const same = form({ model: 'mine' });
    expect(agentChanged(same, 'claude-code')).toBe(same);
  });
});

describe('task options', () => {
  it('come from the host’s catalog, benchmarks first, with the rehearsal always there', () => {
    expect(catalog.map((t) => t.key)).toEqual(['ptb:gsm8k', 'ptb:arenahardwriting', 'rehearsal']);
    expect(catalog.at(-1)?.label).toBe('Rehearsal');
    const noRehearsal = taskOptions([{ kind: 'ptb', benchmark: 'bfcl', displayName: 'BFCL', requiredApiKeys: [] }]);
    expect(noRehearsal.map((t) => t.key)).toEqual(['ptb:bfcl', 'rehearsal']);
    expect(taskOptions([]).map((t) => t.key)).toEqual(['rehearsal']);
  });

  it('fall back to PostTrainBench’s seven benchmarks when the catalog cannot be read', () => {
    const fallback = taskOptions(null);
    expect(fallback).toHaveLength(8);
    expect(fallback.at(-1)?.kind).toBe('rehearsal');
  });

  it('a picked task that the new host lacks falls back to its first benchmark, or the rehearsal', () => {
    expect(chosenTask(form({ task: 'ptb:humaneval' }), ctx)?.key).toBe('ptb:gsm8k');
    expect(chosenTask(form({ task: 'rehearsal' }), ctx)?.kind).toBe('rehearsal');
    const noCheckout = { ...ctx, tasks: taskOptions([{ kind: 'rehearsal', displayName: 'R', requiredApiKeys: [] }]) };
    expect(chosenTask(form(), noCheckout)?.key).toBe('rehearsal');
    expect(chosenTask(form(), { ...ctx, tasks: [] })).toBeNull();
  });
});

describe('buildLaunchDraft', () => {
  it('builds the spec runs.start takes, leaving the rest to the shared schema’s defaults', () => {
    const { draft, errors } = buildLaunchDraft(form({ label: '  opus gsm8k  ' }), ctx);
    expect(errors).toEqual({});
    expect(draft).toEqual({
      host: 'gpu1',
      task: { kind: 'ptb', benchmark: 'gsm8k', baseModel: 'Qwen3-1.7B-Base' },
      agent: { id: 'claude-code', model: 'claude-opus-4-6' },
      budgetSeconds: '10h',
      gpus: [1],
      image: 'ghcr.io/lab/sandbox:1',
      limits: {},
      network: true,
      env: {},
      label: 'opus gsm8k',
    });
    const checked = validateRunSpec(draft);
    expect(checked.ok && checked.spec).toMatchObject({
      budgetSeconds: 36_000,
      task: { baseModel: 'Qwen/Qwen3-1.7B-Base' },
    });
  });

  it('turns limits into numbers where they read as numbers and passes the rest for the schema to explain', () => {
    const { draft } = buildLaunchDraft(form({ cpus: ' 16 ', memory: '128g', pids: '4096' }), ctx);
    expect(draft.limits).toEqual({ cpus: 16, memoryBytes: '128g', pidsLimit: 4096 });
    expect(buildLaunchDraft(form({ cpus: 'lots' }), ctx).draft.limits).toEqual({ cpus: 'lots' });
  });

  it('builds a rehearsal task, and a custom agent’s argv from its command line', () => {
    const { draft } = buildLaunchDraft(
      form({ task: 'rehearsal', agent: 'custom', command: `my-agent --model {model} "{prompt}" 'a b'`, model: '' }),
      ctx,
    );
    expect(draft.task).toEqual({ kind: 'rehearsal' });
    expect(draft.agent).toEqual({ id: 'custom', command: ['my-agent', '--model', '{model}', '{prompt}', 'a b'] });
  });

  it('leaves the model out for the scripted rehearsal agent', () => {
    expect(buildLaunchDraft(form({ agent: 'rehearsal', model: 'x' }), ctx).draft.agent).toEqual({ id: 'rehearsal' });
  });

  it('keeps env rows with names, skips empty ones, and flags nameless and repeated ones', () => {
    let values = envRowAdded(envRowAdded(envRowAdded(envRowAdded(form()))));
    const [a, b, , d] = values.env.map((row) => row.id);
    values = envRowChanged(values, a!, { name: ' WANDB_PROJECT ', value: 'ptb' });
    values = envRowChanged(values, b!, { name: '', value: 'orphan' });
    values = envRowChanged(values, d!, { name: 'WANDB_PROJECT', value: 'again' });
    const { draft, errors } = buildLaunchDraft(values, ctx);
    expect(draft.env).toEqual({ WANDB_PROJECT: 'ptb' });
    expect(errors.env).toContain('has no name');
    expect(errors.env).toContain('WANDB_PROJECT is set twice');
    expect(envRowRemoved(values, b!).env.map((row) => row.id)).toEqual([a, values.env[2]!.id, d]);
  });

  it('gives new env rows ids that are unique within the form', () => {
    const values = envRowAdded(envRowAdded(form()));
    const removed = envRowRemoved(values, values.env[0]!.id);
    const again = envRowAdded(removed);
    expect(new Set(again.env.map((r) => r.id)).size).toBe(again.env.length);
  });
});

describe('validateLaunchForm', () => {
  it('puts the shared spec’s messages on the fields that hold them', () => {
    const result = validateLaunchForm(
      form({ budget: '10x', model: 'claude opus', pids: '10', image: 'bad image' }),
      ctx,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.budget).toContain('"x" in "10x" is not a unit');
    expect(result.errors.model).toContain('no spaces');
    expect(result.errors.pids).toContain('at least 64');
    expect(result.errors.image).toContain('without spaces');
    expect(result.errors.form).toBeUndefined();
  });

  it('gives the same words runs.start would, for a bare number budget and a forbidden base model', () => {
    const result = validateLaunchForm(form({ budget: '10', baseModel: 'Qwen/Qwen3-4B' }), ctx);
    expect(!result.ok && result.errors).toMatchObject({
      budget: expect.stringContaining('has no unit'),
      baseModel: expect.stringContaining('reference to beat'),
    });
  });

  it('refuses credentials in the extra env', () => {
    const values = envRowChanged(envRowAdded(form()), 1, { name: 'HF_TOKEN', value: 'x' });
    const result = validateLaunchForm(values, ctx);
    expect(!result.ok && result.errors.env).toContain('looks like a credential');
  });

  it('reports a missing host and a malformed command', () => {
    const result = validateLaunchForm(form({ host: '', agent: 'custom', command: 'agent "unclosed' }), ctx);
    expect(!result.ok && result.errors).toMatchObject({
      host: expect.stringContaining('name the host'),
      command: expect.stringContaining('unclosed'),
    });
  });

  it('returns the normalised spec and its warnings when valid', () => {
    const result = validateLaunchForm(form({ network: false, budget: '1h30m' }), ctx);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.spec.budgetSeconds).toBe(5400);
    expect(result.warnings).toEqual([expect.stringContaining('network off')]);
  });
});

describe('the rehearsal', () => {
  it('is the built-in task and agent for 3 minutes on the chosen host, with the form’s GPUs, image and network', () => {
    const draft = rehearsalDraft(form({ budget: '10x', model: 'claude opus' }), ctx);
    expect(draft).toMatchObject({
      host: 'gpu1',
      task: { kind: 'rehearsal' },
      agent: { id: 'rehearsal' },
      budgetSeconds: '3m',
      gpus: [1],
      image: 'ghcr.io/lab/sandbox:1',
      network: true,
    });
    expect(rehearsalDraft(form({ network: false }), ctx).network).toBe(false);
    // Mistakes elsewhere in the form do not stop a rehearsal.
    const checked = validateRehearsal(form({ budget: '10x' }), ctx);
    expect(checked.ok && checked.spec.budgetSeconds).toBe(180);
  });

  it('leaves out the image when the host has none, and needs a host', () => {
    expect(rehearsalDraft(initialLaunchForm('local'), bare)).not.toHaveProperty('image');
    expect(validateRehearsal(initialLaunchForm(''), bare).ok).toBe(false);
  });
});

describe('splitCommandLine', () => {
  it('splits on whitespace with both kinds of quotes', () => {
    expect(splitCommandLine(`  a  b\t'c d' "e \\"f\\" \\\\" ''  `)).toEqual({
      ok: true,
      words: ['a', 'b', 'c d', 'e "f" \\', ''],
    });
    expect(splitCommandLine('x"y z"')).toEqual({ ok: true, words: ['xy z'] });
    expect(splitCommandLine('')).toEqual({ ok: true, words: [] });
  });

  it('refuses an unclosed quote', () => {
    expect(splitCommandLine(`a 'b`)).toEqual({ ok: false, message: `the command has an unclosed ' quote` });
  });
});

describe('budgetEcho', () => {
  it('reads the budget back, with hours when it is at least one', () => {
    expect(budgetEcho('10h')).toBe('10h = 10 hours');
    expect(budgetEcho('90m')).toBe('1h30m = 1.5 hours');
    expect(budgetEcho('1 hour')).toBe('1h = 1 hour');
    expect(budgetEcho('3m')).toBe('3m');
    expect(budgetEcho('10x')).toBeNull();
  });
});

describe('fieldForProblem', () => {
  it('maps spec paths onto form fields', () => {
    expect(fieldForProblem('task.baseModel')).toBe('baseModel');
    expect(fieldForProblem('task.benchmark')).toBe('task');
    expect(fieldForProblem('agent.model')).toBe('model');
    expect(fieldForProblem('agent.command.0')).toBe('command');
    expect(fieldForProblem('budgetSeconds')).toBe('budget');
    expect(fieldForProblem('limits.memoryBytes')).toBe('memory');
    expect(fieldForProblem('limits.diskBytes')).toBe('form');
    expect(fieldForProblem('env.HF_TOKEN')).toBe('env');
    expect(fieldForProblem('gpus.1')).toBe('gpus');
    expect(fieldForProblem('')).toBe('form');
  });
});

describe('keys', () => {
  const claude = getAgent('claude-code');
  const codex = getAgent('codex');

  it('asks about every name the agent and the task’s grader may use, once', () => {
    expect(secretNamesToCheck(claude, chosenTask(form({ task: 'ptb:arenahardwriting' }), ctx))).toEqual([
      'ANTHROPIC_API_KEY',
      'CLAUDE_CODE_OAUTH_TOKEN',
      'OPENAI_API_KEY',
    ]);
    expect(secretNamesToCheck(codex, chosenTask(form({ task: 'ptb:arenahardwriting' }), ctx))).toEqual([
      'CODEX_API_KEY',
      'OPENAI_API_KEY',
    ]);
    expect(secretNamesToCheck(getAgent('rehearsal'), null)).toEqual([]);
  });

  it('finds a credential under any of its names, first name first', () => {
    const statuses = credentialStatuses(codex, [
      { name: 'CODEX_API_KEY', source: null },
      { name: 'OPENAI_API_KEY', source: 'environment' },
    ]);
    expect(statuses).toEqual([
      expect.objectContaining({ storeName: 'CODEX_API_KEY', found: { name: 'OPENAI_API_KEY', source: 'environment' } }),
    ]);
    expect(agentHasKey(codex, statuses)).toBe(true);
  });

  it('knows when no credential is there, and that a keyless agent needs none', () => {
    const statuses = credentialStatuses(claude, [
      { name: 'ANTHROPIC_API_KEY', source: null },
      { name: 'CLAUDE_CODE_OAUTH_TOKEN', source: null },
    ]);
    expect(statuses.every((s) => s.found === null)).toBe(true);
    expect(agentHasKey(claude, statuses)).toBe(false);
    expect(agentHasKey(claude, credentialStatuses(claude, null))).toBe(false);
    expect(agentHasKey(getAgent('rehearsal'), [])).toBe(true);
  });
});

describe('launchErrorTitle', () => {
  it('names refusals the user can act on, leaving host faults to their own headings', () => {
    const error = (code: Parameters<typeof launchErrorTitle>[0]['code']) => ({ code, message: 'm', retryable: false });
    expect(launchErrorTitle(error('INVALID_INPUT'), 'run')).toBe('The run spec was refused');
    expect(launchErrorTitle(error('SECRET_MISSING'), 'run')).toBe('The agent’s key is missing');
    expect(launchErrorTitle(error('INTERNAL'), 'rehearsal')).toBe('The rehearsal failed to start');
    expect(launchErrorTitle(error('HOST_UNREACHABLE'), 'run')).toBeUndefined();
  });
});
