import { describe, expect, it, vi } from 'vitest';
import { HostConnection, hopsOf } from '../../../../src/main/hosts/host-connection';
import { connectionIdentity, HostConnectionManager } from '../../../../src/main/hosts/host-connection-manager';
import type { HostKeyTrust } from '../../../../src/main/hosts/host-key-trust-types';
import { describeHop, unreachableError } from '../../../../src/main/hosts/ssh-hop';
import { AppError } from '../../../../src/shared/errors';
import { type HostProfile, hostProfileSchema } from '../../../../src/shared/hosts';

const trust: HostKeyTrust = {
  check: async () => ({ status: 'unknown' }),
  trust: async () => undefined,
};
const options = { trust, confirmHostKey: async () => 'refuse' as const, askPassphrase: async () => undefined };

function profile(overrides: Partial<HostProfile> = {}): HostProfile {
  return hostProfileSchema.parse({ name: 'gpu', kind: 'ssh', hostname: 'gpu-1.lab', user: 'me', ...overrides });
}

describe('hopsOf', () => {
  it('defaults each jump to the profile user and port 22, the host last', () => {
    const hops = hopsOf(
      profile({ port: 2222, proxyJump: [{ host: 'bastion' }, { host: 'inner', user: 'ops', port: 2200 }] }),
      'local-user',
    );
    expect(hops).toEqual([
      { role: 'jump', host: 'bastion', port: 22, username: 'me' },
      { role: 'jump', host: 'inner', port: 2200, username: 'ops' },
      { role: 'target', host: 'gpu-1.lab', port: 2222, username: 'me' },
    ]);
    expect(hopsOf(hostProfileSchema.parse({ name: 'box', kind: 'ssh' }), 'local-user')).toEqual([
      { role: 'target', host: 'box', port: 22, username: 'local-user' },
    ]);
    expect(hops.map(describeHop)).toEqual(['jump host me@bastion:22', 'jump host ops@inner:2200', 'me@gpu-1.lab:2222']);
  });
});

describe('unreachableError', () => {
  it('names user@host:port and the reason in words', () => {
    const hop = { role: 'target' as const, host: 'gpu-1', port: 22, username: 'me' };
    const refused = unreachableError(hop, Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect(refused).toMatchObject({ code: 'HOST_UNREACHABLE', retryable: true });
    expect(refused.message).toBe(
      'Could not reach me@gpu-1:22: connection refused (is sshd running on that port?) (ECONNREFUSED)',
    );
    const dns = unreachableError(hop, Object.assign(new Error('getaddrinfo ENOTFOUND gpu-1'), { code: 'ENOTFOUND' }));
    expect(dns.message).toContain('no such host name');
    expect(unreachableError(hop, Object.assign(new Error('x'), { code: 'EHOSTUNREACH' })).message).toContain(
      'no route to host',
    );
    expect(unreachableError(hop, new Error('odd')).message).toBe('Could not reach me@gpu-1:22: odd');
  });
});

describe('HostConnection without a server', () => {
  it('refuses a local profile and starts disconnected', () => {
    expect(() => new HostConnection(profile({ kind: 'local' }), options)).toThrow(AppError);
    const conn = new HostConnection(profile(), options);
    expect(conn.state.status).toBe('disconnected');
    expect(conn.address).toBe('me@gpu-1.lab:22');
  });

  it('dispose announces disconnected once, drops listeners and refuses later use', async () => {
    const conn = new HostConnection(profile(), options);
    const listener = vi.fn();
    conn.onState(listener);
    await Promise.all([conn.dispose(), conn.dispose()]);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(listener.mock.calls[0]![0]).toMatchObject({ status: 'disconnected' });
    expect(conn.listenerCount).toBe(0);
    await expect(conn.connect()).rejects.toMatchObject({ code: 'TRANSPORT_CLOSED' });
    await expect(conn.session().exec('true')).rejects.toMatchObject({ code: 'TRANSPORT_CLOSED' });
  });

  it('onState returns its own unsubscribe', async () => {
    const conn = new HostConnection(profile(), options);
    const unsubscribe = conn.onState(() => undefined);
    expect(conn.listenerCount).toBe(1);
    unsubscribe();
    expect(conn.listenerCount).toBe(0);
    await conn.dispose();
  });
});

describe('HostConnectionManager', () => {
  it('keys connections by what they connect to', () => {
    const base = profile();
    expect(connectionIdentity(base)).toBe(connectionIdentity({ ...base, runRoot: '/elsewhere', source: 'x' }));
    for (const change of [
      { hostname: 'gpu-2.lab' },
      { port: 2222 },
      { user: 'you' },
      { proxyJump: [{ host: 'bastion' }] },
      { identityFiles: ['~/.ssh/other'] },
      { dockerSocket: '/run/user/1000/docker.sock' },
    ]) {
      expect(connectionIdentity({ ...base, ...change })).not.toBe(connectionIdentity(base));
    }
  });

  it('shares one connection per host and replaces it when the address changes', async () => {
    const manager = new HostConnectionManager(options);
    const seen: Array<[string, string]> = [];
    manager.onState((name, state) => seen.push([name, state.status]));
    const first = manager.get(profile());
    expect(manager.get(profile({ runRoot: '/scratch' }))).toBe(first);
    const other = manager.get(profile({ name: 'other' }));
    expect(other).not.toBe(first);

    const moved = manager.get(profile({ hostname: 'gpu-2.lab' }));
    expect(moved).not.toBe(first);
    await vi.waitFor(() => expect(first.state.status).toBe('disconnected'));
    await expect(first.connect()).rejects.toMatchObject({ code: 'TRANSPORT_CLOSED' });
    // The replaced connection's farewell is not reported as the host's state.
    expect(seen).toEqual([]);
    expect(manager.state('gpu')).toBe(moved.state);

    await manager.close('other');
    expect(seen).toEqual([['other', 'disconnected']]);
    expect(manager.state('other')).toBeUndefined();

    await manager.disposeAll();
    expect(seen).toEqual([
      ['other', 'disconnected'],
      ['gpu', 'disconnected'],
    ]);
    expect(manager.state('gpu')).toBeUndefined();
    expect(moved.listenerCount).toBe(0);
  });
});
