import { describe, expect, it } from 'vitest';
import {
  isFinalRunStatus,
  isSupervisorAlive,
  parseEventsJsonl,
  runStateSchema,
} from '../../../../src/shared/runs/run-status';

// The examples of docs/run-folder.md, as the supervisor writes them.
const STATE = {
  status: 'running',
  supervisorPid: 1234,
  heartbeatAt: 1763899200000,
  agentContainerId: 'c0ffee',
  startedAt: 1763899200000,
  deadline: 1763935200000,
  warningsSent: [3600],
  stoppedAt: null,
  stopReason: null,
  exitCode: null,
  evaluation: { attempts: 0, outcome: null, metrics: null },
};

const EVENTS = [
  { t: 1763899199000, type: 'supervisor-started', pid: 1234 },
  { t: 1763899200000, type: 'agent-started', deadline: 1763935200000 },
  { t: 1763899201000, type: 'gpu-sampling', available: true },
  { t: 1763899202000, type: 'resize', cols: 120, rows: 40 },
  { t: 1763931600000, type: 'warning', secondsLeft: 3600 },
  { t: 1763931700000, type: 'intervention', action: 'extend', by: 'app', seconds: 3600, newDeadline: 1763938800000 },
  { t: 1763938800000, type: 'stopping', reason: 'budget', signal: 'SIGTERM' },
  { t: 1763938805000, type: 'agent-stopped', reason: 'budget', exitCode: 143 },
  { t: 1763938806000, type: 'evaluation-started' },
  { t: 1763939806000, type: 'evaluation-attempt', n: 1, exitCode: 0, timedOut: false, log: 'eval/attempt-1.log' },
  {
    t: 1763939807000,
    type: 'evaluation-finished',
    outcome: 'scored',
    metrics: { accuracy: 0.4268385140257771, stderr: 0.013624249696595304 },
  },
];

const jsonl = (values: unknown[]): string => values.map((v) => `${JSON.stringify(v)}\n`).join('');

describe('state.json', () => {
  it('reads the documented example', () => {
    const state = runStateSchema.parse(STATE);
    expect(state.status).toBe('running');
    expect(state.deadline).toBe(1763935200000);
  });

  it('reads an early state with only the essentials, filling nulls', () => {
    const state = runStateSchema.parse({ status: 'starting', heartbeatAt: 1 });
    expect(state).toMatchObject({ deadline: null, stopReason: null, evaluation: { attempts: 0, outcome: null } });
  });

  it('keeps nested metrics breakdowns (HealthBench) and reads a failed start', () => {
    const scored = runStateSchema.parse({
      ...STATE,
      status: 'scored',
      evaluation: { attempts: 1, outcome: 'scored', metrics: { accuracy: 0.3, by_theme: { emergency: 0.2 } } },
    });
    expect(scored.evaluation.metrics).toEqual({ accuracy: 0.3, by_theme: { emergency: 0.2 } });
    const failed = runStateSchema.parse({ status: 'failed', heartbeatAt: 1, error: 'image not found' });
    expect(failed.error).toBe('image not found');
  });

  it('refuses an unknown status', () => {
    expect(runStateSchema.safeParse({ ...STATE, status: 'paused' }).success).toBe(false);
  });

  it('tells a live supervisor from a gone one by its heartbeat', () => {
    const state = runStateSchema.parse(STATE);
    expect(isSupervisorAlive(state, STATE.heartbeatAt + 5_000)).toBe(true);
    expect(isSupervisorAlive(state, STATE.heartbeatAt + 25_000)).toBe(false);
    expect(isSupervisorAlive({ ...state, status: 'scored' }, STATE.heartbeatAt)).toBe(false);
  });

  it('knows the final statuses', () => {
    expect(['scored', 'evaluation-failed', 'no-model', 'failed'].every((s) => isFinalRunStatus(s as never))).toBe(true);
    expect(isFinalRunStatus('evaluating')).toBe(false);
  });
});

describe('parseEventsJsonl', () => {
  it('reads every documented event type', () => {
    const parsed = parseEventsJsonl(jsonl(EVENTS), 'record/events.jsonl');
    expect(parsed.problems).toEqual([]);
    expect(parsed.partialTail).toBe('');
    expect(parsed.events.map((e) => e.type)).toEqual(EVENTS.map((e) => e.type));
    expect(parsed.events[1]).toEqual({ t: 1763899200000, type: 'agent-started', deadline: 1763935200000 });
  });

  it('reports malformed lines with their numbers and keeps the rest', () => {
    const text = [
      JSON.stringify(EVENTS[0]),
      '{"t": 1, "type": "warning"',
      '',
      '[1, 2]',
      JSON.stringify({ t: 2, type: 'teleported' }),
      JSON.stringify({ t: 3, type: 'warning', secondsLeft: 'soon' }),
      JSON.stringify(EVENTS[1]),
      '',
    ].join('\n');
    const parsed = parseEventsJsonl(text, 'events.jsonl');
    expect(parsed.events.map((e) => e.type)).toEqual(['supervisor-started', 'agent-started']);
    expect(parsed.problems.map((p) => [p.line, p.source])).toEqual([
      [2, 'events.jsonl'],
      [4, 'events.jsonl'],
      [5, 'events.jsonl'],
      [6, 'events.jsonl'],
    ]);
    expect(parsed.problems[0]?.message).toMatch(/^not JSON \(/);
    expect(parsed.problems[0]?.text).toBe('{"t": 1, "type": "warning"');
    expect(parsed.problems[1]?.message).toBe('not a JSON object');
    expect(parsed.problems[2]?.message).toBe('unknown event type "teleported" (written by a newer supervisor?)');
    expect(parsed.problems[3]?.message).toMatch(/^warning event: secondsLeft: /);
  });

  it('holds back an unfinished last line instead of calling it malformed', () => {
    const whole = jsonl(EVENTS.slice(0, 2));
    const cut = JSON.stringify(EVENTS[2]).slice(0, 20);
    const parsed = parseEventsJsonl(whole + cut, 'events.jsonl');
    expect(parsed.events).toHaveLength(2);
    expect(parsed.problems).toEqual([]);
    expect(parsed.partialTail).toBe(cut);
    // The next chunk completes it.
    const next = parseEventsJsonl(parsed.partialTail + JSON.stringify(EVENTS[2]).slice(20) + '\n', 'events.jsonl');
    expect(next.events.map((e) => e.type)).toEqual(['gpu-sampling']);
  });

  it('accepts a complete last line without a newline, and CRLF files', () => {
    const parsed = parseEventsJsonl(`${JSON.stringify(EVENTS[0])}\r\n${JSON.stringify(EVENTS[1])}`, 'x');
    expect(parsed.events).toHaveLength(2);
    expect(parsed.partialTail).toBe('');
  });

  it('cuts long offending lines in problems', () => {
    const parsed = parseEventsJsonl(`${'x'.repeat(500)}\n`, 'x');
    expect(parsed.problems[0]?.text).toHaveLength(201);
  });
});
