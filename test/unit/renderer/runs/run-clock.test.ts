import { describe, expect, it } from 'vitest';
import { clockTicks, runClock, runClockText } from '../../../../src/renderer/runs/run-clock';
import { HOUR, runSummary, T0 } from './run-fixtures';

describe('runClock', () => {
  it('counts down to the host’s deadline while the agent works', () => {
    const run = runSummary('r', { budgetSeconds: 36_000, startedAt: T0, deadline: T0 + 10 * HOUR });
    const clock = runClock(run, T0 + 2 * HOUR);
    expect(clock).toEqual({
      phase: 'running',
      elapsedMs: 2 * HOUR,
      remainingMs: 8 * HOUR,
      budgetMs: 10 * HOUR,
      fraction: 0.2,
      overdue: false,
    });
    expect(runClockText(clock)).toEqual({ primary: '8:00:00 left', secondary: '2:00:00 of 10h' });
  });

  it('takes the budget from the deadline, so an extension shows in the bar', () => {
    const run = runSummary('r', { budgetSeconds: 36_000, startedAt: T0, deadline: T0 + 12 * HOUR });
    const clock = runClock(run, T0 + 6 * HOUR);
    expect(clock.budgetMs).toBe(12 * HOUR);
    expect(clock.fraction).toBe(0.5);
    expect(runClockText(clock).secondary).toBe('6:00:00 of 12h');
  });

  it('never shows negative time past the deadline, and says so', () => {
    const run = runSummary('r', { startedAt: T0, deadline: T0 + HOUR });
    const clock = runClock(run, T0 + HOUR + 4_000);
    expect(clock.remainingMs).toBe(0);
    expect(clock.fraction).toBe(1);
    expect(clock.overdue).toBe(true);
    expect(runClockText(clock).primary).toBe('at the deadline');
  });

  it('falls back to the planned budget when the host has not sent a deadline', () => {
    const run = runSummary('r', { budgetSeconds: 3_600, startedAt: T0, deadline: null });
    const clock = runClock(run, T0 + 15 * 60_000);
    expect(clock.remainingMs).toBe(45 * 60_000);
    expect(clock.fraction).toBe(0.25);
  });

  it('never shows more time left than the budget when the host’s clock is ahead of ours', () => {
    const run = runSummary('r', { budgetSeconds: 180, startedAt: T0, deadline: T0 + 180_000 });
    expect(runClock(run, T0 - 2_000)).toMatchObject({ elapsedMs: 0, remainingMs: 180_000, fraction: 0 });
  });

  it('rounds the countdown up and the elapsed time down, so they add up to the budget', () => {
    const run = runSummary('r', { budgetSeconds: 300, startedAt: T0, deadline: T0 + 300_000 });
    expect(runClockText(runClock(run, T0 + 300))).toEqual({ primary: '0:05:00 left', secondary: '0:00:00 of 5m' });
    expect(runClockText(runClock(run, T0 + 1_700))).toEqual({ primary: '0:04:59 left', secondary: '0:00:01 of 5m' });
  });

  it('counts up with no budget at all', () => {
    const run = runSummary('r', { startedAt: T0 });
    const clock = runClock(run, T0 + 61_000);
    expect(clock).toMatchObject({ phase: 'running', elapsedMs: 61_000, remainingMs: null, fraction: null });
    expect(runClockText(clock).primary).toBe('0:01:01 elapsed');
  });

  it('freezes at the stop: elapsed is stoppedAt − startedAt whatever the time now', () => {
    const run = runSummary('r', {
      status: 'scored',
      budgetSeconds: 36_000,
      startedAt: T0,
      deadline: T0 + 10 * HOUR,
      stoppedAt: T0 + 10 * HOUR,
    });
    for (const now of [T0 + 10 * HOUR, T0 + 30 * HOUR]) {
      expect(runClock(run, now)).toMatchObject({ phase: 'stopped', elapsedMs: 10 * HOUR, fraction: 1 });
    }
    expect(runClockText(runClock(run, T0))).toEqual({ primary: 'ran 10:00:00', secondary: 'of 10h' });
  });

  it('treats a stopping run with stoppedAt as stopped', () => {
    const run = runSummary('r', { status: 'stopping', startedAt: T0, stoppedAt: T0 + 90_000, budgetSeconds: 180 });
    expect(runClock(run, T0 + HOUR)).toMatchObject({ phase: 'stopped', elapsedMs: 90_000, fraction: 0.5 });
  });

  it('a final run with no stop time says it stopped, without inventing a duration', () => {
    const run = runSummary('r', { status: 'failed', startedAt: T0 });
    const clock = runClock(run, T0 + HOUR);
    expect(clock).toMatchObject({ phase: 'stopped', elapsedMs: null, fraction: null });
    expect(runClockText(clock).primary).toBe('stopped');
  });

  it('waits until the agent starts', () => {
    const run = runSummary('r', { status: 'starting', budgetSeconds: 36_000 });
    const clock = runClock(run, T0);
    expect(clock).toMatchObject({ phase: 'waiting', elapsedMs: null, budgetMs: 10 * HOUR, fraction: null });
    expect(runClockText(clock)).toEqual({ primary: 'not started', secondary: 'of 10h budget' });
  });
});

describe('clockTicks', () => {
  it('ticks only for a live run whose agent has started and not stopped', () => {
    expect(clockTicks(runSummary('a', { startedAt: T0 }))).toBe(true);
    expect(clockTicks(runSummary('b', { status: 'starting' }))).toBe(false);
    expect(clockTicks(runSummary('c', { status: 'stopping', startedAt: T0, stoppedAt: T0 + 1 }))).toBe(false);
    expect(clockTicks(runSummary('d', { status: 'scored', startedAt: T0 }))).toBe(false);
    expect(clockTicks(runSummary('e', { status: 'unreadable', startedAt: T0 }))).toBe(false);
  });
});
