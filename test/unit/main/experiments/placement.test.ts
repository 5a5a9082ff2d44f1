import { describe, expect, it } from 'vitest';
import { splitByFreeGpus } from '../../../../src/main/experiments/placement';

const count = (hosts: string[]) => hosts.reduce<Record<string, number>>((m, h) => ({ ...m, [h]: (m[h] ?? 0) + 1 }), {});

describe('splitByFreeGpus', () => {
  it('shares the runs by free GPUs, spreading the first cells over every host', () => {
    const split = splitByFreeGpus(
      9,
      [
        { name: 'a', freeGpus: 2, totalGpus: 8 },
        { name: 'b', freeGpus: 1, totalGpus: 1 },
      ],
      1,
    );
    if (!split.ok) throw new Error(split.message);
    expect(count(split.hosts)).toEqual({ a: 6, b: 3 });
    expect(new Set(split.hosts.slice(0, 2))).toEqual(new Set(['a', 'b']));
  });

  it('leaves a host with no free GPU out while another has some, and uses all GPUs when none is free', () => {
    const busy = { name: 'busy', freeGpus: 0, totalGpus: 4 };
    const some = splitByFreeGpus(3, [busy, { name: 'idle', freeGpus: 1, totalGpus: 1 }], 1);
    expect(some).toEqual({ ok: true, hosts: ['idle', 'idle', 'idle'] });
    const none = splitByFreeGpus(5, [busy, { name: 'small', freeGpus: 0, totalGpus: 1 }], 1);
    if (!none.ok) throw new Error(none.message);
    expect(count(none.hosts)).toEqual({ busy: 4, small: 1 });
  });

  it('counts GPUs per run and refuses when no host has enough', () => {
    const split = splitByFreeGpus(
      2,
      [
        { name: 'a', freeGpus: 4, totalGpus: 4 },
        { name: 'b', freeGpus: 1, totalGpus: 1 },
      ],
      2,
    );
    expect(split).toEqual({ ok: true, hosts: ['a', 'a'] });
    const refused = splitByFreeGpus(1, [{ name: 'b', freeGpus: 1, totalGpus: 1 }], 2);
    expect(refused.ok).toBe(false);
    expect(refused.ok ? '' : refused.message).toMatch(/2 GPU\(s\) a run needs \(b: 1\)/);
  });
});
