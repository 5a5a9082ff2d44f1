// One contract suite, run over both transports: Electron IPC (through a paired in-process fake of
// ipcMain/ipcRenderer, the one place such a fake is allowed) and the real WebSocket server of `ptw serve`.
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createAppServices, type AppServices } from '../../../../src/main/app-services';
import { createPreloadBridge, type IpcRendererLike } from '../../../../src/main/electron/preload-bridge';
import {
  registerIpcTransport,
  type IpcInvokeEventLike,
  type IpcMainLike,
} from '../../../../src/main/transports/ipc-transport';
import { startServeServer } from '../../../../src/main/transports/serve-server';
import type { ClientTransport } from '../../../../src/shared/rpc/client-transport';
import { createContractClient, type ContractClient } from '../../../../src/shared/rpc/contract-client';
import { createWebSocketClientTransport, type WebSocketLike } from '../../../../src/shared/rpc/websocket-client';
import type { WireResult } from '../../../../src/shared/rpc/wire';

const appUrl = 'file:///app/dist/renderer/index.html';

/** ipcMain and ipcRenderer joined in-process; payloads are structured-cloned as Electron's IPC does. */
function createPairedIpc(frameUrl = appUrl) {
  const handlers = new Map<string, (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<WireResult>>();
  const listeners = new Map<string, Set<(event: unknown, ...args: unknown[]) => void>>();
  const senderEvent: IpcInvokeEventLike = { sender: { id: 7 }, senderFrame: { url: frameUrl } };
  const ipcMain: IpcMainLike = {
    handle: (channel, listener) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, listener);
    },
    removeHandler: (channel) => void handlers.delete(channel),
  };
  const ipcRenderer: IpcRendererLike = {
    invoke: async (channel, ...args) => {
      const handler = handlers.get(channel);
      if (!handler) throw new Error(`No handler registered for '${channel}'`);
      return structuredClone(await handler(senderEvent, ...args.map((a) => structuredClone(a))));
    },
    on: (channel, listener) => {
      let set = listeners.get(channel);
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(listener);
    },
    removeListener: (channel, listener) => void listeners.get(channel)?.delete(listener),
  };
  const broadcast = (channel: string, payload: unknown): void => {
    for (const l of listeners.get(channel) ?? []) l({ sender: 'main' }, structuredClone(payload));
  };
  return { ipcMain, ipcRenderer, handlers, listeners, broadcast };
}

interface TransportHarness {
  name: string;
  setup(services: AppServices): Promise<{ transport: ClientTransport; teardown(): Promise<void> }>;
}

const harnesses: TransportHarness[] = [
  {
    name: 'Electron IPC',
    async setup(services) {
      const pair = createPairedIpc();
      const dispose = registerIpcTransport({
        ipc: pair.ipcMain,
        services,
        isTrustedSender: (e) => e.senderFrame?.url === appUrl,
        broadcast: pair.broadcast,
      });
      return {
        transport: createPreloadBridge(pair.ipcRenderer),
        async teardown() {
          dispose();
          expect(pair.handlers.size).toBe(0);
        },
      };
    },
  },
  {
    name: 'WebSocket (ptw serve)',
    async setup(services) {
      const staticDir = await mkdtemp(path.join(os.tmpdir(), 'ptw-static-'));
      await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
      const server = await startServeServer({ services, staticDir });
      const socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
      const transport = createWebSocketClientTransport(socket as unknown as WebSocketLike, server.token);
      await transport.ready;
      return {
        transport,
        async teardown() {
          transport.close();
          await server.close();
          await rm(staticDir, { recursive: true, force: true });
        },
      };
    },
  },
];

