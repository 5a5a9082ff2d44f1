import { describe, expect, it, vi } from 'vitest';
import { readElectronBridge, selectTransport } from '../../../../src/renderer/transport/select-transport';
import { FakeSocket } from '../fakes';

class MemoryStorage {
  readonly data = new Map<string, string>();
  getItem(key: string) {
    return this.data.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.data.set(key, value);
  }
  removeItem(key: string) {
    this.data.delete(key);
  }
}

function fakeWindow(href: string, extra: Record<string, unknown> = {}) {
  const url = new URL(href);
  const storage = new MemoryStorage();
  const sockets: FakeSocket[] = [];
  const replaceState = vi.fn();
  const win = {
    location: { href, host: url.host },
    history: { state: null, replaceState },
    sessionStorage: storage,
    WebSocket: class extends FakeSocket {
      constructor(socketUrl: string) {
        super(socketUrl);
        sockets.push(this);
      }
    },
    ...extra,
  };
  return { win: win as unknown as Window & typeof globalThis, storage, sockets, replaceState };
}

describe('readElectronBridge', () => {
  it('accepts an object with invoke and subscribe functions', () => {
    const bridge = { invoke: async () => ({ ok: true, data: null }), subscribe: () => () => undefined };
    expect(readElectronBridge({ ptwBridge: bridge })).toBe(bridge);
  });

  it('rejects anything else', () => {
    expect(readElectronBridge({})).toBeNull();
    expect(readElectronBridge({ ptwBridge: null })).toBeNull();
    expect(readElectronBridge({ ptwBridge: { invoke: () => undefined } })).toBeNull();
  });
});

describe('selectTransport', () => {
  it('prefers the Electron bridge', () => {
    const bridge = { invoke: async () => ({ ok: true, data: null }), subscribe: () => () => undefined };
    const { win } = fakeWindow('file:///app/index.html', { ptwBridge: bridge });
    expect(selectTransport(win)).toEqual({ kind: 'electron', transport: bridge });
  });

  it('moves the URL token to sessionStorage, hides it and connects to /ws on the same host', () => {
    const { win, storage, sockets, replaceState } = fakeWindow('http://127.0.0.1:8123/?token=s3cret');
    const selection = selectTransport(win);
    expect(replaceState).toHaveBeenCalledWith(null, '', 'http://127.0.0.1:8123/');
    expect(storage.getItem('ptw.serve.token')).toBe('s3cret');
    if (selection.kind !== 'serve') throw new Error(`expected serve, got ${selection.kind}`);
    expect(selection.connection.address).toBe('127.0.0.1:8123');
    expect(sockets).toHaveLength(0);
    selection.connection.connect();
    expect(sockets[0]?.url).toBe('ws://127.0.0.1:8123/ws?token=s3cret');
  });

  it('reuses the stored token after a reload', () => {
    const { win, storage, replaceState } = fakeWindow('http://127.0.0.1:8123/');
    storage.setItem('ptw.serve.token', 'kept');
    expect(selectTransport(win).kind).toBe('serve');
    expect(replaceState).not.toHaveBeenCalled();
  });

  it('reports a missing token', () => {
    const { win } = fakeWindow('http://127.0.0.1:8123/');
    expect(selectTransport(win)).toEqual({ kind: 'missing-token' });
  });

  it('forgets the stored token when the server refuses it', () => {
    const { win, storage, sockets } = fakeWindow('http://127.0.0.1:8123/?token=old');
    const selection = selectTransport(win);
    if (selection.kind !== 'serve') throw new Error('expected serve');
    selection.connection.connect();
    sockets[0]!.serverClose(4401);
    expect(storage.getItem('ptw.serve.token')).toBeNull();
  });
});
