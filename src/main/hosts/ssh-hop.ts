import type { Duplex } from 'node:stream';
import { Client, type ClientChannel } from 'ssh2';
import { AppError } from '../../shared/errors';
import type { HostKeyDecision, HostKeyPrompt, PassphrasePrompt } from '../../shared/hosts';
import type { HostKeyTrust } from './host-key-trust-types';
import { authFailure, createAuthHandler, type IdentityFile, type KeyVault } from './ssh-auth';
import { createHostKeyCheck, formatHostPort } from './ssh-host-key';

/** One SSH server on the way to the host: a ProxyJump hop or the host itself. */
export interface SshHop {
  readonly role: 'jump' | 'target';
  /** As the user wrote it; also what host keys are recorded under. */
  readonly host: string;
  readonly port: number;
  readonly username: string;
}

/** `root@gpu-1:22`, or `jump host root@bastion:22`: how every message names a hop. */
export function describeHop(hop: SshHop): string {
  const address = `${hop.username}@${formatHostPort(hop.host, hop.port)}`;
  return hop.role === 'jump' ? `jump host ${address}` : address;
}

export interface OpenHopOptions {
  readonly hop: SshHop;
  /** The previous hop's connection, to tunnel through (direct-tcpip); absent for the first hop. */
  readonly via?: { client: Client; hop: SshHop } | undefined;
  /** The profile's name, for prompts. */
  readonly hostName: string;
  readonly trust: HostKeyTrust;
  readonly confirmHostKey: (prompt: HostKeyPrompt) => Promise<HostKeyDecision>;
  readonly askPassphrase: (prompt: PassphrasePrompt) => Promise<string | undefined>;
  readonly agentSocket: string | undefined;
  readonly identityFiles: readonly IdentityFile[];
  readonly vault: KeyVault;
  /** Connect + handshake + login must finish within this, not counting time spent waiting on a person. */
  readonly readyTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveCountMax: number;
  readonly signal: AbortSignal;
}

export interface OpenedHop {
  readonly client: Client;
  readonly hop: SshHop;
  /** The last error ssh2 reported after login (keepalive timeout, socket reset), to explain a drop. */
  readonly lastError: () => Error | undefined;
}

/** Network errno values worth naming in words. */
const SOCKET_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is sshd running on that port?)',
  ENOTFOUND: 'no such host name (DNS lookup failed)',
  EAI_AGAIN: 'DNS lookup failed for now',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset by the server',
};

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/**
 * The error for a failure before login finished, that was not about identity (those carry their
 * own AppError). Pure, so each case's wording is unit-tested.
 */
export function unreachableError(hop: SshHop, err: Error & { code?: unknown; level?: unknown }): AppError {
  const who = describeHop(hop);
  const code = typeof err.code === 'string' ? err.code : undefined;
  const reason = code && SOCKET_REASONS[code] ? `${SOCKET_REASONS[code]} (${code})` : err.message;
  return new AppError('HOST_UNREACHABLE', `Could not reach ${who}: ${reason}`, { retryable: true, cause: err });
}

function timeoutError(hop: SshHop, ms: number, stage: string): AppError {
  return new AppError('HOST_UNREACHABLE', `Could not reach ${describeHop(hop)} within ${seconds(ms)} (${stage})`, {
    retryable: true,
  });
}

/** A timer that stops while a person is being asked something; restarts with the time that was left. */
class PausableDeadline {
  #remaining: number;
  #startedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #paused = 0;
  #done = false;

  constructor(
    ms: number,
    private readonly onExpire: () => void,
  ) {
    this.#remaining = ms;
    this.#arm();
  }

  pause(): void {
    if (this.#done || this.#paused++ > 0) return;
    clearTimeout(this.#timer);
    this.#remaining -= Date.now() - this.#startedAt;
  }

  resume(): void {
    if (this.#done || --this.#paused > 0) return;
    this.#arm();
  }

  clear(): void {
    this.#done = true;
    clearTimeout(this.#timer);
  }

  #arm(): void {
    this.#startedAt = Date.now();
    this.#timer = setTimeout(
      () => {
        this.#done = true;
        this.onExpire();
      },
      Math.max(0, this.#remaining),
    );
  }
}

function openTunnel(via: { client: Client; hop: SshHop }, hop: SshHop): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      via.client.forwardOut('127.0.0.1', 0, hop.host, hop.port, (err, channel) => {
        if (!err) return resolve(channel);
        const reason = (err as Error & { reason?: unknown }).reason;
        // RFC 4254 §5.1: 1 = administratively prohibited.
        const detail =
          reason === 1
            ? `${describeHop(via.hop)} refuses TCP forwarding (AllowTcpForwarding in its sshd_config)`
            : `${describeHop(via.hop)} could not connect to it: ${err.message}`;
        reject(
          new AppError('HOST_UNREACHABLE', `Could not reach ${describeHop(hop)} through ${detail}`, {
            retryable: true,
            cause: err,
          }),
        );
      });
    } catch (err) {
      reject(unreachableError(via.hop, err as Error));
    }
  });
}

