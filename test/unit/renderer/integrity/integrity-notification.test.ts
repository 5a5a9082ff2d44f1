// A live or final integrity pass that flags a run shows one desktop notification (per run and window).
import { describe, expect, it } from 'vitest';
import { watchedStore } from '../monitor/notification-fixtures';
import { runSummary } from '../runs/run-fixtures';

describe('integrity notifications', () => {
  it('notifies once when a pass flags a run, never for clean or incomplete, and opens the run on click', async () => {
    const run = runSummary('r-20261123-120000-ab12', { label: 'try 1', startedAt: 1 });
    const { fake, app, stopWatching, shown, clicks } = watchedStore([run]);
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
