import { describe, expect, it, vi } from 'vitest';
import type { HostKeyTrust, HostKeyVerdict } from '../../../../src/main/hosts/host-key-trust-types';
import {
  createHostKeyCheck,
  type HostKeyCheckOptions,
  formatHostPort,
  hostKeyFault,
  keyTypeOf,
  knownHostsFileOf,
  knownHostsPattern,
  removeKnownHostCommand,
  sha256Fingerprint,
} from '../../../../src/main/hosts/ssh-host-key';
import type { HostKeyDecision } from '../../../../src/shared/hosts';

const KEY_LINE = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICQFvi1EXQOkKlMyk8a/eghjFv5d6yy1qY3NiS8g1mea test';
const BLOB = Buffer.from(KEY_LINE.split(' ')[1]!, 'base64');
/** What `ssh-keygen -lf` prints for KEY_LINE. */
const FINGERPRINT = 'SHA256:tgiWzBXDbbsQ6T7y/9yMWsXULOn5MStaBHCjhSQOb4U';

describe('host key formatting', () => {
  it('reads the key type and fingerprints the blob as ssh-keygen does', () => {
    expect(keyTypeOf(BLOB)).toBe('ssh-ed25519');
    expect(sha256Fingerprint(BLOB)).toBe(FINGERPRINT);
    expect(keyTypeOf(Buffer.from([0, 0]))).toBe('unknown');
    expect(keyTypeOf(Buffer.from([0xff, 0xff, 0xff, 0xff, 1]))).toBe('unknown');
  });

  it('names hosts as known_hosts and ssh-keygen -R want them', () => {
    expect(formatHostPort('gpu-1', 22)).toBe('gpu-1:22');
    expect(formatHostPort('::1', 2222)).toBe('[::1]:2222');
    expect(knownHostsPattern('gpu-1', 22)).toBe('gpu-1');
    expect(knownHostsPattern('gpu-1', 2222)).toBe('[gpu-1]:2222');
    expect(knownHostsFileOf('/root/.ssh/known_hosts:12')).toBe('/root/.ssh/known_hosts');
    expect(knownHostsFileOf('~/.ssh/known_hosts')).toBe('~/.ssh/known_hosts');
    expect(knownHostsFileOf('this app session')).toBeUndefined();
    expect(removeKnownHostCommand('gpu-1', 22, '/root/.ssh/known_hosts:3')).toBe(
      'ssh-keygen -R gpu-1 -f /root/.ssh/known_hosts',
    );
    expect(removeKnownHostCommand('gpu-1', 2222, 'memory')).toBe(`ssh-keygen -R '[gpu-1]:2222'`);
  });
});

describe('hostKeyFault', () => {
  const context = {
    who: 'root@gpu-1:2222',
    candidate: { host: 'gpu-1', port: 2222, keyType: 'ssh-ed25519', key: BLOB },
  };

  it('shows both fingerprints, where the known key is and how to remove it for a changed key', () => {
    const err = hostKeyFault(context, {
      status: 'changed',
      source: '/home/me/.ssh/known_hosts:7',
      knownFingerprints: ['SHA256:old'],
    });
    expect(err).toMatchObject({ code: 'HOST_KEY_CHANGED', retryable: false });
    expect(err.message).toContain('root@gpu-1:2222');
    expect(err.message).toContain('Expected SHA256:old (recorded in /home/me/.ssh/known_hosts:7)');
    expect(err.message).toContain(`presented ssh-ed25519 ${FINGERPRINT}`);
    expect(err.message).toContain(`ssh-keygen -R '[gpu-1]:2222' -f /home/me/.ssh/known_hosts`);
    expect(err.message).toContain('No credentials were sent');
  });

  it('words revoked and refused keys as identity faults too', () => {
    const revoked = hostKeyFault(context, { status: 'revoked', source: '/etc/ssh/ssh_known_hosts:1' });
    expect(revoked).toMatchObject({ code: 'HOST_KEY_REVOKED', retryable: false });
    expect(revoked.message).toContain('@revoked in /etc/ssh/ssh_known_hosts:1');
    const unknown = hostKeyFault(context, { status: 'unknown' });
    expect(unknown).toMatchObject({ code: 'HOST_KEY_UNKNOWN', retryable: false });
    expect(unknown.message).toContain(FINGERPRINT);
  });
});

function fakeTrust(verdict: HostKeyVerdict | Error): HostKeyTrust & { trust: ReturnType<typeof vi.fn> } {
  return {
    check: vi.fn(async () => {
      if (verdict instanceof Error) throw verdict;
      return verdict;
    }),
    trust: vi.fn(async () => undefined),
  };
}

/** Runs the verifier the way ssh2 does and resolves with what it passed to `verify`. */
function verify(check: ReturnType<typeof createHostKeyCheck>): Promise<unknown> {
  return new Promise((resolve) => {
    const returned = (check.hostVerifier as (key: Buffer, cb: (ok: unknown) => void) => unknown)(BLOB, resolve);
    // ssh2 treats any returned value as the answer (and everything but `false` as yes).
    expect(returned).toBeUndefined();
  });
}