/**
 * Opens one hop and logs in: TCP (or a tunnel through the previous hop), key exchange with the host
 * key checked against the trust store, then the agent and key files. Resolves once authenticated.
 */
export function openHop(options: OpenHopOptions): Promise<OpenedHop> {
  const { hop, signal } = options;
  const who = describeHop(hop);
  const client = new Client();
  let lastError: Error | undefined;
  // Always listening: ssh2 emits errors while tearing down, and an unhandled one ends the process.
  client.on('error', (err: Error) => {
    lastError = err;
  });

  return new Promise<OpenedHop>((resolve, reject) => {
    let settled = false;
    const isAborted = (): boolean => settled || signal.aborted;
    const fail = (error: AppError): void => {
      if (settled) return;
      settled = true;
      cleanup();
      client.destroy();
      reject(error);
    };
    let stage = options.via ? 'opening a tunnel' : 'no answer to the TCP connect';
    const deadline = new PausableDeadline(options.readyTimeoutMs, () =>
      fail(timeoutError(hop, options.readyTimeoutMs, stage)),
    );
    const onPrompt = (phase: 'start' | 'end'): void => (phase === 'start' ? deadline.pause() : deadline.resume());

    const hostKey = createHostKeyCheck({
      trust: options.trust,
      host: hop.host,
      port: hop.port,
      who,
      hostName: options.hostName,
      confirmHostKey: options.confirmHostKey,
      onPrompt,
      isAborted,
    });
    const auth = createAuthHandler({
      username: hop.username,
      hostName: options.hostName,
      agentSocket: options.agentSocket,
      identityFiles: options.identityFiles,
      vault: options.vault,
      askPassphrase: options.askPassphrase,
      onPrompt,
      isAborted,
    });

    const onAbort = (): void =>
      fail(
        new AppError('TRANSPORT_CLOSED', `The connection to ${who} was closed while connecting`, { retryable: true }),
      );
    const onConnect = (): void => {
      stage = 'no SSH answer';
    };
    const onHandshake = (): void => {
      stage = 'logging in';
    };
    const onReady = (): void => {
      if (settled) return;
      settled = true;
      cleanup();
      // Errors ssh2 reported during login (an agent it could not use) say nothing about a later drop.
      lastError = undefined;
      resolve({ client, hop, lastError: () => lastError });
    };
    const onError = (err: Error & { level?: unknown; code?: unknown }): void => {
      // ssh2 reports an unreachable agent as an error, then moves on to the next method.
      if (err.level === 'agent') {
        auth.log.notes.push(`ssh-agent: ${err.message}`);
        return;
      }
      const refused = hostKey.fault();
      if (refused) return fail(refused);
      if (err.level === 'client-authentication') {
        if (/All configured authentication methods failed/.test(err.message)) {
          return fail(authFailure(who, auth.log, options.identityFiles));
        }
        // e.g. "Error while signing with key": ssh2 moves on to the next method by itself.
        auth.log.notes.push(err.message);
        return;
      }
      // A DISCONNECT from the server during login (e.g. "Too many authentication failures").
      if (typeof err.code === 'number' && stage === 'logging in' && /auth/i.test(err.message)) {
        const failure = authFailure(who, auth.log, options.identityFiles);
        return fail(new AppError(failure.code, `${failure.message} (the server said: ${err.message})`, { cause: err }));
      }
      fail(unreachableError(hop, err));
    };
    const onClose = (): void => {
      const refused = hostKey.fault();
      if (refused) return fail(refused);
      fail(unreachableError(hop, new Error(`the server closed the connection (${stage})`)));
    };
    const cleanup = (): void => {
      deadline.clear();
      signal.removeEventListener('abort', onAbort);
      client.off('connect', onConnect).off('handshake', onHandshake).off('ready', onReady);
      client.off('error', onError).off('close', onClose);
    };

    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    client.on('connect', onConnect).on('handshake', onHandshake).on('ready', onReady);
    client.on('error', onError).on('close', onClose);

    const start = (sock: Duplex | undefined): void => {
      if (settled) {
        sock?.destroy();
        return;
      }
      stage = sock ? 'no SSH answer' : stage;
      try {
        client.connect({
          host: hop.host,
          port: hop.port,
          username: hop.username,
          ...(sock ? { sock } : {}),
          hostVerifier: hostKey.hostVerifier,
          authHandler: auth.authHandler,
          // Ours (above) instead of ssh2's, because ours pauses while a prompt is open.
          readyTimeout: 0,
          keepaliveInterval: options.keepaliveIntervalMs,
          keepaliveCountMax: options.keepaliveCountMax,
        });
      } catch (err) {
        fail(unreachableError(hop, err as Error));
      }
    };
    if (options.via) openTunnel(options.via, hop).then(start, fail);
    else start(undefined);
  });
}
