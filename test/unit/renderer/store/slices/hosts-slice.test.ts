import { describe, expect, it } from 'vitest';
import { createAppStore } from '../../../../../src/renderer/store/app-store';
import {
  connectionStateApplied,
  emptyHosts,
  hostActionFinished,
  hostActionStarted,
  hostRemoved,
  hostsReceived,
  hostsUpserted,
  selectedHost,
} from '../../../../../src/renderer/store/slices/hosts-slice';
import type { HostSummary } from '../../../../../src/shared/contract';
import type { AppErrorData, Result } from '../../../../../src/shared/errors';
import type { ConnectionState, PreflightCheck, PreflightReport } from '../../../../../src/shared/hosts';
import { deferred, fakeClient, flush, hostSummary } from '../../fakes';

const connected = (since: string): ConnectionState => ({ status: 'connected', since });
const keyChanged: AppErrorData = {
  code: 'HOST_KEY_CHANGED',
  message:
    'The host key for gpu1 changed. If the host was reinstalled, remove the old key with `ptw host forget-key gpu1`.',
  retryable: false,
};

const check = (id: string, status: PreflightCheck['status']): PreflightCheck => ({
  id,
  title: id,
  status,
  summary: '',
  details: [],
});
const report = (finishedAt: string, checks = [check('ssh', 'pass')]): PreflightReport => ({
  host: 'gpu1',
  startedAt: '2026-11-23T12:00:00Z',
  finishedAt,
  checks,
  gpus: [],
  freeGpus: [],
  overall: 'pass',
});

describe('hosts state changes', () => {
  const state = { ...emptyHosts(), items: [hostSummary('b'), hostSummary('a')], loaded: true };

  it('selects the picked host, or the first by name', () => {
    expect(selectedHost(state)?.name).toBe('a');
    expect(selectedHost({ ...state, selected: 'b' })?.name).toBe('b');
    expect(selectedHost({ ...state, selected: 'removed' })?.name).toBe('a');
    expect(selectedHost(emptyHosts())).toBeNull();
  });

  it('applies a reply’s connection state unless an event brought a newer one', () => {
    const withState = connectionStateApplied(state, 'a', connected('2026-11-23T12:00:10Z'));
    expect(withState.items.find((h) => h.name === 'a')?.state?.status).toBe('connected');
    const older = connectionStateApplied(withState, 'a', { status: 'connecting', since: '2026-11-23T12:00:05Z' });
    expect(older.items.find((h) => h.name === 'a')?.state?.status).toBe('connected');
    const newer = connectionStateApplied(withState, 'a', { status: 'disconnected', since: '2026-11-23T12:00:20Z' });
    expect(newer.items.find((h) => h.name === 'a')?.state?.status).toBe('disconnected');
  });

  it('keeps a failed command’s error until the next command or a good connection', () => {
    let s = hostActionStarted(state, 'a', 'connect');
    expect(s.pending.get('a')).toBe('connect');
    s = hostActionFinished(s, 'a', { action: 'Connecting', error: keyChanged });
    expect(s.pending.has('a')).toBe(false);
    expect(s.problems.get('a')?.error.code).toBe('HOST_KEY_CHANGED');
    expect(hostsReceived(s, [hostSummary('a', { state: { status: 'failed', since: 'x' } })]).problems.has('a')).toBe(
      true,
    );
    expect(hostsReceived(s, [hostSummary('a', { state: connected('x') })]).problems.has('a')).toBe(false);
    expect(hostActionStarted(s, 'a', 'connect').problems.has('a')).toBe(false);
  });

  it('puts added hosts in the list, selected, and forgets removed ones', () => {
    const added = hostsUpserted({ ...state, pane: 'add' }, [hostSummary('c')]);
    expect(added.items.map((h) => h.name)).toEqual(['b', 'a', 'c']);
    expect(added).toMatchObject({ selected: 'c', pane: 'detail' });
    const replaced = hostsUpserted(added, [hostSummary('a', { address: 'new' })]);
    expect(replaced.items.filter((h) => h.name === 'a')).toEqual([hostSummary('a', { address: 'new' })]);
    expect(replaced.selected).toBe('a');
    const removed = hostRemoved(added, 'a');
    expect(removed.items.map((h) => h.name)).toEqual(['b', 'c']);
    expect(removed.selected).toBe('c');
    expect(hostRemoved(added, 'c').selected).toBeNull();
  });

  it('keeps per-host facts in maps, so a host may be called constructor', () => {
    const s = hostActionStarted(emptyHosts(), 'constructor', 'connect');
    expect(s.pending.get('constructor')).toBe('connect');
    expect(emptyHosts().problems.get('constructor')).toBeUndefined();
  });
});

