import { describe, expect, it, vi } from 'vitest';
import { createAppStore } from '../../../../src/renderer/store/app-store';
import { bindServeConnection } from '../../../../src/renderer/store/bind-serve-connection';
import type { ConnectionState } from '../../../../src/renderer/transport/connection-state';
import { fakeClient, flush } from '../fakes';

describe('bindServeConnection', () => {
  it('mirrors the state and reloads each time the connection opens; unbinding stops it', async () => {
    const fake = fakeClient({ 'hosts.list': () => ({ ok: true, data: [] }) });
    const store = createAppStore(fake.client, {
      shell: { kind: 'serve', address: 'a' },
      connection: { status: 'connecting', reconnecting: false },
    });
    const listeners = new Set<(s: ConnectionState) => void>();
    const unsubscribe = vi.fn((l: (s: ConnectionState) => void) => listeners.delete(l));
    const connection = {
      onStateChange(listener: (s: ConnectionState) => void) {
        listeners.add(listener);
        return () => unsubscribe(listener);
      },
    };
    const emit = (s: ConnectionState) => listeners.forEach((l) => l(s));
    const unbind = bindServeConnection(store, connection);

    emit({ status: 'open' });
    await flush();
    expect(store.getState().app.connection).toEqual({ status: 'open' });
    expect(fake.calls.filter((c) => c.command === 'hosts.list')).toHaveLength(1);

    emit({ status: 'lost', code: 1006, reason: '' });
    expect(store.getState().app.connection.status).toBe('lost');
    emit({ status: 'open' });
    await flush();
    expect(fake.calls.filter((c) => c.command === 'hosts.list')).toHaveLength(2);

    unbind();
    expect(unsubscribe).toHaveBeenCalledOnce();
    expect(listeners.size).toBe(0);
  });
});