describe('createHostKeyCheck', () => {
  const base = { host: 'gpu-1', port: 22, who: 'root@gpu-1:22', hostName: 'gpu' };

  it('accepts a trusted key without asking', async () => {
    const confirmHostKey = vi.fn(async (): Promise<HostKeyDecision> => 'once');
    const check = createHostKeyCheck({
      ...base,
      trust: fakeTrust({ status: 'trusted', source: 'x' }),
      confirmHostKey,
      isAborted: () => false,
    });
    expect(await verify(check)).toBe(true);
    expect(confirmHostKey).not.toHaveBeenCalled();
    expect(check.fault()).toBeUndefined();
  });

  it('refuses changed and revoked keys without asking anyone', async () => {
    for (const verdict of [
      { status: 'changed', source: 's', knownFingerprints: ['SHA256:a'] },
      { status: 'revoked', source: 's' },
    ] as const) {
      const confirmHostKey = vi.fn(async (): Promise<HostKeyDecision> => 'always');
      const trust = fakeTrust(verdict);
      const check = createHostKeyCheck({ ...base, trust, confirmHostKey, isAborted: () => false });
      expect(await verify(check)).toBe(false);
      expect(confirmHostKey).not.toHaveBeenCalled();
      expect(trust.trust).not.toHaveBeenCalled();
      expect(check.fault()?.code).toBe(verdict.status === 'changed' ? 'HOST_KEY_CHANGED' : 'HOST_KEY_REVOKED');
    }
  });

  it('asks about an unknown key, pausing the timeout, and records an accepted one', async () => {
    const phases: string[] = [];
    const confirmHostKey = vi.fn<HostKeyCheckOptions['confirmHostKey']>(async () => 'always');
    const trust = fakeTrust({ status: 'unknown' });
    const check = createHostKeyCheck({
      ...base,
      port: 2222,
      trust,
      confirmHostKey,
      onPrompt: (phase) => phases.push(phase),
      isAborted: () => false,
    });
    expect(await verify(check)).toBe(true);
    expect(confirmHostKey).toHaveBeenCalledWith(
      expect.objectContaining({ host: 'gpu', address: 'gpu-1:2222', keyType: 'ssh-ed25519', fingerprint: FINGERPRINT }),
    );
    expect(confirmHostKey.mock.calls[0]![0].promptId).toMatch(/^[0-9a-f-]{36}$/);
    expect(trust.trust).toHaveBeenCalledWith(expect.objectContaining({ host: 'gpu-1', port: 2222 }), 'always');
    expect(phases).toEqual(['start', 'end']);
  });

  it('refuses an unknown key the user refused, and any key when the check itself fails', async () => {
    const trust = fakeTrust({ status: 'unknown' });
    const refused = createHostKeyCheck({
      ...base,
      trust,
      confirmHostKey: async () => 'refuse',
      isAborted: () => false,
    });
    expect(await verify(refused)).toBe(false);
    expect(refused.fault()?.code).toBe('HOST_KEY_UNKNOWN');
    expect(trust.trust).not.toHaveBeenCalled();

    const broken = createHostKeyCheck({
      ...base,
      trust: fakeTrust(new Error('known_hosts unreadable')),
      confirmHostKey: async () => 'always',
      isAborted: () => false,
    });
    expect(await verify(broken)).toBe(false);
    expect(broken.fault()?.message).toContain('known_hosts unreadable');
  });

  it('neither trusts nor answers ssh2 when the attempt was abandoned while the user was deciding', async () => {
    // Abandoning destroys the client: ssh2 throws from inside verify on a destroyed connection.
    let aborted = false;
    const trust = fakeTrust({ status: 'unknown' });
    let decided!: () => void;
    const asked = new Promise<void>((resolve) => (decided = resolve));
    const check = createHostKeyCheck({
      ...base,
      trust,
      confirmHostKey: async () => {
        aborted = true;
        decided();
        return 'always';
      },
      isAborted: () => aborted,
    });
    const answered = vi.fn();
    check.hostVerifier(BLOB, answered);
    await asked;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(answered).not.toHaveBeenCalled();
    expect(trust.trust).not.toHaveBeenCalled();
  });

  it('survives the connection dying under it: a verify that throws is not an unhandled rejection', async () => {
    // What ssh2 1.17 does when the socket closed while the trust store was read: `protocol._destruct is not a
    // function`, thrown from verify. Once, this crashed `ptw run watch` on a flaky network.
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      for (const verdict of [{ status: 'trusted', source: 'test' } as const, new Error('disk gone')]) {
        const check = createHostKeyCheck({
          ...base,
          trust: fakeTrust(verdict),
          confirmHostKey: async () => 'refuse',
          isAborted: () => false,
        });
        const threw = vi.fn(() => {
          throw new TypeError('protocol._destruct is not a function');
        });
        check.hostVerifier(BLOB, threw);
        await new Promise((resolve) => setTimeout(resolve, 10));
        expect(threw).toHaveBeenCalledTimes(1);
      }
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});
