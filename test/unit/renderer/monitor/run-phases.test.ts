import { describe, expect, it } from 'vitest';
import { runPhases } from '../../../../src/renderer/monitor/run-phases';
import { runSummary, T0 } from '../runs/run-fixtures';

const S = 1000;
const started = { t: T0 + 5 * S, type: 'agent-started', deadline: T0 + 605 * S };
const warning = { t: T0 + 305 * S, type: 'warning', secondsLeft: 300, deadline: T0 + 605 * S };
const stopped = { t: T0 + 605 * S, type: 'agent-stopped', reason: 'budget', exitCode: 143 };
const evaluating = { t: T0 + 606 * S, type: 'evaluation-started', attempts: 1 };
const finished = { t: T0 + 700 * S, type: 'evaluation-finished', outcome: 'scored', metrics: { accuracy: 0.4 } };

const states = (phases: ReturnType<typeof runPhases>) => phases.map((p) => `${p.id}:${p.state}`);

describe('runPhases', () => {
  it('follows a run from launch to its score, with times and the warnings it got', () => {
    const run = runSummary('r', { startedAt: started.t });
    expect(states(runPhases(run, [started]))).toEqual([
      'launched:done',
      'running:current',
      'stopped:pending',
      'evaluating:pending',
      'outcome:pending',
    ]);
    const warned = runPhases(run, [started, warning]);
    expect(warned[1]).toMatchObject({ t: started.t, detail: 'warned: 5m left' });

    const scored = runSummary('r', { status: 'scored', startedAt: started.t, stoppedAt: stopped.t, score: 40 });
    const phases = runPhases(scored, [started, warning, stopped, evaluating, finished]);
    expect(states(phases)).toEqual([
      'launched:done',
      'running:done',
      'stopped:done',
      'evaluating:done',
      'outcome:done',
    ]);
    expect(phases[0]!.t).toBe(T0);
    expect(phases[2]).toMatchObject({ t: stopped.t, detail: 'budget used up' });
    expect(phases[4]).toMatchObject({ title: 'Scored 40.0', t: finished.t });
  });

  it('shows a stop in progress and an evaluation under way', () => {
    const stopping = runSummary('r', { status: 'stopping', startedAt: started.t, stopReason: 'user-stop' });
    expect(states(runPhases(stopping, [started]))).toContain('stopped:current');
    expect(runPhases(stopping, [started])[2]!.detail).toBe('stopped by request');
    const evaluatingRun = runSummary('r', { status: 'evaluating', startedAt: started.t, stoppedAt: stopped.t });
    expect(states(runPhases(evaluatingRun, [started, stopped, evaluating]))).toContain('evaluating:current');
  });

  it('marks failures: no model (evaluation skipped) and an agent that never started', () => {
    const noModel = runSummary('r', { status: 'no-model', startedAt: started.t, stoppedAt: stopped.t });
    expect(states(runPhases(noModel, [started, stopped]))).toEqual([
      'launched:done',
      'running:done',
      'stopped:done',
      'evaluating:skipped',
      'outcome:failed',
    ]);
    const failed = runSummary('r', { status: 'failed', error: 'image gone' });
    const phases = runPhases(failed, []);
    expect(states(phases)).toEqual([
      'launched:done',
      'running:failed',
      'stopped:skipped',
      'evaluating:skipped',
      'outcome:failed',
    ]);
    expect(phases[4]).toMatchObject({ title: 'Failed to start', detail: 'image gone' });
  });
});
