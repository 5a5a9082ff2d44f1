/**
 * Interfaces between host-key verification (known_hosts + the app's trust store) and the SSH
 * connection. The connection calls `check` from ssh2's `hostVerifier`, before any credential is sent.
 */

export interface HostKeyCandidate {
  /** The name being connected to as the user wrote it (ssh_config HostName or the jump hop's host). */
  readonly host: string;
  readonly port: number;
  /** e.g. `ssh-ed25519`, read from the key blob. */
  readonly keyType: string;
  /** The raw public key blob (SSH wire format), as ssh2's hostVerifier receives it. */
  readonly key: Buffer;
}

export type HostKeyVerdict =
  /** A matching key is recorded (in ~/.ssh/known_hosts, a file the profile names, or the app's trust store). */
  | { readonly status: 'trusted'; readonly source: string }
  /** Nothing is recorded for this host and key type: ask the user. */
  | { readonly status: 'unknown' }
  /** A different key is recorded for this host: refuse, never accept automatically. */
  | { readonly status: 'changed'; readonly source: string; readonly knownFingerprints: readonly string[] }
  /** The key is listed under @revoked: refuse. */
  | { readonly status: 'revoked'; readonly source: string };

export interface HostKeyTrust {
  check(candidate: HostKeyCandidate): Promise<HostKeyVerdict>;
  /** Records a key the user accepted: `once` for this app session only, `always` in `PTW_HOME/known_hosts`. */
  trust(candidate: HostKeyCandidate, scope: 'once' | 'always'): Promise<void>;
}
