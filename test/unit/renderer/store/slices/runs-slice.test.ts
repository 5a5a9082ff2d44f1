import { describe, expect, it } from 'vitest';
import { createAppStore } from '../../../../../src/renderer/store/app-store';
import {
  detailIsStale,
  detailLoadFinished,
  detailLoadStarted,
  emptyRuns,
  runActionFinished,
  runActionStarted,
  runsPaneShown,
  runStarted,
  selectedRun,
} from '../../../../../src/renderer/store/slices/runs-slice';
import type { RunDetail, RunSummary } from '../../../../../src/shared/contract';
import type { AppErrorData, Result } from '../../../../../src/shared/errors';
import { deferred, fakeClient, flush } from '../../fakes';
import { runSummary, T0 } from '../../runs/run-fixtures';

const detailOf = (summary: RunSummary): RunDetail => ({
  summary,
  spec: {},
  state: null,
  events: [],
  problems: [],
  metrics: null,
  hostRunDir: `/runs/${summary.id}`,
  localDir: `/home/u/.ptw/runs/${summary.id}`,
});
const refused: AppErrorData = {
  code: 'INVALID_INPUT',
  message: 'budgetSeconds: "10x" is not a duration',
  retryable: false,
};

describe('runs state changes', () => {
  const state = {
    ...emptyRuns(),
    loaded: true,
    items: [
      runSummary('old', { createdAt: '2026-11-01T00:00:00Z' }),
      runSummary('new', { createdAt: '2026-11-02T00:00:00Z' }),
    ],
  };

  it('selects the picked run, or the newest', () => {
    expect(selectedRun(state)?.id).toBe('new');
    expect(selectedRun({ ...state, selected: 'old' })?.id).toBe('old');
    expect(selectedRun({ ...state, selected: 'gone' })?.id).toBe('new');
    expect(selectedRun(emptyRuns())).toBeNull();
  });

  it('a started run joins the list, is selected, and the form closes', () => {
    const launching = runsPaneShown(state, 'launch', 'rehearse');
    expect(launching).toMatchObject({ pane: 'launch', launchIntent: 'rehearse' });
    const started = runStarted(launching, runSummary('r3', { status: 'starting' }));
    expect(started).toMatchObject({ pane: 'detail', selected: 'r3' });
    expect(started.items.map((r) => r.id)).toEqual(['old', 'new', 'r3']);
  });

  it('a command reply updates its run; a failure is kept for the pane', () => {
    const busy = runActionStarted(state, 'new', 'extend');
    expect(busy.pending.get('new')).toBe('extend');
    const extended = runSummary('new', { createdAt: '2026-11-02T00:00:00Z', deadline: T0 });
    const done = runActionFinished(busy, 'new', { ok: true, data: extended }, 'Extending the budget');
    expect(done.pending.size).toBe(0);
    expect(done.items.find((r) => r.id === 'new')?.deadline).toBe(T0);

    const failed = runActionFinished(busy, 'new', { ok: false, error: refused }, 'Extending the budget');
    expect(failed.problems.get('new')).toEqual({ action: 'Extending the budget', error: refused });
    // The next command on the run clears the old failure.
    expect(runActionStarted(failed, 'new', 'stop').problems.size).toBe(0);
  });

  it('drops a detail reply that a newer request or another run overtook', () => {
    const first = detailLoadStarted(state, 'new');
    const firstSeq = first.detail!.seq;
    const second = detailLoadStarted(first, 'new');
    const reply: Result<RunDetail> = { ok: true, data: detailOf(state.items[1]!) };
    expect(detailLoadFinished(second, 'new', firstSeq, reply)).toBe(second);
    const applied = detailLoadFinished(second, 'new', second.detail!.seq, reply);
    expect(applied.detail).toMatchObject({ id: 'new', loading: false, error: null });
    // Another run's request: the old record is not kept for it.
    const other = detailLoadStarted(applied, 'old');
    expect(other.detail).toMatchObject({ id: 'old', data: null, loading: true });
    expect(detailLoadFinished(other, 'new', other.detail!.seq, reply)).toBe(other);
  });

  it('keeps the shown record when a reload fails', () => {
    const loaded = detailLoadFinished(detailLoadStarted(state, 'new'), 'new', 1, {
      ok: true,
      data: detailOf(state.items[1]!),
    });
    const reloading = detailLoadStarted(loaded, 'new');
    expect(reloading.detail?.data).not.toBeNull();
    const failed = detailLoadFinished(reloading, 'new', reloading.detail!.seq, { ok: false, error: refused });
    expect(failed.detail).toMatchObject({ loading: false, error: refused });
    expect(failed.detail?.data?.summary.id).toBe('new');
  });

  it('knows when the record is behind the list', () => {
    const shown = detailLoadFinished(detailLoadStarted(state, 'new'), 'new', 1, {
      ok: true,
      data: detailOf(state.items[1]!),
    });
    expect(detailIsStale(shown)).toBe(false);
    const moved = { ...shown, items: shown.items.map((r) => (r.id === 'new' ? { ...r, status: 'stopping' } : r)) };
    expect(detailIsStale(moved)).toBe(true);
    expect(detailIsStale({ ...moved, detail: { ...moved.detail!, loading: true } })).toBe(false);
  });
});

