import type { ClientTransport } from '../../shared/rpc/client-transport';
import {
  createWebSocketClientTransport,
  type WebSocketLike,
  type WebSocketClientTransport,
} from '../../shared/rpc/websocket-client';
import { connectionStateAfterClose, type ConnectionState } from './connection-state';

/**
 * A WebSocket link to `ptw serve` that can be re-opened. `transport` stays the same object across
 * reconnects, so the contract client and the store built on it survive a dropped connection; event
 * subscriptions are re-attached to each new socket.
 */
export interface ServeConnection {
  readonly transport: ClientTransport;
  /** `host:port` the page was served from, for messages and the footer. */
  readonly address: string;
  getState(): ConnectionState;
  onStateChange(listener: (state: ConnectionState) => void): () => void;
  /** Opens a socket, closing the previous one if it is still open. */
  connect(): void;
  dispose(): void;
}

export interface ServeConnectionOptions {
  readonly socketUrl: string;
  readonly address: string;
  readonly token: string;
  readonly openSocket: (url: string) => WebSocketLike;
  /** Called when the server refuses the token, e.g. to forget the stored copy. */
  readonly onUnauthorized?: () => void;
}

interface Subscription {
  readonly event: string;
  readonly listener: (payload: unknown) => void;
  detach: (() => void) | null;
}

export function createServeConnection(options: ServeConnectionOptions): ServeConnection {
  let current: WebSocketClientTransport | null = null;
  let state: ConnectionState = { status: 'connecting', reconnecting: false };
  let attempts = 0;
  let disposed = false;
  const subscriptions = new Set<Subscription>();
  const stateListeners = new Set<(state: ConnectionState) => void>();

  const setState = (next: ConnectionState) => {
    state = next;
    for (const listener of stateListeners) listener(next);
  };

  const attach = (sub: Subscription, inner: WebSocketClientTransport) => {
    sub.detach?.();
    sub.detach = inner.subscribe(sub.event, sub.listener);
  };

  const transport: ClientTransport = {
    invoke(command, input) {
      if (!current) return Promise.reject(new Error('Not connected'));
      return current.invoke(command, input);
    },
    subscribe(event, listener) {
      const sub: Subscription = { event, listener, detach: null };
      subscriptions.add(sub);
      if (current) attach(sub, current);
      return () => {
        sub.detach?.();
        subscriptions.delete(sub);
      };
    },
  };

  return {
    transport,
    address: options.address,
    getState: () => state,
    onStateChange(listener) {
      stateListeners.add(listener);
      return () => {
        stateListeners.delete(listener);
      };
    },
    connect() {
      if (disposed) return;
      const previous = current;
      const inner = createWebSocketClientTransport(options.openSocket(options.socketUrl), options.token);
      current = inner;
      // Events from the old socket are ignored from here on (`current !== inner` below).
      if (previous) previous.close();
      for (const sub of subscriptions) attach(sub, inner);
      let opened = false;
      setState({ status: 'connecting', reconnecting: attempts++ > 0 });
      inner.ready.then(
        () => {
          if (current !== inner || disposed) return;
          opened = true;
          setState({ status: 'open' });
        },
        () => undefined,
      );
      inner.onClose((code, reason) => {
        if (current !== inner || disposed) return;
        const next = connectionStateAfterClose(code, reason, opened);
        if (next.status === 'unauthorized') options.onUnauthorized?.();
        setState(next);
      });
    },
    dispose() {
      disposed = true;
      for (const sub of subscriptions) sub.detach?.();
      subscriptions.clear();
      stateListeners.clear();
      current?.close();
      current = null;
    },
  };
}
