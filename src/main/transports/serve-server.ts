import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { isEventName } from '../../shared/contract';
import { DOWNLOAD_TICKET_PARAM } from '../../shared/contract-bundle';
import {
  BULK_FRAME_KIND,
  bulkFieldOf,
  clientMessageSchema,
  wsCloseCodes,
  type ServerMessage,
} from '../../shared/rpc/wire';
import { contentSecurityPolicyHeader } from '../../shared/security/content-security-policy';
import type { AppServices } from '../app-services';
import { serveBundleDownload } from './bundle-download';

export interface ServeOptions {
  services: AppServices;
  /** Folder with the built renderer (index.html and assets). */
  staticDir: string;
  host?: string;
  port?: number;
  /** Fixed token (tests); a random one by default. */
  token?: string;
}

export interface ServeServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

const securityHeaders = {
  'Content-Security-Policy': contentSecurityPolicyHeader,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};

/**
 * `ptw serve`: the renderer over HTTP and the contract over a WebSocket behind a random token (docs/security.md).
 *
 * - The token is a credential and travels only where it cannot leak: the printed URL's fragment (never sent in any
 *   request; the page moves it to sessionStorage and out of the history entry at once), the WebSocket handshake's
 *   query and every request frame. There is no cookie: cookies ignore ports, so every other web server on
 *   127.0.0.1 the browser visits would receive one.
 * - Plain HTTP serves only the renderer's own files (the app's code, no data) and bundle downloads behind a
 *   one-time ticket the page asks for over the WebSocket.
 * - Every request and upgrade must name this server in its Host header (the address it was bound to), which DNS
 *   rebinding cannot forge; a browser's upgrade must also come from that origin.
 */
