import { describe, expect, it } from 'vitest';
import { runNotifications, type RunWatchFacts } from '../../../../src/shared/monitor/run-notifications';

function facts(status: string, overrides: Partial<RunWatchFacts> = {}): RunWatchFacts {
  return {
    id: 'r1',
    label: 'gsm8k try',
    status,
    stoppedAt: null,
    stopReason: null,
    score: null,
    error: null,
    gpuIdle: { idle: false, since: null, quietMs: 0 },
    ...overrides,
  };
}

const map = (...list: RunWatchFacts[]) => new Map(list.map((f) => [f.id, f]));
const none = new Set<string>();

describe('runNotifications', () => {
  it('says nothing about a run seen for the first time (opening the app is not news)', () => {
    expect(runNotifications(new Map(), [facts('scored', { score: 42 })], none)).toEqual([]);
  });

  it('notifies once when the agent finishes, with the reason', () => {
    const stopped = facts('stopping', { stoppedAt: 1, stopReason: 'budget' });
    const [n, ...rest] = runNotifications(map(facts('running')), [stopped], none);
    expect(rest).toEqual([]);
    expect(n).toMatchObject({ kind: 'finished', key: 'r1:finished', title: 'Run finished: gsm8k try' });
    expect(n?.body).toBe('The agent stopped: its budget was used up. The evaluation follows.');
    // The same change seen again (a reconnect replays the list) is not news.
    expect(runNotifications(map(facts('running')), [stopped], new Set(['r1:finished']))).toEqual([]);
    // Nor is the next step of the same stop.
    expect(runNotifications(map(stopped), [{ ...stopped, status: 'evaluating' }], none)).toEqual([]);
  });

  it('notifies when the run is evaluated, with its score', () => {
    const out = runNotifications(
      map(facts('evaluating', { stoppedAt: 1 })),
      [facts('scored', { stoppedAt: 1, score: 41.5 })],
      none,
    );
    expect(out).toEqual([expect.objectContaining({ kind: 'evaluated', body: 'Score 41.5.' })]);
  });

  it('sends both when a run went from running to scored between two looks', () => {
    const out = runNotifications(map(facts('running')), [facts('scored', { stoppedAt: 1, score: 10 })], none);
    expect(out.map((n) => n.kind)).toEqual(['finished', 'evaluated']);
  });

  it('notifies failures: not started, no model, evaluation failed', () => {
    const failed = runNotifications(map(facts('starting')), [facts('failed', { error: 'image gone' })], none);
    expect(failed).toEqual([
      expect.objectContaining({ kind: 'failed', body: 'The agent could not be started: image gone' }),
    ]);
    const noModel = runNotifications(
      map(facts('evaluating', { stoppedAt: 1 })),
      [facts('no-model', { stoppedAt: 1 })],
      none,
    );
    expect(noModel.map((n) => n.kind)).toEqual(['failed']);
    expect(noModel[0]?.body).toContain('final_model/');
  });

  it('alerts when the GPUs go idle, again after they were busy, never twice for one stretch', () => {
    const quiet = facts('running', { gpuIdle: { idle: true, since: 1000, quietMs: 11 * 60_000 } });
    const first = runNotifications(map(facts('running')), [quiet], none);
    expect(first).toEqual([expect.objectContaining({ kind: 'gpu-idle', key: 'r1:gpu-idle:1000' })]);
    expect(first[0]?.body).toContain('11 minutes');
    // Still idle: nothing new.
    expect(runNotifications(map(quiet), [quiet], new Set(['r1:gpu-idle:1000']))).toEqual([]);
    // Busy, then idle again from a later time: a new alert.
    const again = facts('running', { gpuIdle: { idle: true, since: 9000, quietMs: 10 * 60_000 } });
    expect(runNotifications(map(facts('running')), [again], new Set(['r1:gpu-idle:1000']))).toHaveLength(1);
  });

  it('does not alert idle GPUs once the agent has stopped', () => {
    const quiet = facts('stopping', { stoppedAt: 1, gpuIdle: { idle: true, since: 1, quietMs: 20 * 60_000 } });
    expect(runNotifications(map(facts('stopping', { stoppedAt: 1 })), [quiet], none)).toEqual([]);
  });

  it('warns once per budget warning the supervisor wrote, while the agent works', () => {
    const warned = facts('running', { budgetWarning: { t: 5000, secondsLeft: 600 } });
    const out = runNotifications(map(facts('running', { budgetWarning: null })), [warned], none);
    expect(out).toEqual([
      {
        key: 'r1:budget-warning:5000',
        kind: 'budget-warning',
        runId: 'r1',
        title: 'Budget warning: gsm8k try',
        body: "10 minutes of the agent's budget left.",
      },
    ]);
    // The same warning seen again is not news; the next one is, in seconds near the end.
    expect(runNotifications(map(warned), [warned], none)).toEqual([]);
    const last = facts('running', { budgetWarning: { t: 9000, secondsLeft: 60 } });
    expect(runNotifications(map(warned), [last], none)[0]?.body).toBe("60 seconds of the agent's budget left.");
    // None once the agent has stopped.
    const stopped = facts('stopping', { stoppedAt: 1, budgetWarning: { t: 9500, secondsLeft: 0 } });
    expect(runNotifications(map(last), [stopped], none).map((n) => n.kind)).toEqual(['finished']);
  });
});
