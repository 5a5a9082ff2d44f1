// A crafted bundle names a source host the user really has ("gpu-box") and a folder there; importing it must never
// point the app at that host. Every command that acts on a run's host is tried on the imported run: each is refused
// by the one gate (runs/run-host.ts), and the host, a real TCP listener standing where its profile points, never
// sees a connection.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppServices, type AppServices } from '../../../../src/main/app-services';
import { locateResourcesDir } from '../../../../src/main/catalog/rehearsal-resources';
import { requireRunHost } from '../../../../src/main/runs/run-host';

let home: string;
let services: AppServices;
let listener: net.Server;
let connections = 0;
let id: string;
let detachPeer: () => void;

const ctx = { peerId: 'attack', transport: 'websocket' as const };

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'ptw-imported-'));
  listener = net.createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const port = (listener.address() as net.AddressInfo).port;
  services = await createAppServices({
    home,
    shell: 'serve',
    env: {},
    backgroundSync: false,
    resourcesDir: locateResourcesDir(__dirname),
  });
  // The user's own host, under the name the example bundle's manifest gives as its source.
  await services.hostStore.upsert([{ name: 'gpu-box', kind: 'ssh', hostname: '127.0.0.1', port, user: 'ana' }]);
  ({ id } = await services.router.call('bundle.importExample', {}, ctx));
  // A connected page (live streams are sent to one).
  detachPeer = services.events.attach(() => undefined, ctx.peerId);
});

afterAll(async () => {
  detachPeer();
  await services.dispose();
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  await rm(home, { recursive: true, force: true });
});

describe('an imported run never reaches a host', () => {
  it('is refused by every command that would act on its host, before any connection', async () => {
    const attempts: [string, unknown][] = [
      ['checkpoints.list', { id }],
      ['checkpoints.diff', { id, a: 'final_model', b: 'base' }],
      ['datasets.list', { id }],
      ['datasets.page', { id, path: 'data.jsonl', offset: 0, limit: 10 }],
      ['datasets.stats', { id, path: 'data.jsonl' }],
      ['datasets.search', { id, path: 'data.jsonl', query: 'x' }],
      ['datasets.search', { id, path: 'data.jsonl', query: 'x', searchId: 's1' }],
      ['datasets.page', { id, path: 'data.jsonl', offset: 0, limit: 10, byteOffset: 100 }],
      ['datasets.indexStatus', { id, path: 'data.jsonl' }],
      ['datasets.search', { id, path: 'data.parquet', query: 'x', searchId: 's2' }],
      ['datasets.overlap', { id, path: 'data.jsonl', benchmark: 'gsm8k' }],
      ['live.peekOpen', { id, cols: 80, rows: 24 }],
      ['monitor.gpuProcesses', { id }],
      ['runs.stop', { id }],
      ['runs.kill', { id }],
      ['runs.extend', { id, seconds: 60 }],
    ];
    for (const [command, input] of attempts) {
      const result = await services.router.invoke(command as never, input as never, ctx);
      expect(result.ok, command).toBe(false);
      if (!result.ok) {
        expect(result.error.code, `${command}: ${result.error.message}`).toBe('CONFLICT');
        expect(result.error.message, command).toContain('imported');
      }
    }
    expect(connections).toBe(0);
  });

  it('still shows its record: the terminal from the mirror, its detail, without a connection', async () => {
    const opened = await services.router.invoke('live.open', { id, source: 'host' }, ctx);
    expect(opened.ok && (opened.data as { source: string }).source).toBe('mirror');
    const detail = await services.router.invoke('runs.get', { id }, ctx);
    expect(detail.ok).toBe(true);
    expect(connections).toBe(0);
  });
});

describe('the gate', () => {
  const sync = {
    schema: 1 as const,
    runId: 'r-1',
    host: 'gpu-box',
    hostRunDir: '/srv/runs/r-1',
    files: {},
    syncedAt: null,
    error: null,
    errorAt: null,
    complete: false,
    hostClockOffsetMs: null,
    supervisorAlive: null,
    supervisorPid: null,
    secretsSha256: null,
    lastResumeAt: null,
    problems: [],
    imported: null,
  };

  it('passes a mirrored run whose host is known, and nothing else', () => {
    expect(requireRunHost('r-1', sync, () => true)).toEqual({
      id: 'r-1',
      host: 'gpu-box',
      hostRunDir: '/srv/runs/r-1',
    });
    expect(() => requireRunHost('r-1', undefined)).toThrow(/No run r-1/);
    expect(() => requireRunHost('r-1', { ...sync, imported: { kind: 'bundle', source: 'x', at: 1 } })).toThrow(
      /imported from a run bundle/,
    );
    expect(() => requireRunHost('r-1', { ...sync, hostRunDir: '' })).toThrow(/not been synced/);
    expect(() => requireRunHost('r-1', sync, () => false)).toThrow(/not one of your hosts/);
  });
});
