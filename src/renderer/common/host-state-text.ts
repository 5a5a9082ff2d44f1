import type { HostSummary } from '../../shared/contract';
import type { CheckStatus, ConnectionState } from '../../shared/hosts';

/**
 * Words and colours for the facts main reports about a host (connection state, last check, errors).
 * The store keeps the facts (an attempt number, a deadline); these derive what is shown at `now`.
 */

/** The dot's colour class: green, amber, red, grey. */
export type StateTone = 'online' | 'pending' | 'offline' | 'idle';

export function connectionTone(state: ConnectionState | undefined): StateTone {
  switch (state?.status) {
    case 'connected':
      return 'online';
    case 'connecting':
    case 'reconnecting':
      return 'pending';
    case 'failed':
      return 'offline';
    default:
      return 'idle';
  }
}

/** "4 s", "1 min 5 s", "2 h 3 min": a countdown or a duration, rounded up to whole seconds. */
export function formatSeconds(totalSeconds: number): string {
  const s = Math.max(0, Math.ceil(totalSeconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const rest = s % 60;
    return rest === 0 ? `${Math.floor(s / 60)} min` : `${Math.floor(s / 60)} min ${rest} s`;
  }
  const minutes = Math.floor((s % 3600) / 60);
  return minutes === 0 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 3600)} h ${minutes} min`;
}

/** A check's duration: "85 ms", "1.4 s", "1 min 3 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 10_000) return `${(Math.round(ms / 100) / 10).toFixed(1)} s`;
  return formatSeconds(ms / 1000);
}

const shortErrorLabels = new Map<string, string>([
  ['HOST_KEY_CHANGED', 'host key changed'],
  ['HOST_KEY_UNKNOWN', 'host key not accepted'],
  ['HOST_KEY_REVOKED', 'host key revoked'],
  ['AUTH_FAILED', 'authentication failed'],
  ['PASSPHRASE_REQUIRED', 'key passphrase needed'],
  ['HOST_UNREACHABLE', 'unreachable'],
  ['TIMEOUT', 'timed out'],
  ['DOCKER_UNAVAILABLE', 'Docker unavailable'],
  ['DOCKER_UNSUPPORTED', 'Docker unsupported'],
  ['SSH_CONFIG_INVALID', 'ssh config invalid'],
]);

/**
 * One line for a host's connection, e.g. "reconnecting (attempt 3, next in 4 s)" or
 * "failed (host key changed)". `now` is epoch milliseconds.
 */
export function connectionStateText(state: ConnectionState | undefined, now: number): string {
  if (!state) return 'not connected';
  switch (state.status) {
    case 'connected':
      return 'connected';
    case 'connecting':
      return 'connecting…';
    case 'disconnected':
      return 'not connected';
    case 'failed': {
      const label = state.error ? (shortErrorLabels.get(state.error.code) ?? null) : null;
      return label ? `failed (${label})` : 'failed';
    }
    case 'reconnecting': {
      const parts: string[] = [];
      if (state.attempt !== undefined) parts.push(`attempt ${state.attempt}`);
      const next = state.nextAttemptAt === undefined ? Number.NaN : Date.parse(state.nextAttemptAt);
      if (!Number.isNaN(next)) {
        const left = (next - now) / 1000;
        parts.push(left > 0 ? `next in ${formatSeconds(left)}` : 'trying now');
      }
      return parts.length > 0 ? `reconnecting (${parts.join(', ')})` : 'reconnecting';
    }
  }
}

/** Whether the text above changes as time passes, so the view needs a ticking clock. */
export function connectionTextTicks(state: ConnectionState | undefined): boolean {
  return state?.status === 'reconnecting' && state.nextAttemptAt !== undefined;
}

/** "just now", "5 min ago", "3 h ago", "2 days ago"; text that is not a date comes back as it is. */
export function formatRelativeTime(iso: string, now: number): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  const seconds = Math.max(0, (now - time) / 1000);
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.max(1, Math.round(seconds / 60))} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  const days = Math.round(seconds / 86_400);
  return days === 1 ? 'yesterday' : `${days} days ago`;
}

const overallLabels: Record<CheckStatus, string> = {
  pass: 'ready',
  warn: 'ready, with warnings',
  fail: 'not ready',
  skip: 'skipped',
  pending: 'waiting',
  running: 'checking…',
};

/** What a preflight's overall status means for launching runs. */
export function overallLabel(status: CheckStatus): string {
  return overallLabels[status];
}

/** The list row's last-check line: "ready · 5 min ago", or "never checked". */
export function lastCheckText(lastCheck: HostSummary['lastCheck'], now: number): string {
  if (!lastCheck) return 'never checked';
  return `${overallLabel(lastCheck.overall)} · ${formatRelativeTime(lastCheck.finishedAt, now)}`;
}

export type ErrorSeverity = 'critical' | 'error';

/** A command's error, or the one a connection state carries (whose code is any string). */
export interface HostError {
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
}

export interface HostErrorView {
  readonly title: string;
  readonly severity: ErrorSeverity;
  /** For identity faults: why this matters, before main's message says what to do. */
  readonly explanation?: string;
}

/** The headings of the errors that are not identity faults. */
const errorTitles = new Map<string, string>([
  ['HOST_KEY_UNKNOWN', 'Host key not accepted'],
  ['AUTH_FAILED', 'Authentication failed'],
  ['PASSPHRASE_REQUIRED', 'The key needs its passphrase'],
  ['HOST_UNREACHABLE', 'Host unreachable'],
  ['TIMEOUT', 'Timed out'],
  ['DOCKER_UNAVAILABLE', 'Docker is not reachable on the host'],
  ['DOCKER_UNSUPPORTED', 'Docker on the host is not supported'],
  ['SSH_CONFIG_INVALID', 'The ssh config has a problem'],
  ['TRANSPORT_CLOSED', 'Lost the connection to the app'],
  ['NOT_FOUND', 'Not found'],
]);

/** A heading for an error main returned; the message under it says what to do. */
export function describeHostError(error: HostError): HostErrorView {
  switch (error.code) {
    case 'HOST_KEY_CHANGED':
      return {
        title: 'Warning: the host key has changed',
        severity: 'critical',
        explanation:
          'The server answered with a different key than the one saved for it. Someone may be intercepting the ' +
          'connection (a man-in-the-middle attack), or the host was reinstalled. Nothing was sent to it. Do not ' +
          'connect until the host’s administrator confirms the new key.',
      };
    case 'HOST_KEY_REVOKED':
      return {
        title: 'Warning: the host key is revoked',
        severity: 'critical',
        explanation: 'The server presented a key marked as revoked. Nothing was sent to it.',
      };
    default:
      return { title: errorTitles.get(error.code) ?? 'Something went wrong', severity: 'error' };
  }
}

/** Splits the summary's `jump` (as ssh -J writes it) into hops for display; empty when direct. */
export function jumpHops(jump: string): string[] {
  return jump
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '');
}
