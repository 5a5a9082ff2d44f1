// Events for one peer only (a live stream's data goes to the window or WebSocket that opened it), over both
// transports, and the peer's "gone" signal that closes its streams. Broadcasts still reach everyone.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createAppServices, type AppServices } from '../../../../src/main/app-services';
import {
  registerIpcTransport,
  type IpcInvokeEventLike,
  type IpcMainLike,
} from '../../../../src/main/transports/ipc-transport';
import { startServeServer } from '../../../../src/main/transports/serve-server';
import { createContractClient } from '../../../../src/shared/rpc/contract-client';
import { createWebSocketClientTransport, type WebSocketLike } from '../../../../src/shared/rpc/websocket-client';
import type { WireResult } from '../../../../src/shared/rpc/wire';

const appUrl = 'file:///app/dist/renderer/index.html';

describe('events to one peer', () => {
  let home: string;
  let services: AppServices;

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ptw-peer-events-'));
    services = await createAppServices({ home, shell: 'serve', backgroundSync: false });
  });

  afterAll(async () => {
    await services.dispose();
    await rm(home, { recursive: true, force: true });
  });

  it('over Electron IPC: a window is addressable after its first call, and gone when it closes', async () => {
    const handlers = new Map<string, (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<WireResult>>();
    const ipc: IpcMainLike = {
      handle: (channel, listener) => void handlers.set(channel, listener),
      removeHandler: (channel) => void handlers.delete(channel),
    };
    const sentTo: Array<[number, string]> = [];
    const broadcasts: string[] = [];
    const goneCallbacks = new Map<number, () => void>();
    const dispose = registerIpcTransport({
      ipc,
      services,
      isTrustedSender: (e) => e.senderFrame?.url === appUrl,
      broadcast: (channel) => broadcasts.push(channel),
      sendTo: (senderId, channel) => {
        sentTo.push([senderId, channel]);
        return true;
      },
      watchSender: (senderId, onGone) => goneCallbacks.set(senderId, onGone),
    });
    const call = (senderId: number): Promise<WireResult> =>
      handlers.get('ptw:cmd:app.info')!({ sender: { id: senderId }, senderFrame: { url: appUrl } }, {});
    expect(services.events.hasPeer('ipc-7')).toBe(false);
    expect((await call(7)).ok).toBe(true);
    expect((await call(8)).ok).toBe(true);
    expect((await call(7)).ok).toBe(true);
    expect(goneCallbacks.size).toBe(2);

    expect(services.events.emitTo('ipc-7', 'live.end', { streamId: 's1', reason: 'closed' })).toBe(true);
    expect(sentTo).toEqual([[7, 'ptw:evt:live.end']]);
    services.events.emit('runs.changed', []);
    expect(broadcasts).toEqual(['ptw:evt:runs.changed']);

    let gone = 0;
    services.events.onPeerGone('ipc-7', () => (gone += 1));
    goneCallbacks.get(7)!();
    expect(gone).toBe(1);
    expect(services.events.hasPeer('ipc-7')).toBe(false);
    expect(services.events.emitTo('ipc-7', 'live.end', { streamId: 's1', reason: 'closed' })).toBe(false);
    expect(services.events.hasPeer('ipc-8')).toBe(true);
    dispose();
    expect(services.events.hasPeer('ipc-8')).toBe(false);
  });

  it('over the WebSocket: only the socket addressed gets the event; closing it tells the listeners', async () => {
    const staticDir = await mkdtemp(path.join(os.tmpdir(), 'ptw-static-'));
    await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
    const server = await startServeServer({ services, staticDir });
    try {
      const connect = async () => {
        const socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
        const transport = createWebSocketClientTransport(socket as unknown as WebSocketLike, server.token);
        await transport.ready;
        const client = createContractClient(transport);
        const ends: string[] = [];
        const changes: number[] = [];
        client.on('live.end', (e) => ends.push(e.streamId));
        client.on('runs.changed', (runs) => changes.push(runs.length));
        return { transport, ends, changes };
      };
      const first = await connect();
      const second = await connect();
      expect(services.events.hasPeer('ws-1')).toBe(true);
      expect(services.events.hasPeer('ws-2')).toBe(true);
      services.events.emitTo('ws-2', 'live.end', { streamId: 'for-two', reason: 'closed' });
      services.events.emit('runs.changed', []);
      await expect.poll(() => second.ends).toEqual(['for-two']);
      await expect.poll(() => first.changes).toEqual([0]);
      await expect.poll(() => second.changes).toEqual([0]);
      expect(first.ends).toEqual([]);

      let gone = false;
      services.events.onPeerGone('ws-1', () => (gone = true));
      first.transport.close();
      await expect.poll(() => gone).toBe(true);
      expect(services.events.hasPeer('ws-1')).toBe(false);
      second.transport.close();
    } finally {
      await server.close();
      await rm(staticDir, { recursive: true, force: true });
    }
  });

  it('over the WebSocket: a live stream’s text travels as a binary frame and arrives exactly as sent', async () => {
    const staticDir = await mkdtemp(path.join(os.tmpdir(), 'ptw-static-'));
    await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
    const server = await startServeServer({ services, staticDir });
    try {
      const socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
      const frames: Array<{ binary: boolean; bytes: number }> = [];
      socket.on('message', (data: Buffer | ArrayBuffer, isBinary: boolean) =>
        frames.push({ binary: isBinary, bytes: data instanceof ArrayBuffer ? data.byteLength : data.length }),
      );
      const transport = createWebSocketClientTransport(socket as unknown as WebSocketLike, server.token);
      await transport.ready;
      const client = createContractClient(transport);
      const got: Array<{ streamId: string; data: string | Uint8Array; offset: number }> = [];
      client.on('live.data', (e) => got.push(e));
      const peerId = [...Array(10).keys()].map((i) => `ws-${i + 1}`).find((id) => services.events.hasPeer(id))!;
      // Escapes, quotes, backslashes, wide and astral characters, a lone CR: what terminals print.
      const big = '\x1b[31mred\x1b[0m "quoted" back\\slash 漢字 ✓ 🚀 é\r\n'.repeat(2000);
      services.events.emitTo(peerId, 'live.data', { streamId: 's-big', data: big, offset: 123 });
      services.events.emitTo(peerId, 'live.data', { streamId: 's-small', data: 'short line\r\n', offset: 7 });
      // Bytes (what the live streams send) go binary at any size and arrive as bytes, never decoded.
      services.events.emitTo(peerId, 'live.data', { streamId: 's-bytes', data: Buffer.from(big), offset: 9 });
      services.events.emitTo(peerId, 'live.data', { streamId: 's-few', data: Buffer.from('é\r\n'), offset: 1 });
      await expect.poll(() => got.length).toBe(4);
      expect(got[0]).toEqual({ streamId: 's-big', data: big, offset: 123 });
      expect(got[1]).toEqual({ streamId: 's-small', data: 'short line\r\n', offset: 7 });
      expect(got[2]!.data).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(got[2]!.data as Uint8Array).equals(Buffer.from(big))).toBe(true);
      expect(got[2]!.offset).toBe(9);
      expect(Buffer.from(got[3]!.data as Uint8Array).toString()).toBe('é\r\n');
      expect(frames.map((f) => f.binary)).toEqual([true, false, true, true]);
      // Plain UTF-8: no JSON escaping inflates the frame.
      expect(frames[0]!.bytes).toBeLessThan(Buffer.byteLength(big) + 200);
      transport.close();
    } finally {
      await server.close();
      await rm(staticDir, { recursive: true, force: true });
    }
  });

  it('tells a listener at once when the peer is not there at all', async () => {
    let told = false;
    services.events.onPeerGone('nobody', () => (told = true));
    await Promise.resolve();
    expect(told).toBe(true);
  });
});
