import { describe, expect, it } from 'vitest';
import type { QueueStatus } from '../../../../src/main/experiments/host-queue';
import { planRebalance, type RebalanceHost } from '../../../../src/main/experiments/rebalance';
import {
  followMoves,
  rebalanceHosts,
  STRAY_AFTER_MS,
  strayReplacements,
  type MovableRecord,
} from '../../../../src/main/experiments/rebalancer';

// The rebalancing decision (which queued runs move where) and following a moved run to its new host, on the shapes
// `dispatch --status --gpus` prints. Moving them on real hosts is test/integration/experiment-rebalance.test.ts.

const host = (name: string, over: Partial<RebalanceHost> = {}): RebalanceHost => ({
  name,
  reachable: true,
  paused: false,
  freeGpus: 0,
  pending: 0,
  movable: [],
  ...over,
});
const cells = (...ids: string[]) => ids.map((id) => ({ key: `k-${id}`, entryId: id }));

describe('planRebalance', () => {
  it('moves the back of a backed-up queue to a host with free GPUs and nothing queued, as many as it has free', () => {
    const moves = planRebalance(
      [host('a', { pending: 4, freeGpus: 1, movable: cells('1', '2', '3', '4') }), host('b', { freeGpus: 2 })],
      1,
    );
    expect(moves).toEqual([
      { key: 'k-4', entryId: '4', from: 'a', to: 'b' },
      { key: 'k-3', entryId: '3', from: 'a', to: 'b' },
    ]);
  });

  it('moves nothing that its own host will start now', () => {
    expect(
      planRebalance([host('a', { pending: 2, freeGpus: 2, movable: cells('1', '2') }), host('b', { freeGpus: 4 })], 1),
    ).toEqual([]);
    // Another experiment's runs ahead in the queue take a's free GPU first: only what waits beyond it moves.
    expect(
      planRebalance([host('a', { pending: 3, freeGpus: 1, movable: cells('9') }), host('b', { freeGpus: 1 })], 1),
    ).toEqual([{ key: 'k-9', entryId: '9', from: 'a', to: 'b' }]);
  });

  it('never sends to a host with a queue, a pause or no free GPU, nor takes from or sends to one that did not answer', () => {
    const backed = host('a', { pending: 3, freeGpus: 0, movable: cells('1', '2', '3') });
    expect(planRebalance([backed, host('b', { freeGpus: 2, pending: 1 })], 1)).toEqual([]);
    expect(planRebalance([backed, host('b', { freeGpus: 2, paused: true })], 1)).toEqual([]);
    expect(planRebalance([backed, host('b', { freeGpus: 0 })], 1)).toEqual([]);
    expect(planRebalance([backed, host('b', { freeGpus: 2, reachable: false })], 1)).toEqual([]);
    expect(planRebalance([{ ...backed, reachable: false }, host('b', { freeGpus: 2 })], 1)).toEqual([]);
  });

  it('empties a paused host onto free ones, spreading over the targets, in whole runs of gpusPerRun', () => {
    const moves = planRebalance(
      [
        host('a', { pending: 3, freeGpus: 4, paused: true, movable: cells('1', '2', '3') }),
        host('b', { freeGpus: 2 }),
        host('c', { freeGpus: 3 }),
      ],
      2,
    );
    // b and c take one 2-GPU run each (c's third GPU is no whole run); the third run waits on a.
    expect(moves.map((m) => [m.entryId, m.to])).toEqual([
      ['3', 'b'],
      ['2', 'c'],
    ]);
  });

  it('takes from the most backed-up host first', () => {
    const moves = planRebalance(
      [
        host('a', { pending: 2, movable: cells('a1', 'a2') }),
        host('b', { pending: 4, movable: cells('b1', 'b2', 'b3', 'b4') }),
        host('c', { freeGpus: 3 }),
      ],
      1,
    );
    expect(moves.map((m) => m.entryId)).toEqual(['b4', 'b3', 'a2']);
  });
});

const entry = (id: string, state: QueueStatus['entries'][number]['state'], extra: object = {}) => ({
  id,
  state,
  attempts: [],
  ...extra,
});
const status = (entries: QueueStatus['entries'], gpus?: QueueStatus['gpus']): QueueStatus => ({
  now: 0,
  root: '/r',
  paused: null,
  entries,
  ...(gpus ? { gpus } : {}),
});

