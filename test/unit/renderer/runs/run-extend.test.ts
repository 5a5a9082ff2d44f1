import { describe, expect, it } from 'vitest';
import { extendedDeadline, parseExtension } from '../../../../src/renderer/runs/run-extend';

describe('parseExtension', () => {
  it('reads durations as parseDuration does', () => {
    expect(parseExtension('1h')).toEqual({ ok: true, seconds: 3600 });
    expect(parseExtension('1h30m')).toEqual({ ok: true, seconds: 5400 });
    expect(parseExtension(' 45 min ')).toEqual({ ok: true, seconds: 2700 });
  });

  it('refuses what runs.extend would', () => {
    expect(parseExtension('10')).toMatchObject({ ok: false, message: expect.stringContaining('no unit') });
    expect(parseExtension('0s')).toEqual({ ok: false, message: 'Add at least one second.' });
    expect(parseExtension('200h')).toMatchObject({ ok: false, message: expect.stringContaining('168h') });
    expect(parseExtension('')).toMatchObject({ ok: false });
  });
});

describe('extendedDeadline', () => {
  it('adds to the deadline, or to now when there is none', () => {
    expect(extendedDeadline(1_000, 60, 5_000)).toBe(61_000);
    expect(extendedDeadline(null, 60, 5_000)).toBe(65_000);
    expect(extendedDeadline(undefined, 1, 0)).toBe(1_000);
  });
});
