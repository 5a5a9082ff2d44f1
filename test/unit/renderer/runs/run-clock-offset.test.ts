import { describe, expect, it } from 'vitest';
import { runClock, runClockText } from '../../../../src/renderer/runs/run-clock';
import { runSummary, T0 } from './run-fixtures';

// The countdown reads the host's deadline on the host's clock: ours plus the offset the last sync measured.
describe('runClock with the host clock offset', () => {
  const run = runSummary('r', { budgetSeconds: 600, startedAt: T0, deadline: T0 + 600_000 });

  it('counts less time left when the host’s clock is ahead of ours', () => {
    // Our clock says 2 minutes in; the host's is 30 s ahead, and its deadline is what stops the agent.
    const clock = runClock(run, T0 + 120_000, 30_000);
    expect(clock.remainingMs).toBe(450_000);
    expect(clock.elapsedMs).toBe(150_000);
    expect(runClockText(clock).primary).toBe('0:07:30 left');
  });

  it('counts more when it is behind, and agrees with the plain clock without an offset', () => {
    expect(runClock(run, T0 + 120_000, -60_000).remainingMs).toBe(540_000);
    expect(runClock(run, T0 + 120_000, null)).toEqual(runClock(run, T0 + 120_000));
  });

  it('reaches the deadline when the host does, not when our clock does', () => {
    expect(runClock(run, T0 + 590_000, 15_000)).toMatchObject({ remainingMs: 0, overdue: true });
  });
});
