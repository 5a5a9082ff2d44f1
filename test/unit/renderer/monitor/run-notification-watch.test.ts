import { describe, expect, it, vi } from 'vitest';
import type { RunSummary } from '../../../../src/shared/contract';
import type { RunMonitor } from '../../../../src/shared/contract-monitor';
import { runSummary } from '../runs/run-fixtures';
import { watchedStore } from './notification-fixtures';

function monitorOf(id: string, idle = false): RunMonitor {
  return {
    id,
    hostClockOffsetMs: 0,
    eventCount: 1,
    lastEventAt: null,
    warnings: [],
    gpuSampling: 'available',
    gpuSamplingError: null,
    latest: null,
    spark: [],
    idle: { idle, since: idle ? 1000 : null, quietMs: idle ? 11 * 60_000 : 0 },
  };
}

function setup(runs: RunSummary[]) {
  const watched = watchedStore(
    runs,
    runs.map((r) => monitorOf(r.id)),
  );
  void watched.app.getState().monitor.load();
  return watched;
}

describe('the monitor slice and the notifications watch', () => {
  it('notifies each transition once, from the runs list and the monitor’s idle status', async () => {
    const running = runSummary('r-20261123-120000-ab12', { label: 'try 1', startedAt: 1 });
    const { fake, app, shown, clicks } = setup([running]);
    await app.getState().runs.load();
    await vi.waitFor(() => expect(app.getState().monitor.loaded).toBe(true));
    expect(shown).toEqual([]);

    fake.emit('monitor.changed', [monitorOf(running.id, true)]);
    expect(shown.map((n) => n.kind)).toEqual(['gpu-idle']);
    // The same push again: nothing new.
    fake.emit('monitor.changed', [monitorOf(running.id, true)]);
    expect(shown).toHaveLength(1);

    const scored = { ...running, status: 'scored', stoppedAt: 2, stopReason: 'budget', score: 40 };
    fake.emit('runs.changed', [scored]);
    fake.emit('runs.changed', [scored]);
    expect(shown.map((n) => n.kind)).toEqual(['gpu-idle', 'finished', 'evaluated']);
    expect(app.getState().monitor.shown).toHaveLength(3);

    // Clicking one opens the run.
    app.getState().nav.setSection('hosts');
    clicks[2]!();
    expect(app.getState().nav.section).toBe('runs');
    expect(app.getState().runs.selected).toBe(running.id);
  });

  it('asks for permission only when told to, and lets go of its subscriptions', async () => {
    const { fake, app, stopWatching, notifier } = setup([]);
    expect(notifier.request).not.toHaveBeenCalled();
    await app.getState().monitor.requestPermission();
    expect(notifier.request).toHaveBeenCalledTimes(1);
    expect(app.getState().monitor.permission).toBe('granted');
    expect(fake.listenerCount('integrity.changed')).toBe(1);
    stopWatching();
    expect(fake.listenerCount('integrity.changed')).toBe(0);
    expect(fake.listenerCount('monitor.changed')).toBe(1);
    app.dispose();
    expect(fake.listenerCount('monitor.changed')).toBe(0);
  });
});
