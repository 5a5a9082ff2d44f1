import { AppError, type ErrorCode } from '../../shared/errors';

/**
 * When to reconnect a dropped SSH connection, and how long to wait first. Pure, so the policy is
 * tested without a server: transient faults (the network, the server restarting) are retried with
 * capped exponential backoff; identity faults (host key, credentials) never are, because retrying
 * cannot fix them and would keep offering credentials to a server we no longer trust.
 */
export interface ReconnectOptions {
  /** Delay before the first attempt. */
  initialDelayMs: number;
  /** No delay is longer than this, jitter included. */
  maxDelayMs: number;
  /** Each attempt waits `factor` times longer than the one before (until the cap). */
  factor: number;
  /** Fraction (0..1) taken off each delay at random, so many clients do not retry in lockstep. */
  jitter: number;
  /** Attempts before giving up (state `failed`); Infinity keeps trying. */
  maxAttempts: number;
  /** Source of randomness in [0, 1); injected for tests. */
  random: () => number;
}

export const DEFAULT_RECONNECT_OPTIONS: ReconnectOptions = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.2,
  maxAttempts: Number.POSITIVE_INFINITY,
  random: Math.random,
};

/** How long to wait before reconnect attempt `attempt` (1-based): initial · factor^(attempt-1), capped, minus jitter. */
export function nextReconnectDelay(attempt: number, options: Partial<ReconnectOptions> = {}): number {
  const o = { ...DEFAULT_RECONNECT_OPTIONS, ...options };
  const n = Math.max(1, Math.floor(attempt));
  const base = Math.min(o.maxDelayMs, o.initialDelayMs * Math.pow(o.factor, n - 1));
  const jitter = Math.min(1, Math.max(0, o.jitter));
  const random = Math.min(1, Math.max(0, o.random()));
  return Math.max(0, Math.round(base * (1 - jitter * random)));
}

/** Codes that say "who is on the other end, or who we are, is wrong": never retried automatically. */
const IDENTITY_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'HOST_KEY_UNKNOWN',
  'HOST_KEY_CHANGED',
  'HOST_KEY_REVOKED',
  'AUTH_FAILED',
  'PASSPHRASE_REQUIRED',
]);

const TRANSIENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['HOST_UNREACHABLE', 'TIMEOUT', 'TRANSPORT_CLOSED']);

/** Socket errors that a later attempt may not see (network down, server restarting). */
const TRANSIENT_SYSCALL_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** ssh2's `err.level` values for failures of the transport rather than of identity. */
const TRANSIENT_SSH2_LEVELS = new Set(['client-socket', 'client-timeout', 'protocol']);

export function isIdentityFault(error: unknown): boolean {
  return error instanceof AppError && IDENTITY_CODES.has(error.code);
}

/** Whether a later attempt may succeed without anyone changing anything. Unknown errors are not transient. */
export function isTransient(error: unknown): boolean {
  if (error instanceof AppError) return TRANSIENT_CODES.has(error.code);
  if (!(error instanceof Error)) return false;
  const { code, level } = error as Error & { code?: unknown; level?: unknown };
  if (typeof code === 'string' && TRANSIENT_SYSCALL_CODES.has(code)) return true;
  return typeof level === 'string' && TRANSIENT_SSH2_LEVELS.has(level);
}

export type ReconnectPlan = { readonly retry: true; readonly delayMs: number } | { readonly retry: false };

/** The decision after `error` ended (or failed to restore) a connection, before attempt `attempt` (1-based). */
export function planReconnect(error: unknown, attempt: number, options: Partial<ReconnectOptions> = {}): ReconnectPlan {
  const maxAttempts = options.maxAttempts ?? DEFAULT_RECONNECT_OPTIONS.maxAttempts;
  if (!isTransient(error) || attempt > maxAttempts) return { retry: false };
  return { retry: true, delayMs: nextReconnectDelay(attempt, options) };
}
