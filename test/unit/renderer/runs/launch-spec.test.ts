import { describe, expect, it } from 'vitest';
import {
  envRowAdded,
  envRowChanged,
  envRowRemoved,
  initialLaunchForm,
} from '../../../../src/renderer/runs/launch-form';
import {
  buildLaunchDraft,
  fieldForProblem,
  launchErrorTitle,
  rehearsalDraft,
  splitCommandLine,
  validateLaunchForm,
  validateRehearsal,
} from '../../../../src/renderer/runs/launch-spec';
import { validateRunSpec } from '../../../../src/shared/runs/run-spec';
import { bare, ctx, form } from './launch-fixtures';

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

describe('launchErrorTitle', () => {
  it('names refusals the user can act on, leaving host faults to their own headings', () => {
    const error = (code: Parameters<typeof launchErrorTitle>[0]['code']) => ({ code, message: 'm', retryable: false });
    expect(launchErrorTitle(error('INVALID_INPUT'), 'run')).toBe('The run spec was refused');
    expect(launchErrorTitle(error('SECRET_MISSING'), 'run')).toBe('The agent’s key is missing');
    expect(launchErrorTitle(error('INTERNAL'), 'rehearsal')).toBe('The rehearsal failed to start');
    expect(launchErrorTitle(error('HOST_UNREACHABLE'), 'run')).toBeUndefined();
  });
});
