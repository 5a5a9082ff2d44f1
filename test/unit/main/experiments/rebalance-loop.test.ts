import { describe, expect, it } from 'vitest';
import { RebalanceLoop } from '../../../../src/main/experiments/rebalance-loop';
import type { ExperimentRebalance, ExperimentSummary } from '../../../../src/shared/contract-experiments';

// Which experiments the open app's rebalancing pass looks at, and how often: the scheduling only (what a pass does
// on real hosts is test/integration/experiment-rebalance.test.ts). The experiments are a table in memory.

const summary = (id: string, stopped = false): ExperimentSummary => ({
  id,
  name: id,
  createdAt: '2026-12-07T00:00:00Z',
  stopped,
  runs: 1,
  gpuHours: 1,
  hosts: ['a'],
});

describe('RebalanceLoop', () => {
  it('skips stopped experiments, looks at a quiet one every tenth pass, and at one with a host away every pass', async () => {
    const outcomes: Record<string, ExperimentRebalance> = {
      busy: { moved: [{ key: 'k', from: 'a', to: 'b', fromRunId: 'r1', runId: 'r2' }], notes: [], queued: 2 },
      quiet: { moved: [], notes: [], queued: 0 },
      away: { moved: [], notes: ['b could not be asked (timeout); its queued runs stay there'], queued: 0 },
    };
    const asked: string[] = [];
    const logged: string[] = [];
    const loop = new RebalanceLoop(
      {
        list: () => Promise.resolve([...Object.keys(outcomes).map((id) => summary(id)), summary('stopped', true)]),
        rebalance: (id) => {
          asked.push(id);
          return Promise.resolve(outcomes[id]!);
        },
      },
      60_000,
      (line) => logged.push(line),
    );
    for (let pass = 0; pass < 11; pass++) await loop.passOnce();
    const count = (id: string) => asked.filter((a) => a === id).length;
    expect([count('busy'), count('away'), count('quiet'), count('stopped')]).toEqual([11, 11, 2, 0]);
    expect(logged[0]).toBe('experiment busy: k moved from a to b');
    await loop.dispose();
  });

  it('keeps going past an experiment whose pass fails, and does nothing once disposed', async () => {
    const asked: string[] = [];
    const loop = new RebalanceLoop(
      {
        list: () => Promise.resolve([summary('broken'), summary('fine')]),
        rebalance: (id) => {
          asked.push(id);
          return id === 'broken'
            ? Promise.reject(new Error('record unreadable'))
            : Promise.resolve({ moved: [], notes: [], queued: 1 });
        },
      },
      60_000,
    );
    await loop.passOnce();
    expect(asked).toEqual(['broken', 'fine']);
    await loop.dispose();
    await loop.passOnce();
    expect(asked).toEqual(['broken', 'fine']);
  });
});
