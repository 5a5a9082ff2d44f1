import { describe, expect, it } from 'vitest';
import {
  emptyList,
  listLoadFinished,
  listLoadStarted,
  listReplaced,
  listView,
} from '../../../../src/renderer/store/list-state';
import type { AppErrorData } from '../../../../src/shared/errors';

const failure: AppErrorData = { code: 'TRANSPORT_CLOSED', message: 'Connection closed', retryable: true };

describe('list state', () => {
  it('starts unloaded and shows loading', () => {
    const state = emptyList<string>();
    expect(state).toEqual({ items: [], loaded: false, loading: false, error: null, requestSeq: 0 });
    expect(listView(state)).toBe('loading');
  });

  it('numbers each request and applies its reply', () => {
    const started = listLoadStarted(emptyList<string>());
    expect(started).toMatchObject({ loading: true, requestSeq: 1 });
    const done = listLoadFinished(started, 1, { ok: true, data: ['a'] });
    expect(done).toEqual({ items: ['a'], loaded: true, loading: false, error: null, requestSeq: 1 });
    expect(listView(done)).toBe('items');
  });

  it('drops a reply to a request that a newer one replaced', () => {
    const first = listLoadStarted(emptyList<string>());
    const second = listLoadStarted(first);
    const afterNew = listLoadFinished(second, 2, { ok: true, data: ['new'] });
    const afterOld = listLoadFinished(afterNew, 1, { ok: true, data: ['old'] });
    expect(afterOld).toBe(afterNew);
    expect(afterOld.items).toEqual(['new']);
  });

  it('keeps the items it has when a refresh fails', () => {
    const loaded = listLoadFinished(listLoadStarted(emptyList<string>()), 1, { ok: true, data: ['a'] });
    const failed = listLoadFinished(listLoadStarted(loaded), 2, { ok: false, error: failure });
    expect(failed).toMatchObject({ items: ['a'], loaded: true, loading: false, error: failure });
    expect(listView(failed)).toBe('items');
  });

  it('clears the error on the next success', () => {
    const failed = listLoadFinished(listLoadStarted(emptyList<string>()), 1, { ok: false, error: failure });
    expect(listView(failed)).toBe('error');
    const retrying = listLoadStarted(failed);
    expect(listView(retrying)).toBe('loading');
    const ok = listLoadFinished(retrying, 2, { ok: true, data: [] });
    expect(ok.error).toBeNull();
    expect(listView(ok)).toBe('empty');
  });

  it('keeps extra members of the slice (its actions)', () => {
    const load = () => undefined;
    const state = { ...emptyList<string>(), load };
    expect(listLoadStarted(state).load).toBe(load);
    expect(listLoadFinished(listLoadStarted(state), 1, { ok: true, data: [] }).load).toBe(load);
  });
});

describe('listReplaced', () => {
  it('takes a pushed list and drops the reply to a request already in flight', () => {
    const inFlight = listLoadStarted(emptyList<string>());
    const pushed = listReplaced(inFlight, ['pushed']);
    expect(pushed).toMatchObject({ items: ['pushed'], loaded: true, loading: false, error: null });
    expect(listLoadFinished(pushed, inFlight.requestSeq, { ok: true, data: ['stale'] }).items).toEqual(['pushed']);
  });

  it('clears an earlier load error', () => {
    const failed = listLoadFinished(listLoadStarted(emptyList<string>()), 1, { ok: false, error: failure });
    expect(listReplaced(failed, []).error).toBeNull();
  });
});
