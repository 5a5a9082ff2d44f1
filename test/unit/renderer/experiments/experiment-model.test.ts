import { describe, expect, it } from 'vitest';
import type { ExperimentCell } from '../../../../src/shared/contract-experiments';
import {
  cellProgress,
  cellText,
  cellTitle,
  cellTone,
  experimentGrid,
  isLive,
  statusCounts,
} from '../../../../src/renderer/experiments/experiment-model';

function cell(over: Partial<ExperimentCell>): ExperimentCell {
  return {
    key: 'k',
    task: 'gsm8k:Qwen3-4B-Base',
    agent: 'claude-code',
    model: 'claude-sonnet-4-6',
    seed: 1,
    host: 'gpu1',
    runId: 'r-20260101-000000-abc123',
    status: 'queued',
    attempts: [],
    ...over,
  };
}

describe('experiment page model', () => {
  it('lays the matrix out as tasks × agents with the seeds in order in each cell', () => {
    const cells = [
      cell({ key: 'a2', seed: 2 }),
      cell({ key: 'a1', seed: 1 }),
      cell({ key: 'b1', task: 'rehearsal', agent: 'codex', model: 'gpt-5', seed: 1 }),
    ];
    const grid = experimentGrid({
      tasks: ['rehearsal', 'gsm8k:Qwen3-4B-Base'],
      agents: [
        { agent: 'claude-code', model: 'claude-sonnet-4-6' },
        { agent: 'codex', model: 'gpt-5' },
      ],
      cells,
    });
    expect(grid.columns.map((c) => c.agent)).toEqual(['claude-code', 'codex']);
    expect(grid.rows.map((r) => r.task)).toEqual(['rehearsal', 'gsm8k:Qwen3-4B-Base']);
    expect(grid.rows[1]!.cells[0]!.map((c) => c.key)).toEqual(['a1', 'a2']);
    expect(grid.rows[0]!.cells[1]!.map((c) => c.key)).toEqual(['b1']);
    expect(grid.rows[0]!.cells[0]).toEqual([]);
  });

  it('says what each cell is: progress while running, the score, the reason, flagged first', () => {
    const running = cell({ status: 'running', startedAt: 1_000, deadline: 11_000 });
    expect(cellProgress(running, 6_000)).toBe(0.5);
    expect(cellText(running, 6_000)).toBe('running 50%');
    expect(cellProgress(cell({ status: 'queued' }), 6_000)).toBeNull();
    expect(cellText(cell({ status: 'scored', score: 71.234 }), 0)).toBe('71.2');
    expect(cellText(cell({ status: 'scored', score: 71.234, flagged: true }), 0)).toBe('71.2 (flagged)');
    expect(cellTone(cell({ status: 'scored', flagged: true }))).toBe('flagged');
    expect(cellText(cell({ status: 'failed', reason: 'the disk filled up' }), 0)).toBe('failed: the disk filled up');
    expect(cellTone(cell({ status: 'no-model' }))).toBe('failed');
    expect(cellTone(cell({ status: 'evaluating' }))).toBe('evaluating');
  });

  it('says in the tooltip where a moved run was queued before', () => {
    const moved = cell({
      status: 'queued',
      host: 'gpu1',
      runId: 'r-20260101-000001-new',
      moves: [{ from: 'gpu2', fromRunId: 'r-20260101-000000-old', to: 'gpu1', at: '2026-12-07T00:00:00Z' }],
    });
    expect(cellTitle(moved, 0)).toBe(
      'seed 1 · gpu1 · r-20260101-000001-new\nmoved from gpu2 (r-20260101-000000-old) to gpu1\nqueued',
    );
    expect(cellTitle(cell({ status: 'queued' }), 0)).toBe('seed 1 · gpu1 · r-20260101-000000-abc123\nqueued');
  });

  it('counts statuses in lifecycle order and stays live until every cell is final', () => {
    const cells = [cell({ status: 'scored' }), cell({ status: 'queued' }), cell({ status: 'queued' })];
    expect(statusCounts(cells)).toEqual([
      ['queued', 2],
      ['scored', 1],
    ]);
    expect(isLive({ cells, stopped: false })).toBe(true);
    expect(isLive({ cells: [cell({ status: 'scored' }), cell({ status: 'withdrawn' })], stopped: true })).toBe(false);
  });
});
