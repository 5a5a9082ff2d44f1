import { decodeBulkFrame, serverMessageSchema, type ClientMessage, type WireResult } from './wire';
import type { ClientTransport } from './client-transport';

/** The subset of the WebSocket API this transport uses: the browser's and the `ws` package's both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (ev: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: () => void): void;
}

const OPEN = 1;

export interface WebSocketClientTransport extends ClientTransport {
  /** Resolves once the socket is open; rejects if it closes first. */
  readonly ready: Promise<void>;
  close(): void;
  onClose(listener: (code: number, reason: string) => void): () => void;
}

/**
 * Contract transport over one WebSocket. The token goes in the URL for the handshake and again in
 * every request, so a socket that was somehow opened without it still cannot issue commands.
 */
export function createWebSocketClientTransport(socket: WebSocketLike, token: string): WebSocketClientTransport {
  // Binary frames carry bulk text (wire.ts). A browser socket must deliver them as ArrayBuffers, not Blobs.
  if ('binaryType' in socket) Reflect.set(socket, 'binaryType', 'arraybuffer');
  const decoder = utf8Decoder();
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: WireResult) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const closeListeners = new Set<(code: number, reason: string) => void>();
  let closed: { code: number; reason: string } | undefined;

  const ready = new Promise<void>((resolve, reject) => {
    if (socket.readyState === OPEN) resolve();
    socket.addEventListener('open', () => resolve());
    socket.addEventListener('close', (ev) =>
      reject(new Error(`Connection closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`)),
    );
  });
  ready.catch(() => undefined);

  socket.addEventListener('message', (ev) => {
    let json: unknown;
    if (typeof ev.data === 'string') {
      try {
        json = JSON.parse(ev.data);
      } catch {
        return;
      }
    } else {
      const bytes =
        ev.data instanceof ArrayBuffer ? new Uint8Array(ev.data) : ev.data instanceof Uint8Array ? ev.data : null;
      if (!bytes || !decoder) return;
      json = decodeBulkFrame(bytes, decoder);
    }
    const msg = serverMessageSchema.safeParse(json);
    if (!msg.success) return;
    if (msg.data.t === 'res') {
      const entry = pending.get(msg.data.id);
      if (entry) {
        pending.delete(msg.data.id);
        entry.resolve(msg.data.result);
      }
    } else {
      for (const listener of listeners.get(msg.data.event) ?? []) listener(msg.data.payload);
    }
  });

  socket.addEventListener('close', (ev) => {
    closed = { code: ev.code, reason: ev.reason };
    const error = new Error(`Connection closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`);
    for (const entry of pending.values()) entry.reject(error);
    pending.clear();
    for (const listener of closeListeners) listener(ev.code, ev.reason);
  });

  return {
    ready,
    async invoke(command, input) {
      await ready;
      if (closed || socket.readyState !== OPEN) throw new Error('Connection closed');
      const id = nextId++;
      const message: ClientMessage = { t: 'req', id, token, cmd: command, input };
      return new Promise<WireResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        socket.send(JSON.stringify(message));
      });
    },
    subscribe(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
    onClose(listener) {
      closeListeners.add(listener);
      return () => closeListeners.delete(listener);
    },
    close() {
      socket.close(1000, 'client closed');
    },
  };
}

/** UTF-8 decoding where the platform has it (browsers and Node both do); shared code names no DOM or Node API. */
function utf8Decoder(): ((bytes: Uint8Array) => string) | null {
  const Decoder = (globalThis as { TextDecoder?: new () => { decode(bytes: Uint8Array): string } }).TextDecoder;
  if (!Decoder) return null;
  const decoder = new Decoder();
  return (bytes) => decoder.decode(bytes);
}
