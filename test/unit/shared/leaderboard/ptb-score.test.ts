import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AGGREGATED_BASELINE,
  AGGREGATED_BASELINE_FEWSHOT,
  INSTRUCT_MODEL_OF,
} from '../../../../src/shared/leaderboard/ptb-baselines';
import {
  buildLeaderboard,
  cellKey,
  deriveWeights,
  finalCsv,
  judgeVerdict,
  PTB_WEIGHTS,
  pythonFloat,
  readAccuracy,
  referenceRows,
  rowLabel,
  sampleStd,
  type ScoreRunInput,
} from '../../../../src/shared/leaderboard/ptb-score';

const fixtures = path.join(__dirname, '../../../fixtures/posttrainbench');
const read = (rel: string): string => readFileSync(path.join(fixtures, rel), 'utf8');

/** A harness CSV (`model,<benchmarks…>`) as { model: { benchmark: value } }, values kept as written. */
function parseCsv(text: string): Record<string, Record<string, string>> {
  const [header, ...lines] = text.split(/\r?\n/).filter((l) => l !== '');
  const columns = header!.split(',');
  const out: Record<string, Record<string, string>> = {};
  for (const line of lines) {
    const cells = line.split(',');
    out[cells[0]!] = Object.fromEntries(columns.slice(1).map((c, i) => [c, cells[i + 1]!]));
  }
  return out;
}

const clean = { source: 'judge', state: 'clean', reasons: [] } as const;

/** One run per cell of a harness CSV, as if each were a result folder with metrics.json and clean verdicts. */
function runsFromCsv(
  text: string,
  seed: string | null,
  variant = 'claude_non_api_claude-sonnet-4-6_10h',
): ScoreRunInput[] {
  const runs: ScoreRunInput[] = [];
  let order = 0;
  for (const [model, row] of Object.entries(parseCsv(text))) {
    for (const [benchmark, value] of Object.entries(row)) {
      runs.push({
        runId: `r-${seed ?? 'x'}-${benchmark}-${model}`,
        createdAt: '2026-03-01T00:00:00Z',
        origin: 'ptb',
        agent: 'claude-code',
        model: 'claude-sonnet-4-6',
        budgetSeconds: 36_000,
        variant,
        seed,
        order: order++,
        benchmark,
        baseModel: model,
        result: readAccuracy(JSON.stringify({ accuracy: Number(value) })),
        verdict: { ...clean, reasons: [] },
        gpuHours: null,
        costUsd: null,
        tokens: null,
      });
    }
  }
  return runs;
}

describe('PostTrainBench weights', () => {
  it('derives the published factors from the base and instruct baselines', () => {
    const published = JSON.parse(read('checkout/scripts/factors.json')) as Record<string, number>;
    const website = JSON.parse(read('website/factors.json')) as Record<string, number>;
    const derived = deriveWeights();
    expect(Object.keys(derived).sort()).toEqual(Object.keys(published).sort());
    for (const [b, w] of Object.entries(published)) {
      expect(derived[b]).toBeCloseTo(w, 12);
      expect(website[b]).toBe(w);
    }
    expect(Object.values(PTB_WEIGHTS).reduce((s, w) => s + w, 0)).toBeCloseTo(1, 12);
  });

  it('refuses a benchmark whose instruct models do not beat the base models', () => {
    const flat = Object.fromEntries(Object.entries(AGGREGATED_BASELINE).map(([m, row]) => [m, { ...row, gsm8k: 0.5 }]));
    expect(() => deriveWeights(flat)).toThrow(/gsm8k has no gap/);
  });

  it('uses the baselines the harness and the website publish', () => {
    const csv = parseCsv(read('website/aggregated_baseline.csv'));
    expect(Object.keys(AGGREGATED_BASELINE).sort()).toEqual(Object.keys(csv).sort());
    for (const [model, row] of Object.entries(csv)) {
      for (const [b, v] of Object.entries(row)) expect(AGGREGATED_BASELINE[model]![b]).toBe(Number(v));
    }
    const json = JSON.parse(read('baselines.json')) as Record<string, Record<string, Record<string, number>>>;
    for (const [model, row] of Object.entries(json.zeroshot!)) {
      for (const [b, v] of Object.entries(row)) expect(AGGREGATED_BASELINE[model]![b]).toBe(v);
    }
    for (const [model, row] of Object.entries(json.fewshot!)) {
      for (const [b, v] of Object.entries(row)) expect(AGGREGATED_BASELINE_FEWSHOT[model]![b]).toBe(v);
    }
    const fewshot = parseCsv(read('website/aggregated_baseline_fewshot.csv'));
    for (const [model, row] of Object.entries(fewshot)) {
      for (const [b, v] of Object.entries(row)) expect(AGGREGATED_BASELINE_FEWSHOT[model]![b]).toBe(Number(v));
    }
    expect(Object.keys(INSTRUCT_MODEL_OF)).toHaveLength(4);
  });

  it('scores the reference rows as the harness README publishes them', () => {
    const [instruct, fewshot, zeroshot] = referenceRows();
    // README: Official Instruct Models 51.1, Base Models Zero Shot 7.5; paper: base few-shot 18.1.
    expect(instruct!.score).toBeCloseTo(51.1, 1);
    expect(zeroshot!.score).toBeCloseTo(7.5, 1);
    expect(fewshot!.score).toBeCloseTo(18.1, 1);
    expect(instruct!.benchmarks.bfcl!.mean).toBeCloseTo(85.0, 1);
    expect(zeroshot!.benchmarks.gsm8k!.mean).toBeCloseTo(20.4, 1);
  });
});

