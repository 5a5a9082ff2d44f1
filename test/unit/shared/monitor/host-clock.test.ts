import { describe, expect, it } from 'vitest';
import { deadlineOnLocalClock, hostNow } from '../../../../src/shared/monitor/host-clock';

const T0 = Date.parse('2026-11-23T12:00:00Z');

describe('host clock', () => {
  it('reads the host’s time as ours plus the measured offset', () => {
    expect(hostNow(T0, 2_500)).toBe(T0 + 2_500);
    expect(hostNow(T0, -90_000)).toBe(T0 - 90_000);
    expect(hostNow(T0, null)).toBe(T0);
    expect(hostNow(T0, Number.NaN)).toBe(T0);
  });

  it('says when the deadline comes on our clock', () => {
    expect(deadlineOnLocalClock(T0, 30_000)).toBe(T0 - 30_000);
    expect(deadlineOnLocalClock(T0, null)).toBe(T0);
  });
});
