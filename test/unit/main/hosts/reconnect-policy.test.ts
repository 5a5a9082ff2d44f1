import { describe, expect, it } from 'vitest';
import {
  isIdentityFault,
  isTransient,
  nextReconnectDelay,
  planReconnect,
} from '../../../../src/main/hosts/reconnect-policy';
import { AppError } from '../../../../src/shared/errors';

function sysError(code: string): Error {
  return Object.assign(new Error(`connect ${code}`), { code });
}

function ssh2Error(level: string, message = 'x'): Error {
  return Object.assign(new Error(message), { level });
}

describe('nextReconnectDelay', () => {
  it('doubles from 1 s and caps at 30 s', () => {
    const noJitter = { random: () => 0 };
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => nextReconnectDelay(n, noJitter))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('takes up to `jitter` off each delay and never exceeds the cap', () => {
    expect(nextReconnectDelay(1, { random: () => 0.5 })).toBe(900);
    expect(nextReconnectDelay(10, { random: () => 0.999999 })).toBe(24_000);
    for (let i = 0; i < 100; i++) {
      const delay = nextReconnectDelay(8);
      expect(delay).toBeGreaterThanOrEqual(24_000);
      expect(delay).toBeLessThanOrEqual(30_000);
    }
  });

  it('takes its shape from the options (tests use a fast one)', () => {
    const fast = { initialDelayMs: 100, maxDelayMs: 400, factor: 2, jitter: 0 };
    expect([1, 2, 3, 4].map((n) => nextReconnectDelay(n, fast))).toEqual([100, 200, 400, 400]);
    expect(nextReconnectDelay(0, fast)).toBe(100);
    expect(nextReconnectDelay(2, { ...fast, factor: 3 })).toBe(300);
  });
});

describe('isTransient', () => {
  it('retries the network and the transport', () => {
    for (const code of ['HOST_UNREACHABLE', 'TIMEOUT', 'TRANSPORT_CLOSED'] as const) {
      expect(isTransient(new AppError(code, 'x', { retryable: true }))).toBe(true);
    }
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND']) {
      expect(isTransient(sysError(code))).toBe(true);
    }
    expect(isTransient(ssh2Error('client-timeout', 'Keepalive timeout'))).toBe(true);
    expect(isTransient(ssh2Error('client-socket'))).toBe(true);
  });

  it('never retries identity faults', () => {
    for (const code of [
      'HOST_KEY_UNKNOWN',
      'HOST_KEY_CHANGED',
      'HOST_KEY_REVOKED',
      'AUTH_FAILED',
      'PASSPHRASE_REQUIRED',
    ] as const) {
      const err = new AppError(code, 'x');
      expect(isTransient(err)).toBe(false);
      expect(isIdentityFault(err)).toBe(true);
    }
    expect(isTransient(ssh2Error('client-authentication', 'All configured authentication methods failed'))).toBe(false);
    expect(isTransient(ssh2Error('handshake', 'Host denied (verification failed)'))).toBe(false);
  });

  it('does not retry what it does not recognise', () => {
    expect(isTransient(new Error('something else'))).toBe(false);
    expect(isTransient('a string')).toBe(false);
    expect(isTransient(new AppError('DOCKER_UNAVAILABLE', 'x', { retryable: true }))).toBe(false);
    expect(isIdentityFault(new AppError('HOST_UNREACHABLE', 'x'))).toBe(false);
  });
});

describe('planReconnect', () => {
  const unreachable = new AppError('HOST_UNREACHABLE', 'lost', { retryable: true });

  it('retries transient faults with the backoff delay', () => {
    expect(planReconnect(unreachable, 3, { random: () => 0 })).toEqual({ retry: true, delayMs: 4_000 });
  });

  it('stops after maxAttempts and at once for identity faults', () => {
    expect(planReconnect(unreachable, 4, { maxAttempts: 3 })).toEqual({ retry: false });
    expect(planReconnect(unreachable, 3, { maxAttempts: 3, random: () => 0 })).toMatchObject({ retry: true });
    expect(planReconnect(new AppError('HOST_KEY_CHANGED', 'x'), 1)).toEqual({ retry: false });
    expect(planReconnect(new AppError('AUTH_FAILED', 'x'), 1)).toEqual({ retry: false });
  });
});