export async function startServeServer(options: ServeOptions): Promise<ServeServer> {
  const token = options.token ?? randomBytes(24).toString('hex');
  const host = options.host ?? '127.0.0.1';
  const staticDir = path.resolve(options.staticDir);
  const { services } = options;
  const tokenMatches = (candidate: string | undefined | null): boolean => safeEqual(candidate ?? '', token);
  let allowedHosts = new Set<string>();
  const hostAllowed = (value: string | undefined): boolean =>
    value !== undefined && allowedHosts.has(value.toLowerCase());
  const refuse = (res: http.ServerResponse, status: number, message: string): void => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...securityHeaders });
    res.end(`PostTrain Workbench: ${message}\n`);
  };

  const server = http.createServer((req, res) => {
    void handleHttp(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', ...securityHeaders });
      res.end(`Internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  });

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host)) {
      return refuse(
        res,
        421,
        `this server answers only as ${[...allowedHosts][0] ?? host}, not as ${req.headers.host ?? '(no Host)'}.`,
      );
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', ...securityHeaders });
      res.end();
      return;
    }
    const headers: Record<string, string> = { ...securityHeaders };
    const ticket = url.searchParams.get(DOWNLOAD_TICKET_PARAM);
    const download = (id: string): boolean => services.downloads.redeem(id, ticket);
    if (await serveBundleDownload(services, url.pathname, res, headers, req.method === 'HEAD', download)) return;
    const file = await resolveStaticFile(staticDir, url.pathname);
    if (!file) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
      res.end('Not found\n');
      return;
    }
    const body = await readFile(file);
    headers['Content-Type'] = contentTypes[path.extname(file)] ?? 'application/octet-stream';
    headers['Cache-Control'] = file.endsWith('index.html') ? 'no-store' : 'private, max-age=300';
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // The handshake's own query only: no cookie is ever accepted as the credential.
    const authorised = tokenMatches(url.searchParams.get('token'));
    // A page on another origin must not drive this server even if it learnt the port (cross-site WebSocket
    // hijacking), nor may a rebound DNS name reach it (Host).
    const origin = req.headers.origin;
    const sameOrigin = origin === undefined || sameHost(origin, req.headers.host);
    if (url.pathname !== '/ws' || !sameOrigin || !hostAllowed(req.headers.host)) {
      const status = url.pathname !== '/ws' ? '404 Not Found' : '403 Forbidden';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // A browser sees only 1006 for a refused handshake; closing with 4401 lets the page say "token not accepted".
      if (authorised) attachPeer(ws);
      else ws.close(wsCloseCodes.unauthorized, 'invalid token');
    });
  });

  let peerSeq = 0;
  function attachPeer(ws: WebSocket): void {
    const peerId = `ws-${++peerSeq}`;
    const send = (msg: ServerMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    // Also addressable alone (`emitTo`), for events such as a live stream's data that belong to this peer only.
    const detach = services.events.attach((event, payload) => {
      if (!isEventName(event)) return;
      const bulk = bulkFieldOf(event, payload);
      if (!bulk) return send({ t: 'evt', event, payload });
      if (ws.readyState === ws.OPEN)
        ws.send(bulkFrame(event, payload as Record<string, unknown>, bulk), { binary: true });
    }, peerId);
    ws.on('close', detach);
    ws.on('error', detach);
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        ws.close(wsCloseCodes.badMessage, 'binary frames are not part of the contract');
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(String(data));
      } catch {
        ws.close(wsCloseCodes.badMessage, 'message is not JSON');
        return;
      }
      const msg = clientMessageSchema.safeParse(json);
      if (!msg.success) {
        ws.close(wsCloseCodes.badMessage, 'message does not match the wire format');
        return;
      }
      if (!tokenMatches(msg.data.token)) {
        send({
          t: 'res',
          id: msg.data.id,
          result: {
            ok: false,
            error: { code: 'UNAUTHORIZED', message: 'Request without a valid token', retryable: false },
          },
        });
        ws.close(wsCloseCodes.unauthorized, 'invalid token');
        return;
      }
      void services.router
        .invoke(msg.data.cmd, msg.data.input, { peerId, transport: 'websocket' })
        .then((result) => send({ t: 'res', id: msg.data.id, result }));
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  allowedHosts = hostHeadersFor(host, port);

  return {
    // The token in the fragment: browsers never send it, so no request line, log or Referer carries it.
    url: `http://${urlHost}:${port}/#token=${token}`,
    host,
    port,
    token,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * The Host header values this server answers to (lowercase `host:port`): the address it was bound to, and
 * `localhost` for a loopback one; bound to every interface (0.0.0.0, ::), each interface's address and this
 * machine's name. A DNS name an attacker rebinds to 127.0.0.1 is never among them.
 */
export function hostHeadersFor(bound: string, port: number): Set<string> {
  const form = (address: string): string => (address.includes(':') ? `[${address}]` : address).toLowerCase();
  const names = new Set<string>([bound]);
  if (LOOPBACK.has(bound) || bound.startsWith('127.')) names.add('localhost');
  if (bound === '0.0.0.0' || bound === '::') {
    for (const list of Object.values(os.networkInterfaces())) {
      for (const info of list ?? []) names.add(info.address.replace(/%.*$/, ''));
    }
    names.add('localhost');
    names.add(os.hostname());
  }
  return new Set([...names].map((name) => `${form(name)}:${port}`));
}

function sameHost(origin: string, hostHeader: string | undefined): boolean {
  try {
    return new URL(origin).host === hostHeader;
  } catch {
    return false;
  }
}

async function resolveStaticFile(root: string, pathname: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  const candidate = path.resolve(root, '.' + (decoded.endsWith('/') ? decoded + 'index.html' : decoded));
  if (candidate !== root && !candidate.startsWith(root + path.sep)) return undefined;
  try {
    const info = await stat(candidate);
    if (info.isFile()) return candidate;
  } catch {
    // Unknown paths fall through to the app page, so deep links work.
  }
  if (path.extname(decoded) === '') {
    const index = path.join(root, 'index.html');
    return (await stat(index).catch(() => undefined))?.isFile() ? index : undefined;
  }
  return undefined;
}

/** A bulk event as one binary frame (layout in wire.ts): header JSON without the field, then the field as UTF-8. */
function bulkFrame(
  event: string,
  payload: Record<string, unknown>,
  bulk: { field: string; value: string | Uint8Array },
): Buffer {
  const rest = { ...payload };
  delete rest[bulk.field];
  const bytes = typeof bulk.value !== 'string';
  const header = Buffer.from(
    JSON.stringify({ t: 'evt', event, payload: rest, bulk: bulk.field, ...(bytes ? { bulkAs: 'bytes' } : {}) }),
    'utf8',
  );
  const bodyLength = typeof bulk.value === 'string' ? Buffer.byteLength(bulk.value, 'utf8') : bulk.value.byteLength;
  const frame = Buffer.allocUnsafe(5 + header.length + bodyLength);
  frame[0] = BULK_FRAME_KIND;
  frame.writeUInt32BE(header.length, 1);
  header.copy(frame, 5);
  if (typeof bulk.value === 'string') frame.write(bulk.value, 5 + header.length, 'utf8');
  else frame.set(bulk.value, 5 + header.length);
  return frame;
}