describe('followMoves and rebalanceHosts', () => {
  it("follows a moved run through its hosts' pointers, adds the new hosts, and lists a replacement still held", () => {
    const record: MovableRecord = {
      hosts: { a: { runRoot: '/ra' } },
      cells: [
        { key: 'k1', host: 'a', entryId: 'x' },
        { key: 'k2', host: 'a', entryId: 'y' },
      ],
    };
    const statuses = new Map([
      [
        'a',
        status([
          entry('x', 'moved', { movedTo: { host: 'b', entryId: 'x2', runRoot: '/rb' } }),
          entry('y', 'moved', { movedTo: null }), // its mover died before the pointer: it stays until a pass finishes it
        ]),
      ],
      ['b', status([entry('x2', 'moved', { movedTo: { host: 'c', entryId: 'x3', runRoot: '/rc' } })])],
      ['c', status([entry('x3', 'held')])],
    ]);
    const now = new Date('2026-12-07T12:00:00Z');
    const { changed, held } = followMoves(record, statuses, now);
    expect(changed).toBe(true);
    expect(record.cells[0]).toEqual({
      key: 'k1',
      host: 'c',
      entryId: 'x3',
      moves: [
        { from: 'a', fromEntryId: 'x', to: 'b', at: now.toISOString() },
        { from: 'b', fromEntryId: 'x2', to: 'c', at: now.toISOString() },
      ],
    });
    expect(record.cells[1]).toEqual({ key: 'k2', host: 'a', entryId: 'y' });
    expect(record.hosts).toEqual({ a: { runRoot: '/ra' }, b: { runRoot: '/rb' }, c: { runRoot: '/rc' } });
    expect(held).toEqual([{ host: 'c', runRoot: '/rc', entryId: 'x3' }]);
    expect(followMoves(record, statuses, now).changed).toBe(false);
  });

  it("counts every experiment's queued (and arriving) runs but offers only this one's never-started ones, in order", () => {
    const record: MovableRecord = {
      hosts: { a: { runRoot: '/ra' } },
      cells: [
        { key: 'late', host: 'a', entryId: 'l' },
        { key: 'early', host: 'a', entryId: 'e' },
        { key: 'retry', host: 'a', entryId: 'r' },
        { key: 'running', host: 'a', entryId: 's' },
      ],
    };
    const a = status(
      [
        entry('l', 'pending', { enqueuedAt: 5 }),
        entry('e', 'pending', { enqueuedAt: 1 }),
        entry('r', 'pending', { enqueuedAt: 0, attempts: [{ runId: 'r' }] }),
        entry('s', 'started'),
        entry('other-experiment', 'pending', { enqueuedAt: 3, priority: 9 }),
        entry('arriving', 'held'),
      ],
      { free: [0], total: 2, error: null },
    );
    const down = status([], { free: [], total: 0, error: 'nvidia-smi is not on the PATH' });
    const hosts = rebalanceHosts(
      record,
      new Map([
        ['a', a],
        ['b', down],
        ['c', null],
      ]),
    );
    expect(hosts).toEqual([
      {
        name: 'a',
        reachable: true,
        paused: false,
        freeGpus: 1,
        pending: 5,
        movable: [
          { key: 'early', entryId: 'e' },
          { key: 'late', entryId: 'l' },
        ],
      },
      { name: 'b', reachable: false, paused: false, freeGpus: 0, pending: 0, movable: [] },
      { name: 'c', reachable: false, paused: false, freeGpus: 0, pending: 0, movable: [] },
    ]);
  });

  it('drops only old held replacements of this experiment that no cell leads to, and only when every host answered', () => {
    const record: MovableRecord = {
      hosts: { a: { runRoot: '/ra' }, b: { runRoot: '/rb' } },
      cells: [{ key: 'k1', host: 'b', entryId: 'named' }],
    };
    const now = 100 * STRAY_AFTER_MS;
    const old = now - STRAY_AFTER_MS - 1;
    const b = status([
      entry('named', 'held', { experimentId: 'exp-1', enqueuedAt: old }), // a cell's place: activated, never dropped
      entry('left', 'held', { experimentId: 'exp-1', enqueuedAt: old }),
      entry('in-flight', 'held', { experimentId: 'exp-1', enqueuedAt: now - 1_000 }), // another instance's move
      entry('other', 'held', { experimentId: 'exp-2', enqueuedAt: old }),
    ]);
    const a = status([entry('x', 'moved', { movedTo: { host: 'b', entryId: 'named', runRoot: '/rb' } })]);
    const statuses = new Map([
      ['a', a],
      ['b', b],
    ]);
    expect(strayReplacements(record, 'exp-1', statuses, now)).toEqual([{ host: 'b', runRoot: '/rb', entryId: 'left' }]);
    expect(strayReplacements(record, 'exp-1', new Map([...statuses, ['c', null]]), now)).toEqual([]);
  });
});
