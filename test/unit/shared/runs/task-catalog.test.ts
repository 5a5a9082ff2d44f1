import { describe, expect, it } from 'vitest';
import {
  BASE_MODELS,
  BENCHMARKS,
  findBaseModel,
  forbiddenCounterpartOf,
  overallScore,
  promptVars,
} from '../../../../src/shared/runs/task-catalog';

describe('the PostTrainBench grid', () => {
  it('has 4 base models × 7 benchmarks = 28 cells', () => {
    expect(BASE_MODELS.map((m) => m.hfId)).toEqual([
      'Qwen/Qwen3-1.7B-Base',
      'Qwen/Qwen3-4B-Base',
      'HuggingFaceTB/SmolLM3-3B-Base',
      'google/gemma-3-4b-pt',
    ]);
    expect(BENCHMARKS.map((b) => b.id)).toEqual([
      'aime2025',
      'arenahardwriting',
      'bfcl',
      'gpqamain',
      'gsm8k',
      'healthbench',
      'humaneval',
    ]);
  });

  it('knows each base model’s instruct model, the one never to submit', () => {
    expect(BASE_MODELS.map((m) => m.instructHfId)).toEqual([
      'Qwen/Qwen3-1.7B',
      'Qwen/Qwen3-4B',
      'HuggingFaceTB/SmolLM3-3B',
      'google/gemma-3-4b-it',
    ]);
    expect(forbiddenCounterpartOf('google/gemma-3-4b-it')?.hfId).toBe('google/gemma-3-4b-pt');
    expect(forbiddenCounterpartOf('qwen/qwen3-4b-instruct-2507')?.hfId).toBe('Qwen/Qwen3-4B-Base');
    expect(forbiddenCounterpartOf('Qwen/Qwen3-4B-Base')).toBeUndefined();
  });

  it('finds base models by either id', () => {
    expect(findBaseModel('SmolLM3-3B-Base')?.hfId).toBe('HuggingFaceTB/SmolLM3-3B-Base');
    expect(findBaseModel('huggingfacetb/smollm3-3b-base')?.id).toBe('SmolLM3-3B-Base');
    expect(findBaseModel('gpt2')).toBeUndefined();
  });

  it('weights the benchmarks as PTB.md says, marking the LLM-graded ones', () => {
    expect(Object.fromEntries(BENCHMARKS.map((b) => [b.id, b.weight]))).toEqual({
      aime2025: 0.2265,
      arenahardwriting: 0.0904,
      bfcl: 0.0746,
      gpqamain: 0.2246,
      gsm8k: 0.0936,
      healthbench: 0.1841,
      humaneval: 0.1061,
    });
    expect(BENCHMARKS.filter((b) => b.llmGraded).map((b) => b.id)).toEqual(['arenahardwriting', 'healthbench']);
  });
});

describe('overallScore', () => {
  it('is the weighted sum, with weights summing to exactly 1', () => {
    const all = Object.fromEntries(BENCHMARKS.map((b) => [b.id, 50]));
    expect(overallScore(all)).toBeCloseTo(50, 10);
    const onlyAime = Object.fromEntries(BENCHMARKS.map((b) => [b.id, b.id === 'aime2025' ? 100 : 0]));
    expect(overallScore(onlyAime)).toBeCloseTo(22.65, 1);
  });

  it('refuses to score with benchmarks missing', () => {
    expect(() => overallScore({ gsm8k: 40 })).toThrow('overallScore: no mean for aime2025, arenahardwriting');
  });
});

describe('promptVars', () => {
  it('fills the harness placeholders and ours', () => {
    const vars = promptVars({
      model: 'Qwen/Qwen3-1.7B-Base',
      benchmark: 'GSM8K',
      budgetSeconds: 36_000,
      gpuCount: 1,
      now: new Date(Date.UTC(2026, 10, 3, 9, 5, 7)),
    });
    expect(vars).toEqual({
      model: 'Qwen/Qwen3-1.7B-Base',
      benchmark: 'GSM8K',
      hours: '10',
      num_hours: '10',
      budget: '10h',
      num_gpus: '1',
      datetime: 'Tue Nov  3 09:05:07 UTC 2026',
      setup_other: '',
      timer: '/ptw/timer',
    });
  });

  it('shows fractional hours briefly', () => {
    const vars = promptVars({ model: 'm', benchmark: 'b', budgetSeconds: 5_400, gpuCount: 2, now: new Date(0) });
    expect([vars.hours, vars.budget]).toEqual(['1.5', '1h30m']);
    expect(promptVars({ model: 'm', benchmark: 'b', budgetSeconds: 1_000, gpuCount: 1, now: new Date(0) }).hours).toBe(
      '0.28',
    );
  });
});