describe('runs slice', () => {
  function setup(overrides: Parameters<typeof fakeClient>[0] = {}) {
    const running = runSummary('r1', { startedAt: T0, deadline: T0 + 3_600_000 });
    let gets = 0;
    const fake = fakeClient({
      'runs.list': () => ({ ok: true, data: [running] }),
      'runs.get': ({ id }) => {
        gets++;
        return { ok: true, data: detailOf(runSummary(id, { startedAt: T0, deadline: T0 + 3_600_000 })) };
      },
      ...overrides,
    });
    const store = createAppStore(fake.client, { shell: { kind: 'serve', address: 'x' } });
    return { store, ...fake, running, gets: () => gets };
  }

  it('applies runs.changed and reloads the open record when its run moved on', async () => {
    const { store, emit, running, gets } = setup();
    await store.getState().runs.load();
    store.getState().runs.ensureDetail('r1');
    store.getState().runs.ensureDetail('r1');
    await flush();
    expect(gets()).toBe(1);

    emit('runs.changed', [{ ...running, label: 'renamed' }]);
    await flush();
    expect(store.getState().runs.items[0]?.label).toBe('renamed');
    expect(gets()).toBe(1);

    emit('runs.changed', [{ ...running, status: 'stopping', stoppedAt: T0 + 10 }]);
    await flush();
    expect(gets()).toBe(2);
  });

  it('start sends the spec as given, and selects the new run', async () => {
    const started = runSummary('r2', { status: 'starting', createdAt: '2026-11-24T00:00:00Z' });
    const { store, calls } = setup({ 'runs.start': () => ({ ok: true, data: started }) });
    await store.getState().runs.load();
    store.getState().runs.showPane('launch');
    const spec = { host: 'gpu1', task: { kind: 'rehearsal' }, agent: { id: 'rehearsal' }, budgetSeconds: '3m' };
    const result = await store.getState().runs.start(spec);
    expect(result.ok).toBe(true);
    expect(calls.at(-1)).toEqual({ command: 'runs.start', input: { spec } });
    expect(store.getState().runs).toMatchObject({ selected: 'r2', pane: 'detail' });
    expect(selectedRun(store.getState().runs)?.id).toBe('r2');
  });

  it('a refused start leaves the form open and returns the error in full', async () => {
    const { store } = setup({ 'runs.start': () => ({ ok: false, error: refused }) });
    store.getState().runs.showPane('launch');
    const result = await store.getState().runs.start({});
    expect(result).toEqual({ ok: false, error: refused });
    expect(store.getState().runs.pane).toBe('launch');
  });

  it('stop marks the run busy until the reply, then shows the new status', async () => {
    const reply = deferred<Result<RunSummary>>();
    const { store, running } = setup({ 'runs.stop': () => reply.promise });
    await store.getState().runs.load();
    const stopping = store.getState().runs.stop('r1');
    expect(store.getState().runs.pending.get('r1')).toBe('stop');
    reply.resolve({ ok: true, data: { ...running, status: 'stopping' } });
    await stopping;
    expect(store.getState().runs.pending.size).toBe(0);
    expect(store.getState().runs.items[0]?.status).toBe('stopping');
  });

  it('extend sends whole seconds and keeps a failure for the pane', async () => {
    const { store, calls } = setup({
      'runs.extend': () => ({ ok: false, error: { code: 'CONFLICT', message: 'already stopping', retryable: false } }),
    });
    await store.getState().runs.load();
    await store.getState().runs.extend('r1', 3600);
    expect(calls.at(-1)).toEqual({ command: 'runs.extend', input: { id: 'r1', seconds: 3600 } });
    expect(store.getState().runs.problems.get('r1')?.action).toBe('Extending the budget');
  });

  it('passes catalog and secret questions through', async () => {
    const { store, calls } = setup({
      'catalog.tasks': () => ({ ok: true, data: [] }),
      'secrets.status': () => ({ ok: true, data: { writable: false, secrets: [] } }),
      'secrets.set': () => ({ ok: true, data: { stored: true } }),
    });
    await store.getState().runs.catalogTasks('gpu1');
    await store.getState().runs.secretsStatus(['ANTHROPIC_API_KEY']);
    await store.getState().runs.setSecret('ANTHROPIC_API_KEY', 'sk-test');
    expect(calls.map((c) => c.command)).toEqual(['catalog.tasks', 'secrets.status', 'secrets.set']);
    expect(calls[0]?.input).toEqual({ name: 'gpu1' });
  });
});
