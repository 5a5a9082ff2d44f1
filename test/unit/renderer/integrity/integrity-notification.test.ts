// A live or final integrity pass that flags a run shows one desktop notification (per run and window).
import { describe, expect, it, vi } from 'vitest';
import type { RunNotification } from '../../../../src/shared/monitor/run-notifications';
import { watchRunNotifications } from '../../../../src/renderer/monitor/run-notification-watch';
import { createAppStore } from '../../../../src/renderer/store/app-store';
import type { Notifier } from '../../../../src/renderer/store/notifier';
import { fakeClient } from '../fakes';
import { runSummary } from '../runs/run-fixtures';

describe('integrity notifications', () => {
  it('notifies once when a pass flags a run, never for clean or incomplete, and opens the run on click', async () => {
    const run = runSummary('r-20261123-120000-ab12', { label: 'try 1', startedAt: 1 });
    const fake = fakeClient({
      'runs.list': () => ({ ok: true, data: [run] }),
      'monitor.overview': () => ({ ok: true, data: [] }),
      'monitor.getSettings': () => ({ ok: true, data: { idleMinutes: 10, idleThresholdPct: 5 } }),
    });
    const shown: RunNotification[] = [];
    const clicks: Array<() => void> = [];
    const notifier: Notifier = {
      permission: () => 'granted',
      request: vi.fn(async () => 'granted' as const),
      show: (n, onClick) => {
        shown.push(n);
        clicks.push(onClick);
      },
    };
    const app = createAppStore(fake.client, { shell: { kind: 'electron' }, notifier });
    const stopWatching = watchRunNotifications(app);
    await app.getState().runs.load();
    fake.emit('integrity.changed', { runId: run.id, verdict: 'clean' });
    fake.emit('integrity.changed', { runId: run.id, verdict: 'incomplete' });
    expect(shown).toEqual([]);
    fake.emit('integrity.changed', { runId: run.id, verdict: 'flagged' });
    fake.emit('integrity.changed', { runId: run.id, verdict: 'flagged' });
    expect(shown.map((n) => [n.kind, n.title])).toEqual([['integrity-flag', 'Integrity flag: try 1']]);
    app.getState().nav.setSection('hosts');
    clicks[0]!();
    expect(app.getState().nav.section).toBe('runs');
    expect(app.getState().runs.selected).toBe(run.id);
    expect(fake.listenerCount('integrity.changed')).toBe(1);
    stopWatching();
    expect(fake.listenerCount('integrity.changed')).toBe(0);
  });
});
