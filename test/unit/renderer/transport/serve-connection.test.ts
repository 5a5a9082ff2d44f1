import { describe, expect, it, vi } from 'vitest';
import type { ConnectionState } from '../../../../src/renderer/transport/connection-state';
import { createServeConnection } from '../../../../src/renderer/transport/serve-connection';
import { FakeSocket, flush } from '../fakes';

function setup() {
  const sockets: FakeSocket[] = [];
  const onUnauthorized = vi.fn();
  const connection = createServeConnection({
    socketUrl: 'ws://127.0.0.1:8123/ws?token=t',
    address: '127.0.0.1:8123',
    token: 't',
    openSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    onUnauthorized,
  });
  const states: ConnectionState[] = [];
  connection.onStateChange((s) => states.push(s));
  return { connection, sockets, states, onUnauthorized };
}

describe('createServeConnection', () => {
  it('goes connecting → open → lost', async () => {
    const { connection, sockets, states } = setup();
    connection.connect();
    sockets[0]!.open();
    await flush();
    sockets[0]!.serverClose(1006);
    expect(states).toEqual([
      { status: 'connecting', reconnecting: false },
      { status: 'open' },
      { status: 'lost', code: 1006, reason: '' },
    ]);
    expect(connection.getState()).toEqual({ status: 'lost', code: 1006, reason: '' });
  });

  it('reports unreachable when the socket closes before opening', async () => {
    const { connection, sockets, states } = setup();
    connection.connect();
    sockets[0]!.serverClose(1006);
    await flush();
    expect(states.at(-1)).toEqual({ status: 'unreachable', code: 1006 });
  });

  it('reports a refused token and tells its owner', async () => {
    const { connection, sockets, states, onUnauthorized } = setup();
    connection.connect();
    sockets[0]!.open();
    await flush();
    sockets[0]!.serverClose(4401, 'unauthorized');
    expect(states.at(-1)).toEqual({ status: 'unauthorized' });
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it('re-attaches event subscriptions to the new socket on reconnect', async () => {
    const { connection, sockets, states } = setup();
    const listener = vi.fn();
    connection.transport.subscribe('prefs.changed', listener);
    connection.connect();
    sockets[0]!.open();
    await flush();
    sockets[0]!.serverClose(1006);

    connection.connect();
    expect(states.at(-1)).toEqual({ status: 'connecting', reconnecting: true });
    sockets[1]!.open();
    await flush();
    expect(states.at(-1)).toEqual({ status: 'open' });
    sockets[1]!.serverSend({ t: 'evt', event: 'prefs.changed', payload: { theme: 'dark' } });
    expect(listener).toHaveBeenCalledWith({ theme: 'dark' });
    expect(listener).toHaveBeenCalledOnce();
  });

  it('sends requests with the token over the current socket', async () => {
    const { connection, sockets } = setup();
    connection.connect();
    sockets[0]!.open();
    const reply = connection.transport.invoke('hosts.list', {});
    await flush();
    expect(JSON.parse(sockets[0]!.sent[0]!)).toEqual({ t: 'req', id: 1, token: 't', cmd: 'hosts.list', input: {} });
    sockets[0]!.serverSend({ t: 'res', id: 1, result: { ok: true, data: [] } });
    await expect(reply).resolves.toEqual({ ok: true, data: [] });
  });

  it('ignores the old socket once replaced', async () => {
    const { connection, sockets, states } = setup();
    connection.connect();
    sockets[0]!.open();
    await flush();
    connection.connect();
    sockets[1]!.open();
    await flush();
    expect(sockets[0]!.readyState).toBe(3);
    expect(states.at(-1)).toEqual({ status: 'open' });
  });

  it('dispose closes the socket, detaches listeners and stops state reports', async () => {
    const { connection, sockets, states } = setup();
    const listener = vi.fn();
    const unsubscribe = connection.transport.subscribe('prefs.changed', listener);
    connection.connect();
    sockets[0]!.open();
    await flush();
    const before = states.length;
    connection.dispose();
    expect(sockets[0]!.readyState).toBe(3);
    expect(states.length).toBe(before);
    sockets[0]!.serverSend({ t: 'evt', event: 'prefs.changed', payload: { theme: 'dark' } });
    expect(listener).not.toHaveBeenCalled();
    unsubscribe();
    connection.connect();
    expect(sockets).toHaveLength(1);
  });

  it('unsubscribe detaches one listener from the live socket', async () => {
    const { connection, sockets } = setup();
    const listener = vi.fn();
    connection.connect();
    const unsubscribe = connection.transport.subscribe('prefs.changed', listener);
    sockets[0]!.open();
    await flush();
    unsubscribe();
    sockets[0]!.serverSend({ t: 'evt', event: 'prefs.changed', payload: { theme: 'dark' } });
    expect(listener).not.toHaveBeenCalled();
  });
});
