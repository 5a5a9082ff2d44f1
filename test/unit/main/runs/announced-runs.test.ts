// The announced run list, patched with the runs touched since: what is read again, removals, a new run's place.
import { describe, expect, it } from 'vitest';
import { AnnouncedRuns } from '../../../../src/main/runs/announced-runs';
import type { RunSummary } from '../../../../src/shared/contract';

const run = (id: string, createdAt: string, status = 'scored'): RunSummary => ({
  id,
  label: '',
  host: 'gpu-a',
  status,
  createdAt,
  task: 'rehearsal',
  agent: 'rehearsal',
});

describe('AnnouncedRuns', () => {
  it('reads again only the touched and live runs, drops a removed one, places a new one newest first', async () => {
    // The runs as their folders would say: what `all` and `one` read.
    const folders = new Map<string, RunSummary>(
      [run('a', '2026-01-01'), run('b', '2026-01-02'), run('c', '2026-01-03', 'running')].map((r) => [r.id, r]),
    );
    const reads: string[] = [];
    const announced: string[][] = [];
    const list = new AnnouncedRuns({
      all: async () => [...folders.values()].sort((x, y) => y.createdAt.localeCompare(x.createdAt)),
      one: async (id) => {
        reads.push(id);
        return folders.get(id) ?? null;
      },
      ids: async () => [...folders.keys()],
      announce: (runs) => announced.push(runs.map((r) => `${r.id}:${r.status}`)),
    });
    await list.announce();
    expect(announced).toEqual([['c:running', 'b:scored', 'a:scored']]);

    // Nothing touched: only the live run is read, and nothing changed, so nothing is announced.
    await list.announce();
    expect(reads).toEqual(['c']);
    expect(announced).toHaveLength(1);

    reads.length = 0;
    folders.set('a', run('a', '2026-01-01', 'failed'));
    folders.delete('b');
    folders.set('d', run('d', '2026-01-02'));
    for (const id of ['a', 'b', 'd']) list.touch(id);
    await list.announce();
    expect(reads.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(announced.at(-1)).toEqual(['c:running', 'd:scored', 'a:failed']);

    // A full announcement reads every run (what other processes did shows), and says nothing when nothing changed.
    await list.announce({ full: true });
    expect(announced).toHaveLength(2);

    // A folder another process made (a bundle the CLI imported) or removed shows without being touched here.
    reads.length = 0;
    folders.set('e', run('e', '2026-01-05'));
    folders.delete('d');
    await list.announce();
    expect(reads.sort()).toEqual(['c', 'd', 'e']);
    expect(announced.at(-1)).toEqual(['e:scored', 'c:running', 'a:failed']);
  });
});
