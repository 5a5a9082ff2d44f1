import { describe, expect, it } from 'vitest';
import {
  connectionStateText,
  connectionTextTicks,
  connectionTone,
  describeHostError,
  formatDuration,
  formatRelativeTime,
  formatSeconds,
  jumpHops,
  lastCheckText,
} from '../../../../src/renderer/common/host-state-text';
import type { ConnectionState } from '../../../../src/shared/hosts';

const now = Date.parse('2026-11-23T12:00:00Z');
const since = '2026-11-23T11:59:00Z';
const state = (s: Partial<ConnectionState> & Pick<ConnectionState, 'status'>): ConnectionState => ({ since, ...s });

describe('connection state text', () => {
  it('says where each state is', () => {
    expect(connectionStateText(undefined, now)).toBe('not connected');
    expect(connectionStateText(state({ status: 'disconnected' }), now)).toBe('not connected');
    expect(connectionStateText(state({ status: 'connecting' }), now)).toBe('connecting…');
    expect(connectionStateText(state({ status: 'connected' }), now)).toBe('connected');
  });

  it('counts down to the next reconnect attempt from the deadline', () => {
    const reconnecting = state({ status: 'reconnecting', attempt: 3, nextAttemptAt: '2026-11-23T12:00:04Z' });
    expect(connectionStateText(reconnecting, now)).toBe('reconnecting (attempt 3, next in 4 s)');
    expect(connectionStateText(reconnecting, now + 3_500)).toBe('reconnecting (attempt 3, next in 1 s)');
    expect(connectionStateText(reconnecting, now + 4_000)).toBe('reconnecting (attempt 3, trying now)');
    expect(connectionStateText(state({ status: 'reconnecting', attempt: 2 }), now)).toBe('reconnecting (attempt 2)');
    expect(connectionStateText(state({ status: 'reconnecting' }), now)).toBe('reconnecting');
    expect(
      connectionStateText(state({ status: 'reconnecting', attempt: 9, nextAttemptAt: '2026-11-23T12:01:30Z' }), now),
    ).toBe('reconnecting (attempt 9, next in 1 min 30 s)');
  });

  it('names the reason for a failure briefly', () => {
    const error = { code: 'HOST_KEY_CHANGED', message: 'long text', retryable: false };
    expect(connectionStateText(state({ status: 'failed', error }), now)).toBe('failed (host key changed)');
    expect(connectionStateText(state({ status: 'failed', error: { ...error, code: 'WEIRD' } }), now)).toBe('failed');
    expect(connectionStateText(state({ status: 'failed', error: { ...error, code: 'constructor' } }), now)).toBe(
      'failed',
    );
    expect(connectionStateText(state({ status: 'failed' }), now)).toBe('failed');
  });

  it('ticks only while a countdown is shown', () => {
    expect(connectionTextTicks(state({ status: 'reconnecting', nextAttemptAt: since }))).toBe(true);
    expect(connectionTextTicks(state({ status: 'reconnecting' }))).toBe(false);
    expect(connectionTextTicks(state({ status: 'connected' }))).toBe(false);
    expect(connectionTextTicks(undefined)).toBe(false);
  });

  it('colours by status', () => {
    expect(connectionTone(state({ status: 'connected' }))).toBe('online');
    expect(connectionTone(state({ status: 'connecting' }))).toBe('pending');
    expect(connectionTone(state({ status: 'reconnecting' }))).toBe('pending');
    expect(connectionTone(state({ status: 'failed' }))).toBe('offline');
    expect(connectionTone(state({ status: 'disconnected' }))).toBe('idle');
    expect(connectionTone(undefined)).toBe('idle');
  });
});

describe('times', () => {
  it('formats countdowns and durations', () => {
    expect(formatSeconds(0.2)).toBe('1 s');
    expect(formatSeconds(59)).toBe('59 s');
    expect(formatSeconds(120)).toBe('2 min');
    expect(formatSeconds(3 * 3600 + 60)).toBe('3 h 1 min');
    expect(formatSeconds(-5)).toBe('0 s');
    expect(formatDuration(85)).toBe('85 ms');
    expect(formatDuration(1_440)).toBe('1.4 s');
    expect(formatDuration(63_000)).toBe('1 min 3 s');
  });

  it('says how long ago', () => {
    expect(formatRelativeTime('2026-11-23T11:59:40Z', now)).toBe('just now');
    expect(formatRelativeTime('2026-11-23T11:55:00Z', now)).toBe('5 min ago');
    expect(formatRelativeTime('2026-11-23T09:00:00Z', now)).toBe('3 h ago');
    expect(formatRelativeTime('2026-11-22T10:00:00Z', now)).toBe('yesterday');
    expect(formatRelativeTime('2026-11-20T12:00:00Z', now)).toBe('3 days ago');
    expect(formatRelativeTime('not a date', now)).toBe('not a date');
  });

  it('sums up the last check for the list', () => {
    expect(lastCheckText(undefined, now)).toBe('never checked');
    expect(lastCheckText({ overall: 'pass', finishedAt: '2026-11-23T11:55:00Z' }, now)).toBe('ready · 5 min ago');
    expect(lastCheckText({ overall: 'fail', finishedAt: '2026-11-23T11:55:00Z' }, now)).toBe('not ready · 5 min ago');
  });
});

describe('describeHostError', () => {
  it('treats a changed or revoked host key as a security warning', () => {
    const changed = describeHostError({ code: 'HOST_KEY_CHANGED', message: 'm', retryable: false });
    expect(changed.severity).toBe('critical');
    expect(changed.title).toMatch(/host key has changed/);
    expect(changed.explanation).toMatch(/man-in-the-middle/);
    expect(describeHostError({ code: 'HOST_KEY_REVOKED', message: 'm', retryable: false }).severity).toBe('critical');
  });

  it('titles the other errors by what happened', () => {
    expect(describeHostError({ code: 'AUTH_FAILED', message: 'm', retryable: false })).toEqual({
      title: 'Authentication failed',
      severity: 'error',
    });
    expect(describeHostError({ code: 'DOCKER_UNAVAILABLE', message: 'm', retryable: true }).title).toMatch(/Docker/);
    expect(describeHostError({ code: 'SOMETHING_NEW', message: 'm', retryable: false })).toEqual({
      title: 'Something went wrong',
      severity: 'error',
    });
    // The code is any string main sends: one that is a property name of a plain object is still unknown.
    expect(describeHostError({ code: 'toString', message: 'm', retryable: false }).title).toBe('Something went wrong');
  });
});

describe('jumpHops', () => {
  it('splits the chain', () => {
    expect(jumpHops('')).toEqual([]);
    expect(jumpHops('bastion,ana@gw:2222')).toEqual(['bastion', 'ana@gw:2222']);
  });
});
