import { describe, expect, it, vi } from 'vitest';
import { createAppStore } from '../../../../src/renderer/store/app-store';
import type { HostSummary, RunSummary } from '../../../../src/shared/contract';
import { deferred, fakeClient, hostSummary } from '../fakes';

const info = {
  name: 'posttrain-workbench',
  version: '0.1.0',
  home: '/home/u/.ptw',
  shell: 'serve' as const,
  platform: 'linux',
  nodeVersion: '20.19.0',
};
const host: HostSummary = hostSummary('gpu1', { address: 'me@gpu1:22' });
const run: RunSummary = {
  id: 'r1',
  label: 'qwen gsm8k',
  host: 'gpu1',
  status: 'scored',
  createdAt: '2026-01-01T00:00:00Z',
  task: 'gsm8k · Qwen3-4B-Base',
  agent: 'claude-code · claude-opus-4-6',
};

function setup(overrides: Parameters<typeof fakeClient>[0] = {}) {
  const fake = fakeClient({
    'app.info': () => ({ ok: true, data: info }),
    'prefs.get': () => ({ ok: true, data: { theme: 'dark' } }),
    'prefs.set': (input) => ({ ok: true, data: { theme: input.theme ?? 'system' } }),
    'hosts.list': () => ({ ok: true, data: [host] }),
    'runs.list': () => ({ ok: true, data: [run] }),
    ...overrides,
  });
  const store = createAppStore(fake.client, { shell: { kind: 'serve', address: '127.0.0.1:8123' } });
  return { store, ...fake };
}

describe('createAppStore', () => {
  it('starts empty, on the hosts section, with the given shell', () => {
    const { store } = setup();
    const state = store.getState();
    expect(state.nav.section).toBe('hosts');
    expect(state.app.shell).toEqual({ kind: 'serve', address: '127.0.0.1:8123' });
    expect(state.app.connection).toEqual({ status: 'open' });
    expect(state.hosts.loaded).toBe(false);
  });

  it('refresh loads info, prefs, hosts and runs', async () => {
    const { store } = setup();
    await store.refresh();
    const state = store.getState();
    expect(state.app.info).toEqual(info);
    expect(state.prefs.value).toEqual({ theme: 'dark' });
    expect(state.hosts.items).toEqual([host]);
    expect(state.runs.items).toEqual([run]);
    expect(state.app.errors).toEqual([]);
  });

  it('shows list failures in the list and other failures in app.errors', async () => {
    const failure = { ok: false as const, error: { code: 'INTERNAL' as const, message: 'nope', retryable: false } };
    const { store } = setup({ 'hosts.list': () => failure, 'app.info': () => failure });
    await store.refresh();
    expect(store.getState().hosts.error).toEqual(failure.error);
    expect(store.getState().app.errors).toEqual([{ id: 1, source: 'Loading app info', error: failure.error }]);
  });

  it('setTheme shows the choice at once and sends prefs.set', async () => {
    const reply = deferred<{ ok: true; data: { theme: 'light' } }>();
    const { store, calls } = setup({ 'prefs.set': () => reply.promise });
    const saving = store.getState().prefs.setTheme('light');
    expect(store.getState().prefs.pending).toEqual({ theme: 'light' });
    expect(calls.at(-1)).toEqual({ command: 'prefs.set', input: { theme: 'light' } });
    reply.resolve({ ok: true, data: { theme: 'light' } });
    await saving;
    expect(store.getState().prefs).toMatchObject({ value: { theme: 'light' }, pending: null });
  });

  it('a failed setTheme reports the error and rolls back', async () => {
    const { store } = setup({
      'prefs.set': () => ({ ok: false, error: { code: 'INTERNAL', message: 'read-only', retryable: false } }),
    });
    await store.getState().prefs.setTheme('light');
    expect(store.getState().prefs.pending).toBeNull();
    expect(store.getState().app.errors[0]).toMatchObject({
      source: 'Saving the theme',
      error: { message: 'read-only' },
    });
  });

  it('applies prefs.changed events from other windows', () => {
    const { store, emit } = setup();
    emit('prefs.changed', { theme: 'light' });
    expect(store.getState().prefs.value).toEqual({ theme: 'light' });
  });

  it('a slow hosts reply cannot overwrite a newer one', async () => {
    const replies = [deferred<{ ok: true; data: HostSummary[] }>(), deferred<{ ok: true; data: HostSummary[] }>()];
    let n = 0;
    const { store } = setup({ 'hosts.list': () => replies[n++]!.promise });
    const first = store.getState().hosts.load();
    const second = store.getState().hosts.load();
    replies[1]!.resolve({ ok: true, data: [host] });
    await second;
    replies[0]!.resolve({ ok: true, data: [] });
    await first;
    expect(store.getState().hosts.items).toEqual([host]);
  });

  it('nav.setSection changes the section', () => {
    const { store } = setup();
    store.getState().nav.setSection('leaderboard');
    expect(store.getState().nav.section).toBe('leaderboard');
  });

  it('app.reconnect calls the injected reconnect', () => {
    const reconnect = vi.fn();
    const store = createAppStore(fakeClient().client, { shell: { kind: 'serve', address: 'x' }, reconnect });
    store.getState().app.reconnect();
    expect(reconnect).toHaveBeenCalledOnce();
  });

  it('dispose ends every event subscription, once', () => {
    const { store, unsubscribes, listenerCount, emit } = setup();
    const subscribed = [
      'prefs.changed',
      'hosts.changed',
      'hosts.preflightProgress',
      'hosts.setupProgress',
      'hosts.hostKeyPrompt',
      'hosts.passphrasePrompt',
      'hosts.promptClosed',
      'runs.changed',
      'monitor.changed',
      'monitor.settingsChanged',
    ] as const;
    for (const event of subscribed) expect(listenerCount(event)).toBe(1);
    store.dispose();
    expect(unsubscribes).toHaveLength(subscribed.length);
    for (const unsubscribe of unsubscribes) expect(unsubscribe).toHaveBeenCalledOnce();
    for (const event of subscribed) expect(listenerCount(event)).toBe(0);
    emit('prefs.changed', { theme: 'light' });
    expect(store.getState().prefs.value).toEqual({ theme: 'system' });
    store.dispose();
    for (const unsubscribe of unsubscribes) expect(unsubscribe).toHaveBeenCalledOnce();
  });
});
