import { describe, expect, it } from 'vitest';
import { leaderboardSchema } from '../../../../src/shared/contract-leaderboard';
import {
  buildLeaderboard,
  cellKey,
  readAccuracy,
  type ScoreRunInput,
} from '../../../../src/shared/leaderboard/ptb-score';
import {
  alignedGpu,
  cellExplanation,
  datasetOverlap,
  filterInput,
  heatmap,
  NO_FILTERS,
  progressColor,
  scatterPoints,
  seenChoices,
  stepsByHour,
  tableSvg,
} from '../../../../src/renderer/leaderboard/leaderboard-model';

function run(over: Partial<ScoreRunInput>): ScoreRunInput {
  return {
    runId: 'r-20260301-000000-aaaa',
    createdAt: '2026-03-01T00:00:00Z',
    origin: 'own',
    agent: 'codex',
    model: 'gpt-5.4',
    budgetSeconds: 36_000,
    variant: '',
    seed: null,
    order: 0,
    benchmark: 'gsm8k',
    baseModel: 'Qwen/Qwen3-4B-Base',
    result: readAccuracy('{"accuracy": 0.8}'),
    verdict: { source: 'none', state: 'unchecked', reasons: [] },
    gpuHours: 9.5,
    costUsd: 12,
    tokens: 1000,
    ...over,
  };
}

describe('leaderboard view model', () => {
  const board = leaderboardSchema.parse(
    buildLeaderboard([
      run({}),
      run({ runId: 'r-20260301-000000-bbbb', benchmark: 'aime2025', result: readAccuracy('not json'), order: 1 }),
      run({
        runId: 'r-20260301-000000-cccc',
        agent: '<img src=x onerror=alert(1)>',
        benchmark: 'humaneval',
        verdict: { source: 'integrity', state: 'flagged', reasons: ['integrity: contamination (12 test items)'] },
      }),
    ]),
  );

  it('explains fallbacks, flags and missing seeds', () => {
    const codex = board.rows.find((r) => r.agent === 'codex')!;
    expect(cellExplanation(codex.cells[cellKey('aime2025', 'Qwen3-4B-Base')]!, codex.n).join(' ')).toMatch(
      /#1: no score, counts the zero-shot score \(metrics.json is not JSON/,
    );
    expect(cellExplanation(codex.cells[cellKey('gsm8k', 'Qwen3-4B-Base')]!, codex.n).join(' ')).toMatch(
      /not checked for integrity/,
    );
    expect(cellExplanation(codex.cells[cellKey('gsm8k', 'gemma-3-4b-pt')]!, codex.n)).toEqual([
      "1 of 1 seed(s) have no run of this cell: those count the base model's zero-shot score",
    ]);
    const flagged = board.rows.find((r) => r.agent.startsWith('<img'))!;
    expect(cellExplanation(flagged.cells[cellKey('humaneval', 'Qwen3-4B-Base')]!, 1).join(' ')).toMatch(
      /flagged, counts the zero-shot score instead \(integrity: contamination/,
    );
  });

  it('colours by progress toward the instruct model, and maps agents × benchmarks', () => {
    expect(progressColor(null)).toBeUndefined();
    expect(progressColor(1)).toMatch(/^hsla\(140,/);
    expect(progressColor(0)).toMatch(/^hsla\(50,/);
    expect(progressColor(-2)).toMatch(/^hsla\(0,/);
    const map = heatmap(board);
    expect(map.rows).toHaveLength(2);
    expect(map.benchmarks).toHaveLength(7);
    const zero = board.rows.find((r) => r.variant === 'zeroshot')!;
    const codexRow = map.rows.findIndex((l) => l.startsWith('codex'));
    const gsm8k = map.benchmarks.indexOf('gsm8k');
    const codex = board.rows.find((r) => r.agent === 'codex')!;
    expect(map.cells[codexRow]![gsm8k]!.value).toBe(codex.benchmarks.gsm8k!.mean);
    expect(map.cells[codexRow]![gsm8k]!.progress).toBeGreaterThan(0);
    expect(zero.benchmarks.gsm8k!.mean).toBeLessThan(codex.benchmarks.gsm8k!.mean);
  });

  it('puts rows on the scatter per seed and escapes labels in the SVG', () => {
    expect(scatterPoints(board).find((p) => p.label.startsWith('codex'))).toMatchObject({ gpuHours: 19, costUsd: 24 });
    const svg = tableSvg(board);
    expect(svg).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(svg).not.toContain('<img');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  });

  it('keeps every agent and budget seen for the filter menus', () => {
    const first = seenChoices({ agents: ['zed'], budgets: [[7200, '2h']] }, board);
    expect(first.agents).toEqual(['<img src=x onerror=alert(1)>', 'codex', 'zed']);
    expect(first.budgets.map(([s]) => s)).toEqual([7200, 36_000]);
    expect(seenChoices(first, board)).toEqual(first);
  });

  it('turns filters into the command input', () => {
    expect(filterInput(NO_FILTERS)).toEqual({});
    expect(filterInput({ ...NO_FILTERS, benchmark: 'gsm8k', budget: '3600', from: '2026-03-01' })).toEqual({
      benchmarks: ['gsm8k'],
      budgetsSeconds: [3600],
      from: '2026-03-01',
    });
  });

  it('aligns two runs by elapsed time', () => {
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    const t1 = Date.parse('2026-03-05T12:00:00Z');
    const aligned = alignedGpu(
      { start: t0, gpu: [0, 60, 120].map((s, i) => ({ t: t0 + s * 1000, utilization: 10 * (i + 1) })) },
      { start: t1, gpu: [0, 120].map((s) => ({ t: t1 + s * 1000, utilization: 90 })) },
    );
    expect(aligned.x).toEqual([0, 1 / 60, 2 / 60]);
    expect(aligned.a).toEqual([10, 20, 30]);
    expect(aligned.b).toEqual([90, null, 90]);
    expect(
      stepsByHour({ start: t0, steps: [{ t: t0 }, { t: t0 + 3_599_000 }, { t: t0 + 3_600_000 }, { t: null }] }, 2),
    ).toEqual([2, 1]);
  });

  it('lines up the datasets two runs built', () => {
    const overlap = datasetOverlap(
      [
        { path: 'data/train.jsonl', size: 100, rows: 10 },
        { path: 'data/a.jsonl', size: 5, rows: 1 },
      ],
      [
        { path: 'data/train.jsonl', size: 100, rows: 10 },
        { path: 'data/b.parquet', size: 7, rows: null },
      ],
    );
    expect(overlap.both).toEqual([
      { path: 'data/train.jsonl', sizeA: 100, sizeB: 100, rowsA: 10, rowsB: 10, same: true },
    ]);
    expect(overlap.onlyA).toEqual(['data/a.jsonl']);
    expect(overlap.onlyB).toEqual(['data/b.parquet']);
  });
});
