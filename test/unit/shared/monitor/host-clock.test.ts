import { describe, expect, it } from 'vitest';
import { deadlineOnLocalClock, hostNow, remainingOnHost } from '../../../../src/shared/monitor/host-clock';

const T0 = Date.parse('2026-11-23T12:00:00Z');

describe('host clock', () => {
  it('reads the host’s time as ours plus the measured offset', () => {
    expect(hostNow(T0, 2_500)).toBe(T0 + 2_500);
    expect(hostNow(T0, -90_000)).toBe(T0 - 90_000);
    expect(hostNow(T0, null)).toBe(T0);
    expect(hostNow(T0, Number.NaN)).toBe(T0);
  });

  it('counts down to the deadline on the host’s clock', () => {
    const deadline = T0 + 10 * 60_000;
    // The host is 30 s ahead: 30 s less is left than our clock alone would say.
    expect(remainingOnHost(deadline, T0, 30_000)).toBe(9.5 * 60_000);
    // Behind by a minute: a minute more.
    expect(remainingOnHost(deadline, T0, -60_000)).toBe(11 * 60_000);
    expect(remainingOnHost(deadline, T0 + 20 * 60_000, 0)).toBe(0);
    expect(remainingOnHost(null, T0, 0)).toBeNull();
  });

  it('says when the deadline comes on our clock', () => {
    expect(deadlineOnLocalClock(T0, 30_000)).toBe(T0 - 30_000);
    expect(deadlineOnLocalClock(T0, null)).toBe(T0);
  });
});
