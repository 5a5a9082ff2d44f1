import { createHash, randomUUID } from 'node:crypto';
import type { HostVerifier } from 'ssh2';
import { AppError } from '../../shared/errors';
import type { HostKeyDecision, HostKeyPrompt } from '../../shared/hosts';
import { shellQuote } from '../../shared/shell-quote';
import type { HostKeyCandidate, HostKeyTrust, HostKeyVerdict } from './host-key-trust-types';

/** The key type named at the start of an SSH public key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, …). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return 'unknown';
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** `SHA256:…` as `ssh-keygen -lf` prints it (unpadded base64 of the blob's SHA-256). */
export function sha256Fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** `host:port`, bracketing IPv6 literals. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The name known_hosts files this host under: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** A verdict's `source` (`/root/.ssh/known_hosts:12`) as the file `ssh-keygen -f` takes, when it names one. */
export function knownHostsFileOf(source: string): string | undefined {
  if (!/^[/~]/.test(source)) return undefined;
  return source.replace(/:\d+$/, '');
}

/** A local path for the user's shell: a leading `~/` stays bare so that it expands to their home. */
function localPathWord(file: string): string {
  return file.startsWith('~/') ? `~/${shellQuote(file.slice(2))}` : shellQuote(file);
}

/** The command that removes the recorded key(s), so the user can accept the new one deliberately. */
export function removeKnownHostCommand(host: string, port: number, source: string): string {
  const file = knownHostsFileOf(source);
  const pattern = shellQuote(knownHostsPattern(host, port));
  return file === undefined ? `ssh-keygen -R ${pattern}` : `ssh-keygen -R ${pattern} -f ${localPathWord(file)}`;
}

export interface HostKeyFaultContext {
  /** What the user calls the connection (`root@gpu-1:22`, or `jump host root@bastion:22`). */
  readonly who: string;
  readonly candidate: HostKeyCandidate;
}

/**
 * The error for a verdict other than `trusted` (and for `unknown` the user refused). Identity
 * faults: never retryable, and each says that nothing was sent and what to do.
 */
export function hostKeyFault(
  context: HostKeyFaultContext,
  verdict: Exclude<HostKeyVerdict, { status: 'trusted' }>,
): AppError {
  const { who, candidate } = context;
  const presented = `${candidate.keyType} ${sha256Fingerprint(candidate.key)}`;
  switch (verdict.status) {
    case 'unknown':
      return new AppError(
        'HOST_KEY_UNKNOWN',
        `The host key of ${who} is not known (${presented}) and was not accepted; nothing was sent to it. ` +
          `Compare the fingerprint with the one the host's administrator gives you (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the host) and accept it if they match.`,
      );
    case 'changed': {
      const expected = verdict.knownFingerprints.length > 0 ? verdict.knownFingerprints.join(' or ') : 'another key';
      return new AppError(
        'HOST_KEY_CHANGED',
        `The host key of ${who} has CHANGED. Expected ${expected} (recorded in ${verdict.source}); ` +
          `the server presented ${presented}. Someone may be intercepting the connection, or the host was reinstalled. ` +
          `No credentials were sent. If the host's administrator confirms the new key, remove the old one with ` +
          `\`${removeKnownHostCommand(candidate.host, candidate.port, verdict.source)}\` and connect again.`,
      );
    }
    case 'revoked':
      return new AppError(
        'HOST_KEY_REVOKED',
        `The host key of ${who} (${presented}) is marked @revoked in ${verdict.source}; refusing to connect. No credentials were sent. ` +
          `Ask the host's administrator for the host's current key.`,
      );
  }
}

export interface HostKeyCheckOptions {
  readonly trust: HostKeyTrust;
  /** The address as the user wrote it (ssh_config HostName, or the jump hop's host), and its port. */
  readonly host: string;
  readonly port: number;
  /** How messages name this hop, e.g. `root@gpu-1:22` or `jump host root@bastion:22`. */
  readonly who: string;
  /** The profile's name, shown in the prompt. */
  readonly hostName: string;
  readonly confirmHostKey: (prompt: HostKeyPrompt) => Promise<HostKeyDecision>;
  /** Called around the prompt, so the connect timeout does not run while a person reads the fingerprint. */
  readonly onPrompt?: (phase: 'start' | 'end') => void;
  /** True once the connection attempt was abandoned (disposed, timed out). */
  readonly isAborted: () => boolean;
}

export interface HostKeyCheck {
  readonly hostVerifier: HostVerifier;
  /** Why the key was refused, once the verifier refused it. */
  readonly fault: () => AppError | undefined;
}

/**
 * ssh2's `hostVerifier`, asking the trust store (and, for an unknown key, the user) during key
 * exchange: before the userauth service is even requested, so no credential can leave first.
 *
 * It must stay a plain function that returns undefined and answers through `verify`: ssh2 calls
 * `verify(ret)` on anything returned, and accepts every value but `false` (so an `async` verifier's
 * Promise would accept any key). Every path below ends in an explicit verify(true) or verify(false).
 */
export function createHostKeyCheck(options: HostKeyCheckOptions): HostKeyCheck {
  let fault: AppError | undefined;
  const decide = async (key: Buffer): Promise<boolean> => {
    const candidate: HostKeyCandidate = { host: options.host, port: options.port, keyType: keyTypeOf(key), key };
    const context = { who: options.who, candidate };
    const verdict = await options.trust.check(candidate);
    if (verdict.status === 'trusted') return true;
    if (verdict.status !== 'unknown') {
      fault = hostKeyFault(context, verdict);
      return false;
    }
    if (options.isAborted()) return false;
    let decision: HostKeyDecision;
    options.onPrompt?.('start');
    try {
      decision = await options.confirmHostKey({
        promptId: randomUUID(),
        host: options.hostName,
        address: formatHostPort(options.host, options.port),
        keyType: candidate.keyType,
        fingerprint: sha256Fingerprint(key),
      });
    } finally {
      options.onPrompt?.('end');
    }
    if (decision !== 'once' && decision !== 'always') {
      fault = hostKeyFault(context, verdict);
      return false;
    }
    if (options.isAborted()) return false;
    await options.trust.trust(candidate, decision);
    return true;
  };
  const hostVerifier: HostVerifier = (key, verify) => {
    const answer = (accepted: boolean): void => {
      // An abandoned attempt (timed out, or the connection dropped while the trust store or a person was asked)
      // has already destroyed the client: ssh2 cannot fail a handshake twice (it throws from inside verify), and
      // the close that aborted us reports what happened.
      if (options.isAborted()) return;
      try {
        verify(accepted);
      } catch {
        // The connection died in between; its close or error event reports that.
      }
    };
    decide(key).then(
      (accepted) => answer(accepted),
      (err: unknown) => {
        fault =
          err instanceof AppError
            ? err
            : new AppError('INTERNAL', `Could not check the host key of ${options.who}: ${(err as Error).message}`, {
                cause: err,
              });
        answer(false);
      },
    );
  };
  return { hostVerifier, fault: () => fault };
}
