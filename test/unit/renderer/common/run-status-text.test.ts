import { describe, expect, it } from 'vitest';
import {
  budgetText,
  formatScore,
  isLiveStatus,
  runControls,
  runNote,
  runStatusLabel,
  runStatusTone,
  stopReasonText,
} from '../../../../src/renderer/common/run-status-text';
import { RUN_STATUSES } from '../../../../src/shared/runs/run-status';

describe('run status words', () => {
  it('has a tone for every status, and idle for records main could not read', () => {
    for (const status of RUN_STATUSES) expect(runStatusTone(status)).not.toBe('idle');
    expect(runStatusTone('running')).toBe('live');
    expect(runStatusTone('scored')).toBe('ok');
    expect(runStatusTone('failed')).toBe('fail');
    expect(runStatusTone('unreadable')).toBe('idle');
  });

  it('labels statuses for people', () => {
    expect(runStatusLabel('evaluation-failed')).toBe('evaluation failed');
    expect(runStatusLabel('no-model')).toBe('no model');
    expect(runStatusLabel('evaluating')).toBe('evaluating…');
    expect(runStatusLabel('running')).toBe('running');
    expect(runStatusLabel('')).toBe('unknown');
  });

  it('knows which statuses are live', () => {
    expect(['starting', 'running', 'stopping', 'evaluating'].every(isLiveStatus)).toBe(true);
    expect(['scored', 'failed', 'no-model', 'evaluation-failed', 'unreadable'].some(isLiveStatus)).toBe(false);
  });

  it('explains stop reasons, passing unknown ones through', () => {
    expect(stopReasonText('budget')).toBe('budget used up');
    expect(stopReasonText('user-stop')).toBe('stopped by request');
    expect(stopReasonText('oom')).toBe('oom');
    expect(stopReasonText(null)).toBeNull();
    expect(stopReasonText(undefined)).toBeNull();
  });

  it('formats scores and budgets', () => {
    expect(formatScore(42.3125)).toBe('42.3');
    expect(formatScore(89)).toBe('89.0');
    expect(budgetText(5400)).toBe('1h30m budget');
    expect(budgetText(undefined)).toBeNull();
  });
});

describe('runControls', () => {
  it('offers what the status allows', () => {
    expect(runControls('running')).toEqual({ stop: true, kill: true, extend: true });
    expect(runControls('starting')).toEqual({ stop: true, kill: true, extend: false });
    expect(runControls('stopping')).toEqual({ stop: false, kill: true, extend: false });
    for (const status of ['evaluating', 'scored', 'failed', 'unreadable']) {
      expect(runControls(status)).toEqual({ stop: false, kill: false, extend: false });
    }
  });
});

describe('runNote', () => {
  it('says the worst thing first', () => {
    expect(runNote({ status: 'failed', error: 'image missing', stopReason: 'budget' })).toEqual({
      text: 'image missing',
      tone: 'fail',
    });
    expect(runNote({ status: 'running', supervisorAlive: false, syncError: 'unreachable' })?.tone).toBe('warn');
    expect(runNote({ status: 'running', syncError: 'unreachable' })).toEqual({
      text: 'not synced: unreachable',
      tone: 'warn',
    });
    expect(runNote({ status: 'scored', stopReason: 'budget' })).toEqual({ text: 'budget used up', tone: 'muted' });
    // A finished run's supervisor is gone by design.
    expect(runNote({ status: 'scored', supervisorAlive: false })).toBeNull();
  });
});
