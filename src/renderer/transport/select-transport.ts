import type { ClientTransport } from '../../shared/rpc/client-transport';
import type { WebSocketLike } from '../../shared/rpc/websocket-client';
import { createServeConnection, type ServeConnection } from './serve-connection';
import { extractToken, serveSocketUrl } from './serve-url';

export type TransportSelection =
  | { readonly kind: 'electron'; readonly transport: ClientTransport }
  | { readonly kind: 'serve'; readonly connection: ServeConnection }
  | { readonly kind: 'missing-token' };

const tokenStorageKey = 'ptw.serve.token';

/**
 * The Electron preload exposes `window.ptwBridge` (a {@link ClientTransport}). Read without a global
 * `Window` augmentation so the preload can own that declaration; the shape is checked, not trusted.
 */
export function readElectronBridge(win: object): ClientTransport | null {
  const bridge: unknown = Reflect.get(win, 'ptwBridge');
  if (typeof bridge !== 'object' || bridge === null) return null;
  const invoke: unknown = Reflect.get(bridge, 'invoke');
  const subscribe: unknown = Reflect.get(bridge, 'subscribe');
  if (typeof invoke !== 'function' || typeof subscribe !== 'function') return null;
  return bridge as ClientTransport;
}

/**
 * Electron when the preload bridge is there; otherwise `ptw serve` over a WebSocket to the origin that
 * served the page. The serve connection is created but not opened: bind listeners, then `connect()`.
 */
export function selectTransport(win: Window & typeof globalThis): TransportSelection {
  const bridge = readElectronBridge(win);
  if (bridge) return { kind: 'electron', transport: bridge };

  const { token: urlToken, cleanedHref } = extractToken(win.location.href);
  if (cleanedHref !== null) win.history.replaceState(win.history.state, '', cleanedHref);
  const storage = safeSessionStorage(win);
  if (urlToken !== null) storage?.setItem(tokenStorageKey, urlToken);
  const token = urlToken ?? storage?.getItem(tokenStorageKey) ?? null;
  if (token === null) return { kind: 'missing-token' };

  return {
    kind: 'serve',
    connection: createServeConnection({
      socketUrl: serveSocketUrl(win.location.href, token),
      address: win.location.host,
      token,
      openSocket: (url): WebSocketLike => new win.WebSocket(url),
      onUnauthorized: () => storage?.removeItem(tokenStorageKey),
    }),
  };
}

/** sessionStorage throws in some privacy modes; the token then lives only in this page load. */
function safeSessionStorage(win: Window): Storage | null {
  try {
    return win.sessionStorage;
  } catch {
    return null;
  }
}
