import { describe, expect, it } from 'vitest';
import {
  formatByteSize,
  formatCountdown,
  formatDuration,
  parseByteSize,
  parseDuration,
  remainingMs,
} from '../../../../src/shared/runs/duration';

describe('parseDuration', () => {
  it.each([
    ['10h', 36_000],
    ['90m', 5_400],
    ['20s', 20],
    ['1h30m', 5_400],
    ['1h 30m 15s', 5_415],
    ['1.5h', 5_400],
    ['2 hours', 7_200],
    ['45 min', 2_700],
    ['1d', 86_400],
    ['10H', 36_000],
    ['10:00:00', 36_000],
    ['00:01:30', 90],
    ['  5m ', 300],
  ])('reads %s as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toEqual({ ok: true, value: seconds });
  });

  it('refuses a bare number, since 10 could be seconds or hours', () => {
    const parsed = parseDuration('10');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(/no unit; write it like 10h/);
  });

  it.each(['', 'ten hours', '10x', '10h foo', 'h10', '1:2:3', '10:61:00'])('refuses %j with a hint', (text) => {
    const parsed = parseDuration(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(/10h, 90m, 20s or 1h30m/);
  });

  it('names a wrong unit', () => {
    const parsed = parseDuration('10w');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain('"w" in "10w" is not a unit');
  });
});

describe('formatDuration', () => {
  it.each([
    [36_000, '10h'],
    [5_400, '1h30m'],
    [3_605, '1h5s'],
    [45, '45s'],
    [0, '0s'],
    [129_600, '36h'],
  ])('%i → %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const seconds of [1, 59, 60, 61, 3_599, 3_600, 3_661, 36_000, 90_061]) {
      expect(parseDuration(formatDuration(seconds))).toEqual({ ok: true, value: seconds });
    }
  });
});

describe('parseByteSize', () => {
  it.each([
    ['64g', 64 * 1024 ** 3],
    ['64G', 64 * 1024 ** 3],
    ['64GB', 64 * 1024 ** 3],
    ['64GiB', 64 * 1024 ** 3],
    ['512m', 512 * 1024 ** 2],
    ['1.5t', 1.5 * 1024 ** 4],
    ['400 g', 400 * 1024 ** 3],
    ['1024', 1024],
    ['2k', 2048],
  ])('reads %s as binary units, like docker --memory', (text, bytes) => {
    expect(parseByteSize(text)).toEqual({ ok: true, value: bytes });
  });

  it.each(['', 'lots', '64 gigs', '-1g', '1e9'])('refuses %j with a hint', (text) => {
    const parsed = parseByteSize(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(/64g, 512m/);
  });

  it('formats sizes for people', () => {
    expect(formatByteSize(64 * 1024 ** 3)).toBe('64 GiB');
    expect(formatByteSize(1.5 * 1024 ** 3)).toBe('1.5 GiB');
    expect(formatByteSize(512)).toBe('512 B');
  });
});

describe('countdown', () => {
  it('never goes below zero', () => {
    expect(remainingMs(10_000, 4_000)).toBe(6_000);
    expect(remainingMs(10_000, 12_000)).toBe(0);
  });

  it('shows H:MM:SS, rounding up so 0:00:00 means the time is up', () => {
    expect(formatCountdown(36_000_000)).toBe('10:00:00');
    expect(formatCountdown(35_998_000)).toBe('9:59:58');
    expect(formatCountdown(500)).toBe('0:00:01');
    expect(formatCountdown(0)).toBe('0:00:00');
    expect(formatCountdown(-5)).toBe('0:00:00');
  });
});
