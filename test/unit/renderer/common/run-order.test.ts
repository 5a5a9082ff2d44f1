import { describe, expect, it } from 'vitest';
import { formatTimestamp, sortRunsNewestFirst } from '../../../../src/renderer/common/run-order';
import type { RunSummary } from '../../../../src/shared/contract';

const run = (id: string, createdAt: string): RunSummary => ({
  id,
  label: id,
  host: 'gpu1',
  status: 'scored',
  createdAt,
  task: '',
  agent: '',
});

describe('sortRunsNewestFirst', () => {
  it('puts the newest first and unparseable dates last, by id', () => {
    const runs = [
      run('b', 'garbage'),
      run('old', '2026-01-01T00:00:00Z'),
      run('a', ''),
      run('new', '2026-02-01T00:00:00Z'),
    ];
    expect(sortRunsNewestFirst(runs).map((r) => r.id)).toEqual(['new', 'old', 'a', 'b']);
  });

  it('orders equal times by id and does not mutate its input', () => {
    const runs = [run('z', '2026-01-01T00:00:00Z'), run('y', '2026-01-01T00:00:00Z')];
    expect(sortRunsNewestFirst(runs).map((r) => r.id)).toEqual(['y', 'z']);
    expect(runs.map((r) => r.id)).toEqual(['z', 'y']);
  });
});

describe('formatTimestamp', () => {
  const utc = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

  it('formats a valid timestamp', () => {
    expect(formatTimestamp('2026-03-04T05:06:00Z', utc)).toBe('4 Mar 2026, 05:06');
  });

  it('shows text that is not a date as it came', () => {
    expect(formatTimestamp('sometime', utc)).toBe('sometime');
  });
});