describe.each(harnesses)('contract over $name', (harness) => {
  let home: string;
  let services: AppServices;
  let client: ContractClient;
  let teardown: () => Promise<void>;

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ptw-home-'));
    services = await createAppServices({ home, shell: 'serve' });
    const made = await harness.setup(services);
    client = createContractClient(made.transport);
    teardown = made.teardown;
  });

  afterAll(async () => {
    await teardown();
    await services.dispose();
    expect(services.events.peerCount).toBe(0);
    await rm(home, { recursive: true, force: true });
  });

  it('round-trips a command with validated output', async () => {
    const info = await client.call('app.info', {});
    expect(info).toMatchObject({ ok: true, data: { name: 'PostTrain Workbench', home, shell: 'serve' } });
  });

  it('lists hosts and runs from PTW_HOME (empty on a fresh home)', async () => {
    expect(await client.call('hosts.list', {})).toEqual({ ok: true, data: [] });
    expect(await client.call('runs.list', {})).toEqual({ ok: true, data: [] });
  });

  it('delivers events to subscribers and stops after unsubscribe', async () => {
    const seen: string[] = [];
    const off = client.on('prefs.changed', (p) => seen.push(p.theme));
    const set = await client.call('prefs.set', { theme: 'dark' });
    expect(set).toEqual({ ok: true, data: { theme: 'dark' } });
    await expect.poll(() => seen).toEqual(['dark']);
    off();
    await client.call('prefs.set', { theme: 'light' });
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(['dark']);
    expect(await client.call('prefs.get', {})).toEqual({ ok: true, data: { theme: 'light' } });
  });

  it('rejects input outside the schema with INVALID_INPUT', async () => {
    // Deliberately bypass the static types to send what a compromised renderer might.
    const result = await client.call('prefs.set', { theme: 'purple' } as never);
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', retryable: false } });
    if (!result.ok) expect(result.error.message).toContain('theme');
    const extra = await client.call('app.info', { surprise: 1 } as never);
    expect(extra).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  it('refuses names outside the contract with UNKNOWN_COMMAND', async () => {
    const result = await client.call('shell.exec' as never, {} as never);
    expect(result).toMatchObject({ ok: false, error: { code: 'UNKNOWN_COMMAND' } });
  });

  it('returns a service failure as a typed error naming the file, not a throw', async () => {
    await writeFile(path.join(home, 'hosts.json'), '{ not json');
    const result = await client.call('hosts.list', {});
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('INTERNAL');
      expect(result.error.message).toContain(path.join(home, 'hosts.json'));
    }
    await writeFile(
      path.join(home, 'hosts.json'),
      JSON.stringify({ hosts: [{ name: 'h100', kind: 'ssh', hostname: 'gpu1', user: 'ana', port: 2222 }] }),
    );
    expect(await client.call('hosts.list', {})).toEqual({
      ok: true,
      data: [
        {
          name: 'h100',
          kind: 'ssh',
          address: 'ana@gpu1:2222',
          jump: '',
          dockerSocket: '/var/run/docker.sock',
          runRoot: '~/posttrain-runs',
          identityFiles: [],
          requiredImages: [],
        },
      ],
    });
  });

  it('lists run folders, keeping unreadable ones visible', async () => {
    const r1 = 'r-20261123-100000-aaaa';
    const r2 = 'r-20261123-110000-bbbb';
    await mkdir(path.join(home, 'runs', r1), { recursive: true });
    await writeFile(
      path.join(home, 'runs', r1, 'run.json'),
      JSON.stringify({
        schema: 1,
        id: r1,
        createdAt: '2026-11-23T10:00:00Z',
        spec: { host: 'h100', task: { kind: 'rehearsal' }, agent: { id: 'rehearsal' }, label: 'rehearsal' },
        supervisor: { budgetSeconds: 300 },
      }),
    );
    await writeFile(
      path.join(home, 'runs', r1, 'state.json'),
      JSON.stringify({
        status: 'scored',
        heartbeatAt: 1,
        evaluation: { attempts: 1, outcome: 'scored', metrics: { accuracy: 0.5 } },
      }),
    );
    await mkdir(path.join(home, 'runs', r2), { recursive: true });
    await writeFile(path.join(home, 'runs', r2, 'run.json'), '{"id":');
    const result = await client.call('runs.list', {});
    expect(result.ok && result.data.map((r) => `${r.id}:${r.status}:${r.score ?? ''}`).sort()).toEqual([
      `${r1}:scored:50`,
      `${r2}:unreadable:`,
    ]);
  });
});

describe('Electron IPC transport specifics', () => {
  let home: string;
  let services: AppServices;
  afterEach(async () => {
    await services.dispose();
    await rm(home, { recursive: true, force: true });
  });

  it('refuses calls from an untrusted sender before running the command', async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ptw-home-'));
    services = await createAppServices({ home, shell: 'electron' });
    const pair = createPairedIpc('https://evil.example/');
    const dispose = registerIpcTransport({
      ipc: pair.ipcMain,
      services,
      isTrustedSender: (e) => e.senderFrame?.url === appUrl,
      broadcast: pair.broadcast,
    });
    const client = createContractClient(createPreloadBridge(pair.ipcRenderer));
    expect(await client.call('prefs.set', { theme: 'dark' })).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHORIZED' },
    });
    expect((await services.prefs.get()).theme).toBe('system');
    dispose();
  });

  it('the preload bridge exposes only contract names and never forwards others to IPC', async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ptw-home-'));
    services = await createAppServices({ home, shell: 'electron' });
    const invoked: string[] = [];
    const bridge = createPreloadBridge({
      invoke: async (channel) => {
        invoked.push(channel);
        return { ok: true, data: null };
      },
      on: () => undefined,
      removeListener: () => undefined,
    });
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'subscribe']);
    expect(await bridge.invoke('fs.readFile', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_COMMAND' } });
    expect(() => bridge.subscribe('secret.event', () => undefined)).toThrow(/Unknown event/);
    expect(invoked).toEqual([]);
    await bridge.invoke('app.info', {});
    expect(invoked).toEqual(['ptw:cmd:app.info']);
  });
});