function setup(overrides: Parameters<typeof fakeClient>[0] = {}) {
  const fake = fakeClient({
    'hosts.list': () => ({ ok: true, data: [hostSummary('gpu1')] }),
    'hosts.lastCheck': () => ({ ok: true, data: null }),
    ...overrides,
  });
  const store = createAppStore(fake.client, { shell: { kind: 'serve', address: '127.0.0.1:1' } });
  return { store, hosts: () => store.getState().hosts, ...fake };
}

describe('hosts slice', () => {
  it('replaces the list from hosts.changed', async () => {
    const { store, emit, hosts } = setup();
    await store.getState().hosts.load();
    emit('hosts.changed', [hostSummary('gpu1', { state: connected('2026-11-23T12:00:00Z') }), hostSummary('gpu2')]);
    expect(hosts().items.map((h) => [h.name, h.state?.status])).toEqual([
      ['gpu1', 'connected'],
      ['gpu2', undefined],
    ]);
  });

  it('a hosts.list reply older than a hosts.changed event does not undo it', async () => {
    const reply = deferred<Result<HostSummary[]>>();
    const { store, emit, hosts } = setup({ 'hosts.list': () => reply.promise });
    const loading = store.getState().hosts.load();
    emit('hosts.changed', [hostSummary('new')]);
    reply.resolve({ ok: true, data: [hostSummary('old')] });
    await loading;
    expect(hosts().items.map((h) => h.name)).toEqual(['new']);
    expect(hosts().loading).toBe(false);
  });

  it('runs preflight: the checklist fills from progress events, then the reply’s report', async () => {
    const reply = deferred<Result<PreflightReport>>();
    const { store, emit, hosts, calls } = setup({ 'hosts.check': () => reply.promise });
    const running = store.getState().hosts.runPreflight('gpu1');
    expect(calls.at(-1)).toEqual({ command: 'hosts.check', input: { name: 'gpu1' } });
    expect(hosts().preflight.get('gpu1')).toMatchObject({ running: true, ownCall: true });
    emit('hosts.preflightProgress', { name: 'gpu1', check: check('ssh', 'running') });
    emit('hosts.preflightProgress', { name: 'gpu1', check: check('ssh', 'pass') });
    emit('hosts.preflightProgress', { name: 'gpu1', check: check('docker', 'running') });
    emit('hosts.preflightProgress', { name: 'other', check: check('ssh', 'running') });
    expect(
      hosts()
        .preflight.get('gpu1')
        ?.checks.map((c) => c.status),
    ).toEqual(['pass', 'running']);
    // main announces the new last check before the reply arrives; that must not restart anything.
    emit('hosts.changed', [
      hostSummary('gpu1', { lastCheck: { overall: 'pass', finishedAt: '2026-11-23T12:00:09Z' } }),
    ]);
    const final = report('2026-11-23T12:00:09Z', [check('ssh', 'pass'), check('docker', 'fail')]);
    reply.resolve({ ok: true, data: final });
    await running;
    expect(hosts().preflight.get('gpu1')).toMatchObject({ running: false, report: final, checks: final.checks });
    expect(calls.filter((c) => c.command === 'hosts.lastCheck')).toEqual([]);
    expect(hosts().preflight.get('other')).toMatchObject({ running: true, ownCall: false });
  });

  it('shows a preflight that could not start (host key changed) as the host’s problem', async () => {
    const { store, hosts } = setup({ 'hosts.check': () => ({ ok: false, error: keyChanged }) });
    await store.getState().hosts.runPreflight('gpu1');
    expect(hosts().preflight.get('gpu1')?.running).toBe(false);
    expect(hosts().problems.get('gpu1')).toEqual({ action: 'Preflight', error: keyChanged });
  });

  it('loads the last check once per host and reloads it when it changed elsewhere', async () => {
    const first = report('2026-11-23T12:00:05Z');
    const second = report('2026-11-23T13:00:00Z');
    let current = first;
    const { store, emit, hosts, calls } = setup({ 'hosts.lastCheck': () => ({ ok: true, data: current }) });
    store.getState().hosts.ensureLastCheck('gpu1');
    store.getState().hosts.ensureLastCheck('gpu1');
    await flush();
    store.getState().hosts.ensureLastCheck('gpu1');
    expect(calls.filter((c) => c.command === 'hosts.lastCheck')).toHaveLength(1);
    expect(hosts().preflight.get('gpu1')?.report).toEqual(first);
    current = second;
    emit('hosts.changed', [hostSummary('gpu1', { lastCheck: { overall: 'pass', finishedAt: second.finishedAt! } })]);
    await flush();
    expect(hosts().preflight.get('gpu1')?.report).toEqual(second);
  });

  it('connect applies the returned state, and keeps the error when it fails', async () => {
    let answer: Result<ConnectionState> = { ok: true, data: connected('2026-11-23T12:00:00Z') };
    const { store, hosts } = setup({ 'hosts.connect': () => answer });
    await store.getState().hosts.load();
    await store.getState().hosts.connect('gpu1');
    expect(hosts().items[0]?.state?.status).toBe('connected');
    expect(hosts().pending.size).toBe(0);
    answer = { ok: false, error: keyChanged };
    await store.getState().hosts.connect('gpu1');
    expect(hosts().problems.get('gpu1')).toEqual({ action: 'Connecting', error: keyChanged });
  });

  it('disconnect and remove call main and update the list', async () => {
    const { store, hosts, calls } = setup({
      'hosts.disconnect': () => ({ ok: true, data: { status: 'disconnected', since: '2026-11-23T12:00:00Z' } }),
      'hosts.remove': () => ({ ok: true, data: { removed: true } }),
    });
    await store.getState().hosts.load();
    await store.getState().hosts.disconnect('gpu1');
    expect(hosts().items[0]?.state?.status).toBe('disconnected');
    await store.getState().hosts.remove('gpu1');
    expect(calls.at(-1)).toEqual({ command: 'hosts.remove', input: { name: 'gpu1' } });
    expect(hosts().items).toEqual([]);
  });

  it('a failed remove keeps the host and says why', async () => {
    const { store, hosts } = setup({
      'hosts.remove': () => ({ ok: false, error: { code: 'INTERNAL', message: 'disk full', retryable: false } }),
    });
    await store.getState().hosts.load();
    await store.getState().hosts.remove('gpu1');
    expect(hosts().items).toHaveLength(1);
    expect(hosts().problems.get('gpu1')?.action).toBe('Removing the host');
  });

  it('add sends the input and selects the new host; a failure comes back to the form', async () => {
    const { store, hosts, calls } = setup({
      'hosts.add': (input) => ({ ok: true, data: hostSummary(input.name, { address: 'root@127.0.0.1:2222' }) }),
    });
    await store.getState().hosts.load();
    store.getState().hosts.showPane('add');
    const result = await store.getState().hosts.add({ name: 'test', kind: 'ssh', hostname: '127.0.0.1', port: 2222 });
    expect(result.ok).toBe(true);
    expect(calls.at(-1)).toEqual({
      command: 'hosts.add',
      input: { name: 'test', kind: 'ssh', hostname: '127.0.0.1', port: 2222 },
    });
    expect(hosts()).toMatchObject({ selected: 'test', pane: 'detail' });
    expect(selectedHost(hosts())?.address).toBe('root@127.0.0.1:2222');
  });

  it('previews and imports an ssh config, passing the file only when given', async () => {
    const preview = { file: '/h/.ssh/config', candidates: [], problems: [], notImported: [], existing: [] };
    const { store, hosts, calls } = setup({
      'hosts.previewSshConfig': () => ({ ok: true, data: preview }),
      'hosts.importSshConfig': (input) => ({ ok: true, data: input.aliases.map((a) => hostSummary(a)) }),
    });
    expect(await store.getState().hosts.previewSshConfig()).toEqual({ ok: true, data: preview });
    expect(calls.at(-1)).toEqual({ command: 'hosts.previewSshConfig', input: {} });
    await store.getState().hosts.previewSshConfig('/other');
    expect(calls.at(-1)).toEqual({ command: 'hosts.previewSshConfig', input: { file: '/other' } });
    await store.getState().hosts.importSshConfig('/h/.ssh/config', ['gpu7', 'gpu8']);
    expect(calls.at(-1)).toEqual({
      command: 'hosts.importSshConfig',
      input: { file: '/h/.ssh/config', aliases: ['gpu7', 'gpu8'] },
    });
    expect(hosts()).toMatchObject({ selected: 'gpu7', pane: 'detail' });
  });
});
