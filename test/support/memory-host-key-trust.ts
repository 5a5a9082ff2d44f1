import type { HostKeyCandidate, HostKeyTrust, HostKeyVerdict } from '../../src/main/hosts/host-key-trust-types';
import { keyTypeOf, sha256Fingerprint } from '../../src/main/hosts/ssh-host-key';
import { publicKeyBlob } from './test-sshd';

interface Entry {
  readonly keyType: string;
  readonly key: Buffer;
  readonly source: string;
}

/**
 * An in-memory HostKeyTrust with known_hosts semantics (per host:port and key type): a matching key
 * is trusted, a different key of the same type has changed, a listed key is revoked. Records every
 * check and trust call so tests can see what the connection asked, and in which order.
 */
export class MemoryHostKeyTrust implements HostKeyTrust {
  readonly checks: HostKeyCandidate[] = [];
  readonly trusted: Array<{ candidate: HostKeyCandidate; scope: 'once' | 'always' }> = [];
  readonly #entries = new Map<string, Entry[]>();
  readonly #revoked: Array<{ key: Buffer; source: string }> = [];

  constructor(readonly source = '/tmp/ptw-test/known_hosts') {}

  /** Records `key` (an OpenSSH public key line or a blob) for host:port. */
  add(host: string, port: number, key: string | Buffer, source = `${this.source}:1`): this {
    const blob = typeof key === 'string' ? publicKeyBlob(key) : key;
    const id = `${host}:${port}`;
    this.#entries.set(id, [...(this.#entries.get(id) ?? []), { keyType: keyTypeOf(blob), key: blob, source }]);
    return this;
  }

  revoke(key: string | Buffer, source = `${this.source}:9`): this {
    this.#revoked.push({ key: typeof key === 'string' ? publicKeyBlob(key) : key, source });
    return this;
  }

  async check(candidate: HostKeyCandidate): Promise<HostKeyVerdict> {
    this.checks.push(candidate);
    const revoked = this.#revoked.find((r) => r.key.equals(candidate.key));
    if (revoked) return { status: 'revoked', source: revoked.source };
    const entries = (this.#entries.get(`${candidate.host}:${candidate.port}`) ?? []).filter(
      (e) => e.keyType === candidate.keyType,
    );
    const match = entries.find((e) => e.key.equals(candidate.key));
    if (match) return { status: 'trusted', source: match.source };
    if (entries.length > 0) {
      return {
        status: 'changed',
        source: entries[0]!.source,
        knownFingerprints: entries.map((e) => sha256Fingerprint(e.key)),
      };
    }
    return { status: 'unknown' };
  }

  async trust(candidate: HostKeyCandidate, scope: 'once' | 'always'): Promise<void> {
    this.trusted.push({ candidate, scope });
    this.add(
      candidate.host,
      candidate.port,
      candidate.key,
      scope === 'always' ? `${this.source}:2` : 'this app session',
    );
  }
}
