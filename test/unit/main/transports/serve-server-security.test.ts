// `ptw serve` behind its token: the WebSocket needs it (never a cookie), plain HTTP serves only the renderer's own
// files to requests that name this server in Host, and the CSP goes out as a header.
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createAppServices, type AppServices } from '../../../../src/main/app-services';
import { startServeServer, type ServeServer } from '../../../../src/main/transports/serve-server';
import { contentSecurityPolicyHeader } from '../../../../src/shared/security/content-security-policy';

let home: string;
let staticDir: string;
let services: AppServices;
let server: ServeServer;
let base: string;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'ptw-home-'));
  staticDir = await mkdtemp(path.join(os.tmpdir(), 'ptw-static-'));
  await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>app</title>');
  await mkdir(path.join(staticDir, 'assets'));
  await writeFile(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(path.join(home, 'secret.txt'), 'do not serve');
  services = await createAppServices({ home, shell: 'serve' });
  server = await startServeServer({ services, staticDir });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.close();
  await services.dispose();
  await rm(home, { recursive: true, force: true });
  await rm(staticDir, { recursive: true, force: true });
});

/** Opens a socket and reports whether the handshake succeeded and, if so, how the server then closed it. */
function openSocket(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status?: number; closeCode?: number; attached?: boolean }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      // A socket the server kept open is an attached peer: close it ourselves after a moment.
      const timer = setTimeout(() => {
        ws.close(1000);
        resolve({ status: 101, attached: true });
      }, 150);
      ws.once('close', (code) => {
        clearTimeout(timer);
        resolve({ status: 101, closeCode: code });
      });
    });
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
    ws.on('error', () => resolve({}));
  });
}

/** A GET with a Host header of our choosing (fetch will not forge one), as a DNS-rebound page's request would be. */
function getWithHost(pathname: string, hostHeader: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port: server.port, path: pathname, headers: { Host: hostHeader } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
  });
}

describe('ptw serve security', () => {
  it('binds loopback and prints a URL with a long random token in its fragment, never sent to a server', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/#token=${server.token}`);
    expect(server.token).toMatch(/^[0-9a-f]{48}$/);
  });

  it('serves the renderer’s own files with the CSP header, and never sets a cookie', async () => {
    for (const p of ['/', '/index.html', `/?token=${server.token}`]) {
      const res = await fetch(base + p);
      expect(res.status, p).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(contentSecurityPolicyHeader);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('set-cookie'), p).toBeNull();
    }
    const asset = await fetch(`${base}/assets/app.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
  });

  it('refuses requests and upgrades whose Host is not the address it was bound to (DNS rebinding)', async () => {
    expect(await getWithHost('/', `127.0.0.1:${server.port}`)).toBe(200);
    expect(await getWithHost('/', `localhost:${server.port}`)).toBe(200);
    for (const forged of [`evil.example:${server.port}`, 'evil.example', `127.0.0.1:${server.port + 1}`]) {
      expect(await getWithHost('/', forged), forged).toBe(421);
    }
    const ws = `ws://127.0.0.1:${server.port}/ws?token=${server.token}`;
    expect(await openSocket(ws, { Host: `rebound.example:${server.port}` })).toEqual({ status: 403 });
    expect(
      await openSocket(ws, { Host: `rebound.example:${server.port}`, Origin: `http://rebound.example:${server.port}` }),
    ).toEqual({ status: 403 });
  });

  it('never serves files outside the renderer folder', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt']) {
      const res = await fetch(base + p);
      expect(await res.text()).not.toContain('do not serve');
    }
  });

  it('takes no cookie as the credential: a leaked ptw_token cookie opens nothing', async () => {
    const cookie = `ptw_token=${server.token}`;
    expect(await openSocket(`ws://127.0.0.1:${server.port}/ws`, { cookie })).toEqual({ status: 101, closeCode: 4401 });
  });

  it('refuses a WebSocket without the token, with a wrong one, or from another origin', async () => {
    const ws = `ws://127.0.0.1:${server.port}/ws`;
    expect(await openSocket(ws)).toEqual({ status: 101, closeCode: 4401 });
    expect(await openSocket(`${ws}?token=nope`)).toEqual({ status: 101, closeCode: 4401 });
    expect(await openSocket(`${ws}?token=${server.token}`, { Origin: 'https://evil.example' })).toEqual({
      status: 403,
    });
    expect(await openSocket(`ws://127.0.0.1:${server.port}/other?token=${server.token}`)).toEqual({ status: 404 });
    expect(services.events.peerCount).toBe(0);
    expect(await openSocket(`${ws}?token=${server.token}`, { Origin: `http://127.0.0.1:${server.port}` })).toEqual({
      status: 101,
      attached: true,
    });
  });

  it('answers a request message without the token with UNAUTHORIZED and closes the socket', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    await new Promise((r) => ws.once('open', r));
    const reply = new Promise<unknown>((r) => ws.once('message', (d) => r(JSON.parse(String(d)))));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(JSON.stringify({ t: 'req', id: 1, token: 'forged', cmd: 'prefs.set', input: { theme: 'dark' } }));
    expect(await reply).toMatchObject({ t: 'res', id: 1, result: { ok: false, error: { code: 'UNAUTHORIZED' } } });
    expect(await closed).toBe(4401);
    expect((await services.prefs.get()).theme).toBe('system');
  });

  it('closes the socket on a message outside the wire format', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send('not json');
    expect(await closed).toBe(4400);
  });
});