describe('buildLeaderboard', () => {
  it("reproduces Opus 4.6's published score from its per-cell means", () => {
    const published = read('website/single_metrics_aggregated.csv')
      .split(/\r?\n/)
      .find((l) => l.startsWith('Opus-4.6,'))!
      .split(',');
    const board = buildLeaderboard(runsFromCsv(read('website/aggregated_avg_Opus-4.6.csv'), 'avg', 'opus'));
    const row = board.rows.find((r) => r.kind === 'agent')!;
    expect(Math.abs(row.score - Number(published[1]) * 100)).toBeLessThan(0.01);
    expect(row.score).toBeCloseTo(Number(published[1]) * 100, 9);
    // README's per-benchmark columns for Opus 4.6: 5.0 7.8 75.9 25.5 41.0 18.8 24.7.
    expect(
      ['aime2025', 'arenahardwriting', 'bfcl', 'gpqamain', 'gsm8k', 'healthbench', 'humaneval'].map(
        (b) => Math.round(row.benchmarks[b]!.mean * 10) / 10,
      ),
    ).toEqual([5.0, 7.8, 75.9, 25.5, 41.0, 18.8, 24.7]);
    expect(row.complete).toBe(true);
    expect(board.problems).toEqual([]);
  });

  it('writes the final CSV byte for byte as aggregate_final.py did', () => {
    const text = read('website/final_claude_non_api_claude-sonnet-4-6_10h.csv');
    const board = buildLeaderboard(runsFromCsv(text, 'run1'));
    const row = board.rows.find((r) => r.kind === 'agent')!;
    expect(finalCsv(row, 'run1')).toBe(text);
    expect(finalCsv(row)).toBe(text);
    // README: Sonnet 4.6, Claude Code, 16.4.
    expect(row.score).toBeCloseTo(16.42, 2);
  });

  it('falls back to the zero-shot score for a flagged cell, an unreadable verdict and a failed run', () => {
    const text = read('website/final_claude_non_api_claude-sonnet-4-6_10h.csv');
    const base = buildLeaderboard(runsFromCsv(text, 'run1')).rows[0]!;
    const runs = runsFromCsv(text, 'run1');
    const flagged = runs.find((r) => r.benchmark === 'humaneval' && r.baseModel === 'gemma-3-4b-pt')!;
    flagged.verdict = judgeVerdict([
      { file: 'contamination_judgement.txt', check: 'contamination', flagged: null, text: 'contamination detected\n' },
      {
        file: 'disallowed_model_judgement.txt',
        check: 'disallowed_model',
        flagged: null,
        text: 'only allowed use detected',
      },
    ]);
    const unknown = runs.find((r) => r.benchmark === 'bfcl' && r.baseModel === 'Qwen3-4B-Base')!;
    unknown.verdict = judgeVerdict([{ file: 'judgement.json', check: 'contamination', flagged: false, text: '' }]);
    const failed = runs.find((r) => r.benchmark === 'gsm8k' && r.baseModel === 'SmolLM3-3B-Base')!;
    failed.result = readAccuracy(null);
    const row = buildLeaderboard(runs).rows[0]!;

    const cell = row.cells[cellKey('humaneval', 'gemma-3-4b-pt')]!;
    expect(cell.fallback).toBe(true);
    expect(cell.flagged).toBe(true);
    expect(cell.runs[0]!.fallback).toBe('flagged');
    expect(cell.runs[0]!.reasons.join(' ')).toMatch(/contamination/);
    expect(cell.value).toBeCloseTo(AGGREGATED_BASELINE['gemma-3-4b-pt']!.humaneval! * 100, 12);
    expect(row.cells[cellKey('bfcl', 'Qwen3-4B-Base')]!.runs[0]!.fallback).toBe('unverified');
    expect(row.cells[cellKey('bfcl', 'Qwen3-4B-Base')]!.runs[0]!.reasons.join(' ')).toMatch(/no disallowed_model/);
    expect(row.cells[cellKey('gsm8k', 'SmolLM3-3B-Base')]!.runs[0]!.fallback).toBe('no-result');

    const delta = (b: string, m: string, published: number): number =>
      (PTB_WEIGHTS[b]! * (AGGREGATED_BASELINE[m]![b]! - published) * 100) / 4;
    const expected =
      base.score +
      delta('humaneval', 'gemma-3-4b-pt', 0.4268292682926829) +
      delta('bfcl', 'Qwen3-4B-Base', 0.89) +
      delta('gsm8k', 'SmolLM3-3B-Base', 0.42153146322971946);
    expect(row.score).toBeCloseTo(expected, 10);
    expect(row.score).toBeLessThan(base.score - 1);
  });

  it('leaves out bad input with the reason, never a crash or a wrong average', () => {
    const text = read('website/final_claude_non_api_claude-sonnet-4-6_10h.csv');
    const runs = runsFromCsv(text, 'run1');
    const good = buildLeaderboard(runs).rows[0]!.score;
    const notJson = runs.find((r) => r.benchmark === 'aime2025' && r.baseModel === 'Qwen3-4B-Base')!;
    notJson.result = readAccuracy('{"accuracy": 0.9,');
    const outside = runs.find((r) => r.benchmark === 'gpqamain' && r.baseModel === 'Qwen3-4B-Base')!;
    outside.result = readAccuracy('{"accuracy": 31.0}');
    const extra: ScoreRunInput[] = [
      { ...runs[0]!, runId: 'r-unknown-bench', benchmark: 'mmlu' },
      { ...runs[0]!, runId: 'r-unknown-model', baseModel: 'meta-llama/Llama-3-8B' },
      // The same seed and cell again, older: PostTrainBench keeps the newest; this one is left out.
      { ...runs[1]!, runId: 'r-older-duplicate', order: -1, result: { kind: 'accuracy', accuracy: 1 } },
    ];
    const board = buildLeaderboard([...runs, ...extra]);
    const byRun = new Map(board.problems.map((p) => [p.runId, p.message]));
    expect(byRun.get(notJson.runId)).toMatch(/metrics.json is not JSON/);
    expect(byRun.get(outside.runId)).toMatch(/31 is outside 0–1/);
    expect(byRun.get('r-unknown-bench')).toMatch(/unknown benchmark "mmlu"/);
    expect(byRun.get('r-unknown-model')).toMatch(/unknown base model "meta-llama\/Llama-3-8B"/);
    expect(byRun.get('r-older-duplicate')).toMatch(/duplicate of run .* left out/);
    const row = board.rows.find((r) => r.kind === 'agent')!;
    expect(row.n).toBe(1);
    expect(row.runIds).not.toContain('r-unknown-bench');
    const expected =
      good +
      (PTB_WEIGHTS.aime2025! * (AGGREGATED_BASELINE['Qwen3-4B-Base']!.aime2025! - 0.03333333333333333) * 100) / 4 +
      (PTB_WEIGHTS.gpqamain! * (AGGREGATED_BASELINE['Qwen3-4B-Base']!.gpqamain! - 0.31026785714285715) * 100) / 4;
    expect(row.score).toBeCloseTo(expected, 10);
  });

  it('gives mean ± sample std over seeds, and own runs become seeds in time order', () => {
    const sonnet = read('website/final_claude_non_api_claude-sonnet-4-6_10h.csv');
    const opus = read('website/aggregated_avg_Opus-4.6.csv');
    const one = buildLeaderboard(runsFromCsv(sonnet, 'run1')).rows[0]!.score;
    const two = buildLeaderboard(runsFromCsv(opus, 'run1')).rows[0]!.score;
    const board = buildLeaderboard([...runsFromCsv(sonnet, 'run1'), ...runsFromCsv(opus, 'run2')]);
    const row = board.rows[0]!;
    expect(row.n).toBe(2);
    expect(row.score).toBeCloseTo((one + two) / 2, 10);
    expect(row.std).toBeCloseTo(sampleStd([one, two])!, 10);
    expect(row.std).toBeCloseTo(Math.abs(one - two) / Math.SQRT2, 10);

    const own = [...runsFromCsv(sonnet, null), ...runsFromCsv(opus, null)].map((r, i) => ({
      ...r,
      origin: 'own' as const,
      variant: '',
      runId: `r-own-${i}`,
      order: i,
    }));
    const ownRow = buildLeaderboard(own).rows[0]!;
    expect(ownRow.n).toBe(2);
    expect(ownRow.seeds.map((s) => s.seed)).toEqual(['#1', '#2']);
    expect(ownRow.seeds[0]!.score).toBeCloseTo(one, 10);
  });

  it('filters by benchmark and base model, and says what a missing cell is', () => {
    const runs = runsFromCsv(read('website/final_claude_non_api_claude-sonnet-4-6_10h.csv'), 'run1').filter(
      (r) => r.baseModel !== 'gemma-3-4b-pt' || r.benchmark !== 'aime2025',
    );
    const full = buildLeaderboard(runs).rows[0]!;
    expect(full.complete).toBe(false);
    expect(full.cells[cellKey('aime2025', 'gemma-3-4b-pt')]!.fallback).toBe(true);
    const only = buildLeaderboard(runs, { benchmarks: ['gsm8k'], baseModels: ['Qwen/Qwen3-4B-Base'] });
    expect(only.benchmarks).toEqual(['gsm8k']);
    expect(only.baseModels).toEqual(['Qwen3-4B-Base']);
    expect(only.rows[0]!.score).toBeCloseTo(41.84988627748294, 10);
    expect(Object.keys(only.rows[0]!.cells)).toEqual(['gsm8k/Qwen3-4B-Base']);
    expect(() => buildLeaderboard(runs, { benchmarks: ['mmlu'] })).toThrow(/unknown benchmark/);
  });

  it('labels rows by agent, model and budget, with what an imported configuration adds', () => {
    expect(rowLabel('codex', 'gpt-5.4', 36_000, 'own', '')).toBe('codex · gpt-5.4 · 10h');
    expect(rowLabel('codex', 'gpt-5.4', 36_000, 'ptb', 'codex_non_api_high_gpt-5.4_10h')).toBe(
      'codex · gpt-5.4 · 10h · non api high (imported)',
    );
    expect(rowLabel('claude-code', 'claude-opus-4-6', 7_200, 'ptb', 'claude_claude-opus-4-6_2h_2gpu')).toBe(
      'claude-code · claude-opus-4-6 · 2h (imported)',
    );
  });

  it('writes numbers as Python does', () => {
    expect(pythonFloat(0)).toBe('0.0');
    expect(pythonFloat(0.175)).toBe('0.175');
    expect(pythonFloat(1e-7)).toBe('1e-07');
    expect(pythonFloat(0.06699999999999998)).toBe('0.06699999999999998');
  });
});
