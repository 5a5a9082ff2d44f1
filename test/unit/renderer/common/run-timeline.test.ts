import { describe, expect, it } from 'vitest';
import { offsetText, runTimeline, timelineOrigin } from '../../../../src/renderer/common/run-timeline';
import { T0 } from '../runs/run-fixtures';

const formatTime = (ms: number) => `@${(ms - T0) / 1000}`;
const at = (seconds: number) => T0 + seconds * 1000;

describe('runTimeline', () => {
  it('tells a run’s story from launch to score, in time order', () => {
    const entries = runTimeline({
      createdAt: new Date(at(-10)).toISOString(),
      formatTime,
      events: [
        { t: at(0), type: 'agent-started', deadline: at(36_000) },
        { t: at(-5), type: 'supervisor-started', pid: 42 },
        { t: at(1), type: 'resize', cols: 120, rows: 40 },
        { t: at(1), type: 'gpu-sampling', available: true, error: null },
        { t: at(32_400), type: 'warning', secondsLeft: 3600 },
        { t: at(36_000), type: 'stopping', reason: 'budget', signal: 'SIGTERM' },
        { t: at(36_001), type: 'agent-stopped', reason: 'budget', exitCode: 143 },
        { t: at(36_002), type: 'evaluation-started', attempts: 2 },
        { t: at(36_100), type: 'evaluation-attempt', n: 1, exitCode: 0, timedOut: false, log: 'eval/attempt-1.log' },
        {
          t: at(36_101),
          type: 'evaluation-finished',
          outcome: 'scored',
          metrics: { accuracy: 0.4231, stderr: 0.01 },
        },
      ],
    });
    expect(entries.map((e) => [e.kind, e.title, e.detail, e.tone])).toEqual([
      ['launched', 'Launched', 'run folder and sandbox prepared', 'info'],
      ['supervisor-started', 'Supervisor started', 'on the host, pid 42', 'muted'],
      ['agent-started', 'Agent started', 'deadline @36000', 'info'],
      ['warning', '1h left', 'warning written to the agent’s terminal', 'warn'],
      ['stopping', 'Stopping: budget used up', 'sent SIGTERM', 'muted'],
      ['agent-stopped', 'Agent stopped: budget used up', 'exit code 143 (SIGTERM)', 'info'],
      ['evaluation-started', 'Evaluating', 'up to 2 attempts', 'info'],
      ['evaluation-attempt', 'Evaluation attempt 1', 'exit code 0 · eval/attempt-1.log', 'ok'],
      ['evaluation-finished', 'Scored 42.3', 'accuracy 0.4231', 'ok'],
    ]);
    expect(new Set(entries.map((e) => e.key)).size).toBe(entries.length);
  });

  it('shows interventions with who asked and what changed', () => {
    const entries = runTimeline({
      createdAt: '',
      formatTime,
      events: [
        { t: at(10), type: 'intervention', action: 'extend', by: 'app', seconds: 1800, newDeadline: at(1000) },
        { t: at(20), type: 'intervention', action: 'stop', by: 'ana' },
        { t: at(30), type: 'intervention', action: 'kill', by: 'app' },
        { t: at(31), type: 'agent-stopped', reason: 'killed', exitCode: 137 },
      ],
    });
    expect(entries.map((e) => [e.title, e.detail])).toEqual([
      ['Extended by 30m', 'new deadline @1000'],
      ['Stop requested by ana', ''],
      ['Kill requested', ''],
      ['Agent stopped: killed by request', 'exit code 137 (SIGKILL)'],
    ]);
    expect(entries.at(-1)?.tone).toBe('warn');
  });

  it('marks failures: a failed attempt, no model, a failed evaluation, a supervisor error', () => {
    const entries = runTimeline({
      createdAt: '',
      formatTime,
      events: [
        {
          t: at(1),
          type: 'evaluation-attempt',
          n: 1,
          exitCode: 1,
          timedOut: false,
          log: 'eval/attempt-1.log',
          error: 'no metrics.json',
        },
        { t: at(2), type: 'evaluation-attempt', n: 2, exitCode: null, timedOut: true, log: 'eval/attempt-2.log' },
        { t: at(3), type: 'evaluation-finished', outcome: 'evaluation-failed', metrics: null },
        { t: at(4), type: 'evaluation-finished', outcome: 'no-model', metrics: null },
        { t: at(5), type: 'supervisor-error', message: 'control/x.json rejected: invalid JSON' },
        { t: at(6), type: 'agent-stopped', reason: 'agent-exited', exitCode: 2 },
        { t: at(7), type: 'gpu-sampling', available: false, error: 'nvidia-smi not found' },
      ],
    });
    expect(entries.map((e) => [e.title, e.detail, e.tone])).toEqual([
      ['Evaluation attempt 1', 'exit code 1: no metrics.json · eval/attempt-1.log', 'warn'],
      ['Evaluation attempt 2', 'timed out · eval/attempt-2.log', 'warn'],
      ['Evaluation failed', 'no attempt produced metrics.json', 'fail'],
      ['No model to evaluate', 'final_model/ was missing or not a checkpoint', 'fail'],
      ['Supervisor error', 'control/x.json rejected: invalid JSON', 'fail'],
      ['Agent stopped: agent finished on its own', 'exit code 2', 'warn'],
      ['GPU sampling unavailable', 'nvidia-smi not found', 'muted'],
    ]);
  });

  it('keeps events of a type it does not know, by name, and skips ones with no time', () => {
    const entries = runTimeline({
      createdAt: 'not a date',
      formatTime,
      events: [
        { t: at(1), type: 'checkpoint-saved', message: 'step 100' },
        { type: 'agent-started', deadline: 5 },
        { t: 'soon', type: 'warning', secondsLeft: 5 },
      ],
    });
    expect(entries.map((e) => [e.kind, e.title, e.detail, e.tone])).toEqual([
      ['checkpoint-saved', 'checkpoint-saved', 'step 100', 'muted'],
    ]);
  });

  it('marks an integrity flag where its evidence appeared, and the final pass before the score', () => {
    const flag = {
      type: 'integrity-flag',
      flag: 'contamination:0000abcd',
      kind: 'contamination',
      summary: '3 test items',
    };
    const entries = runTimeline({
      createdAt: '',
      formatTime,
      events: [
        { t: at(0), type: 'agent-started', deadline: at(600) },
        { t: at(300), type: 'integrity-pass', verdict: 'clean', newFlags: 0, seconds: 0.2 },
        // Noticed by the pass at 600 s; the file holding the test items was written at 420 s.
        { t: at(600), ...flag, severity: 'high', evidenceAt: at(420) },
        { t: at(600), ...flag, flag: 'x', severity: 'info', evidenceAt: at(10) },
        { t: at(600), type: 'integrity-pass', verdict: null, newFlags: 0, seconds: 1, error: 'MemoryError' },
        { t: at(700), type: 'integrity-final', verdict: 'flagged', newFlags: 0, seconds: 2 },
        { t: at(701), type: 'evaluation-finished', outcome: 'scored', metrics: { accuracy: 0.5 } },
      ],
    });
    expect(entries.map((e) => [e.kind, (e.t - T0) / 1000, e.title, e.tone])).toEqual([
      ['agent-started', 0, 'Agent started', 'info'],
      ['integrity-flag', 420, 'Integrity flag: test-set contamination', 'fail'],
      ['integrity-pass', 600, 'Integrity pass failed', 'muted'],
      ['integrity-final', 700, 'Integrity: flagged', 'fail'],
      ['evaluation-finished', 701, 'Scored 50.0', 'ok'],
    ]);
  });

  it('names the turn a scripted model stopped at, and the supervisor’s stop after it', () => {
    const entries = runTimeline({
      createdAt: new Date(at(-10)).toISOString(),
      formatTime,
      events: [
        { t: at(5), type: 'model-endpoint-problem', turn: 3, message: "turn 3 calls the tool 'shell'" },
        { t: at(35), type: 'stopping', reason: 'model-problem', signal: 'SIGTERM' },
      ],
    });
    expect(entries.slice(1).map((e) => [e.kind, e.title, e.detail, e.tone])).toEqual([
      ['model-endpoint-problem', 'Scripted model stopped at turn 3', "turn 3 calls the tool 'shell'", 'fail'],
      ['stopping', 'Stopping: the scripted model stopped its replay', 'sent SIGTERM', 'muted'],
    ]);
  });

  it('keeps file order for events at the same time', () => {
    const entries = runTimeline({
      createdAt: '',
      formatTime,
      events: [
        { t: at(5), type: 'stopping', reason: 'user-stop', signal: 'SIGTERM' },
        { t: at(5), type: 'stopping', reason: 'user-stop', signal: 'SIGKILL' },
        { t: at(1), type: 'intervention', action: 'stop', by: 'app' },
      ],
    });
    expect(entries.map((e) => e.detail)).toEqual(['', 'sent SIGTERM', 'sent SIGKILL']);
  });
});

describe('timeline offsets', () => {
  it('count from the agent’s start, blank before it', () => {
    const entries = runTimeline({
      createdAt: new Date(at(-10)).toISOString(),
      formatTime,
      events: [{ t: at(0), type: 'agent-started', deadline: at(100) }],
    });
    const origin = timelineOrigin(entries);
    expect(origin).toBe(at(0));
    expect(offsetText(at(-10), origin!)).toBe('');
    expect(offsetText(at(3723), origin!)).toBe('+1:02:03');
  });

  it('count from the first entry when the agent never started, and need one', () => {
    const entries = runTimeline({ createdAt: new Date(at(7)).toISOString(), formatTime, events: [] });
    expect(timelineOrigin(entries)).toBe(at(7));
    expect(timelineOrigin([])).toBeNull();
  });
});
