import { describe, expect, it } from 'vitest';
import { createAppStore } from '../../../../../src/renderer/store/app-store';
import { queryKey } from '../../../../../src/renderer/store/slices/queries-slice';
import type { Result } from '../../../../../src/shared/errors';
import { deferred, fakeClient } from '../../fakes';

describe('the queries slice', () => {
  it('keys reads by command and input, whatever the order of the input’s keys', () => {
    expect(queryKey('datasets.list', { id: 'r1' })).toBe('datasets.list {"id":"r1"}');
    expect(queryKey('datasets.page', { id: 'r', path: 'p', offset: 0, limit: 1 })).toBe(
      queryKey('datasets.page', { limit: 1, offset: 0, path: 'p', id: 'r' }),
    );
    expect(queryKey('datasets.stats', { id: 'r', path: undefined })).toBe(queryKey('datasets.stats', { id: 'r' }));
  });

  it('keeps the data while a refetch is on its way, drops stale replies, and forgets a read nobody holds', async () => {
    const replies = [deferred<Result<never>>(), deferred<Result<never>>()];
    let n = 0;
    const fake = fakeClient({ 'integrity.get': () => replies[n++]!.promise });
    const store = createAppStore(fake.client, { shell: { kind: 'electron' } });
    const key = queryKey('integrity.get', { id: 'r1' });
    const queries = () => store.getState().queries;
    queries().hold(key);
    const first = queries().fetch('integrity.get', { id: 'r1' });
    const second = queries().fetch('integrity.get', { id: 'r1' });
    expect(queries().entries.get(key)?.loading).toBe(true);
    replies[1]!.resolve({ ok: true, data: 'new' as never });
    await second;
    replies[0]!.resolve({ ok: true, data: 'old' as never });
    await first;
    expect(queries().entries.get(key)).toMatchObject({ data: 'new', loading: false, error: null });

    queries().put('integrity.get', { id: 'r1' }, 'put' as never);
    expect(queries().entries.get(key)?.data).toBe('put');
    queries().release(key);
    expect(queries().entries.has(key)).toBe(false);
    // A reply for a read nobody holds is not stored.
    queries().put('integrity.get', { id: 'r1' }, 'put' as never);
    expect(queries().entries.has(key)).toBe(false);
  });

  it('keeps the last data when a refetch fails', async () => {
    let ok = true;
    const fake = fakeClient({
      'integrity.get': () =>
        ok
          ? { ok: true, data: 'state' as never }
          : { ok: false, error: { code: 'INTERNAL', message: 'nope', retryable: false } },
    });
    const store = createAppStore(fake.client, { shell: { kind: 'electron' } });
    const key = queryKey('integrity.get', { id: 'r1' });
    store.getState().queries.hold(key);
    await store.getState().queries.fetch('integrity.get', { id: 'r1' });
    ok = false;
    await store.getState().queries.fetch('integrity.get', { id: 'r1' });
    expect(store.getState().queries.entries.get(key)).toMatchObject({ data: 'state', error: { code: 'INTERNAL' } });
  });
});
