import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../../src/shared/contract';
import {
  FinalPasses,
  LIVE_INTERVAL_MS,
  runsNeedingFinalPass,
  runsNeedingLivePass,
} from '../../../../src/main/integrity/final-pass';
import { EventHub } from '../../../../src/main/rpc/contract-router';

const run = (id: string, over: Partial<RunSummary> = {}): RunSummary => ({
  id,
  label: id,
  host: 'gpu1',
  status: 'evaluating',
  createdAt: '2026-03-01T10:00:00.000Z',
  task: 'gsm8k',
  agent: 'claude-code',
  startedAt: 1_000,
  stoppedAt: 5_000,
  ...over,
});

describe('the final integrity pass', () => {
  it('picks runs whose agent stopped after their last pass; never imported or still-running ones', () => {
    const checked: Record<string, number | null> = { a: null, b: 6_000, c: 4_000 };
    const runs = [
      run('a'),
      run('b'),
      run('c'),
      run('d', { stoppedAt: null, status: 'running' }),
      run('e', { imported: { kind: 'ptb', source: '/x' } }),
      run('f', { status: 'failed', startedAt: null }),
      run('g', { syncError: 'host unreachable' }),
    ];
    expect(runsNeedingFinalPass(runs, (id) => checked[id] ?? null).map((r) => r.id)).toEqual(['a', 'c']);
  });

  it('picks running runs whose last pass is older than the live interval', () => {
    const now = 1_000_000;
    const checked: Record<string, number | null> = { a: null, b: now - LIVE_INTERVAL_MS, c: now - 1_000 };
    const runs = [
      run('a', { status: 'running', stoppedAt: null }),
      run('b', { status: 'running', stoppedAt: null }),
      run('c', { status: 'running', stoppedAt: null }),
      run('d', { status: 'running', stoppedAt: null, imported: { kind: 'bundle', source: '/b' } }),
      run('e', { status: 'evaluating' }),
      run('f', { status: 'running', stoppedAt: null, syncError: 'host unreachable' }),
    ];
    expect(runsNeedingLivePass(runs, (id) => checked[id] ?? null, now).map((r) => r.id)).toEqual(['a', 'b']);
  });

  describe('FinalPasses', () => {
    let runsDir: string;
    beforeEach(async () => {
      runsDir = await mkdtemp(path.join(os.tmpdir(), 'ptw-final-pass-'));
    });
    afterEach(async () => {
      await rm(runsDir, { recursive: true, force: true });
    });

    it('checks each stopped run once on runs.changed, reads earlier passes from the record, retries a failed one later', async () => {
      const calls: string[] = [];
      let now = 10_000;
      let fail = true;
      const passes = new FinalPasses({
        runsDir,
        now: () => now,
        service: {
          check: async (id: string) => {
            calls.push(id);
            if (id === 'r-20260301-100000-bbbb' && fail) throw new Error('host unreachable');
            return { runId: id, record: null, decisions: [], judge: [] };
          },
        },
      });
      // r-…-cccc was checked after it stopped: its record says so.
      await mkdir(path.join(runsDir, 'r-20260301-100000-cccc', 'integrity'), { recursive: true });
      await writeFile(
        path.join(runsDir, 'r-20260301-100000-cccc', 'integrity', 'record.json'),
        JSON.stringify({ checkedAt: 9_000 }),
      );
      const events = new EventHub();
      passes.start(events);
      const list = [run('r-20260301-100000-aaaa'), run('r-20260301-100000-bbbb'), run('r-20260301-100000-cccc')];
      events.emit('runs.changed', list);
      await new Promise((r) => setTimeout(r, 50));
      await passes.idle();
      expect(calls).toEqual(['r-20260301-100000-aaaa', 'r-20260301-100000-bbbb']);
      // Again at once: nothing new (a is done, b failed moments ago).
      await passes.consider(list);
      await passes.idle();
      expect(calls).toHaveLength(2);
      // Later, the failed one is tried again.
      now += 11 * 60_000;
      fail = false;
      await passes.consider(list);
      await passes.idle();
      expect(calls).toEqual(['r-20260301-100000-aaaa', 'r-20260301-100000-bbbb', 'r-20260301-100000-bbbb']);
      passes.dispose();
      events.emit('runs.changed', [run('r-20260301-100000-dddd')]);
      await new Promise((r) => setTimeout(r, 50));
      expect(calls).toHaveLength(3);
    });
  });
});
