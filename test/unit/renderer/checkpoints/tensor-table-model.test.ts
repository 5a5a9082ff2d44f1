import { describe, expect, it } from 'vitest';
import type { TensorDiff } from '../../../../src/shared/contract-checkpoints';
import { formatStat, heatColour, nextSort, sortTensors } from '../../../../src/renderer/checkpoints/tensor-table-model';

const row = (name: string, relChange: number | null, status: TensorDiff['status'] = 'changed'): TensorDiff => ({
  name,
  status,
  dtypeA: 'BF16',
  dtypeB: 'BF16',
  shapeA: [2],
  shapeB: [2],
  numel: 2,
  l2Delta: relChange,
  l2A: 1,
  relChange,
  cosine: relChange === null ? null : 1 - relChange,
  maxAbs: relChange,
  nonFinite: false,
});

describe('tensor table model', () => {
  it('sorts by a number either way, nulls last, ties by name', () => {
    const rows = [row('b', 0.1), row('a', null, 'added'), row('c', 0.5), row('d', 0.1)];
    expect(sortTensors(rows, { key: 'relChange', descending: true }).map((r) => r.name)).toEqual(['c', 'b', 'd', 'a']);
    expect(sortTensors(rows, { key: 'relChange', descending: false }).map((r) => r.name)).toEqual(['b', 'd', 'c', 'a']);
    expect(sortTensors(rows, { key: 'status', descending: false })[0]!.name).toBe('a');
  });

  it('flips the direction on the same column, starts numbers descending and names ascending', () => {
    expect(nextSort({ key: 'relChange', descending: true }, 'relChange')).toEqual({
      key: 'relChange',
      descending: false,
    });
    expect(nextSort({ key: 'relChange', descending: true }, 'name')).toEqual({ key: 'name', descending: false });
    expect(nextSort({ key: 'name', descending: false }, 'maxAbs')).toEqual({ key: 'maxAbs', descending: true });
  });

  it('formats numbers and colours the heatmap on a log scale', () => {
    expect(formatStat(null)).toBe('—');
    expect(formatStat(0)).toBe('0');
    expect(formatStat(0.123456)).toBe('0.123');
    expect(formatStat(1.5e-5)).toBe('1.50e-5');
    expect(heatColour(null, 1)).toMatch(/^rgba/);
    expect(heatColour(1, 1)).toBe('rgb(255, 35, 20)');
    expect(heatColour(1e-4, 1)).toBe('rgb(255, 235, 200)');
  });
});
