import { describe, expect, it } from 'vitest';
import {
  agentChanged,
  budgetEcho,
  chosenTask,
  effectiveGpus,
  effectiveImage,
  gpuOptions,
  gpuToggled,
  hostChanged,
  initialLaunchForm,
  taskOptions,
} from '../../../../src/renderer/runs/launch-form';
import { validateLaunchForm } from '../../../../src/renderer/runs/launch-spec';
import { bare, catalog, ctx, form, report } from './launch-fixtures';

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

describe('budgetEcho', () => {
  it('reads the budget back, with hours when it is at least one', () => {
    expect(budgetEcho('10h')).toBe('10h = 10 hours');
    expect(budgetEcho('90m')).toBe('1h30m = 1.5 hours');
    expect(budgetEcho('1 hour')).toBe('1h = 1 hour');
    expect(budgetEcho('3m')).toBe('3m');
    expect(budgetEcho('10x')).toBeNull();
  });
});
