import { describe, expect, it } from 'vitest';
import { lifecycleRank, mergeRunSummaries, summaryMoved } from '../../../../src/renderer/common/run-list';
import { sortRunsNewestFirst } from '../../../../src/renderer/common/run-order';
import { runSummary, T0 } from '../runs/run-fixtures';

describe('mergeRunSummaries', () => {
  it('adds new runs and replaces known ones in place', () => {
    const held = [runSummary('a'), runSummary('b')];
    const merged = mergeRunSummaries(held, [runSummary('b', { deadline: T0 + 1 }), runSummary('c')]);
    expect(merged.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(merged[1]?.deadline).toBe(T0 + 1);
    expect(held[1]?.deadline).toBeUndefined();
  });

  it('keeps a summary an event moved further on than a late reply', () => {
    const held = [runSummary('a', { status: 'evaluating', stoppedAt: T0 })];
    const reply = runSummary('a', { status: 'stopping' });
    expect(mergeRunSummaries(held, [reply])[0]?.status).toBe('evaluating');
    // Same stage: the reply is as new as anything held (an extension's deadline).
    const extended = runSummary('a', { status: 'evaluating', deadline: T0 + 5 });
    expect(mergeRunSummaries(held, [extended])[0]?.deadline).toBe(T0 + 5);
  });

  it('lets any status replace an unreadable record', () => {
    const held = [runSummary('a', { status: 'unreadable' })];
    expect(mergeRunSummaries(held, [runSummary('a', { status: 'starting' })])[0]?.status).toBe('starting');
  });
});

describe('lifecycleRank', () => {
  it('orders the lifecycle and puts every final status last', () => {
    const ranks = ['starting', 'running', 'stopping', 'evaluating', 'scored'].map((status) =>
      lifecycleRank(runSummary('r', { status })),
    );
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    for (const status of ['evaluation-failed', 'no-model', 'failed']) {
      expect(lifecycleRank(runSummary('r', { status }))).toBe(lifecycleRank(runSummary('r', { status: 'scored' })));
    }
    expect(lifecycleRank(runSummary('r', { status: 'unknown' }))).toBe(0);
  });
});

describe('summaryMoved', () => {
  it('sees changes the detail pane shows, and ignores ones it does not', () => {
    const shown = runSummary('a', { startedAt: T0, deadline: T0 + 10 });
    expect(summaryMoved(shown, { ...shown })).toBe(false);
    expect(summaryMoved(shown, { ...shown, label: 'renamed' })).toBe(false);
    expect(summaryMoved(shown, { ...shown, supervisorAlive: false })).toBe(false);
    expect(summaryMoved(shown, { ...shown, status: 'stopping' })).toBe(true);
    expect(summaryMoved(shown, { ...shown, deadline: T0 + 20 })).toBe(true);
    expect(summaryMoved(shown, { ...shown, stoppedAt: T0 + 5 })).toBe(true);
    expect(summaryMoved(shown, { ...shown, stopReason: 'budget' })).toBe(true);
    expect(summaryMoved(shown, { ...shown, score: 42 })).toBe(true);
  });
});

describe('sortRunsNewestFirst on live rows', () => {
  it('orders by creation, whatever the status', () => {
    const runs = [
      runSummary('old-live', { createdAt: '2026-11-01T00:00:00Z' }),
      runSummary('new-done', { status: 'scored', createdAt: '2026-11-02T00:00:00Z' }),
    ];
    expect(sortRunsNewestFirst(runs).map((r) => r.id)).toEqual(['new-done', 'old-live']);
  });
});
