import { describe, expect, it } from 'vitest';
import type { GpuColumns, RunGpuSeries } from '../../../../src/shared/contract-monitor';
import { chartSeries, lastValue, memoryCeilingMiB } from '../../../../src/renderer/monitor/gpu-chart-data';

function columns(t: number[], util: Array<number | null>): GpuColumns {
  return {
    t,
    utilizationPct: util,
    memoryUsedMiB: util.map((u) => (u === null ? null : u * 1024)),
    memoryTotalMiB: t.map(() => 81559),
    powerW: util,
    temperatureC: util,
  };
}

describe('chartSeries', () => {
  it('aligns the GPUs on the union of their times, in seconds, with gaps where one has no row', () => {
    const gpus: RunGpuSeries['gpus'] = [
      { index: 0, whole: columns([1000, 2000, 3000], [10, 20, 30]), tail: columns([3000], [30]) },
      { index: 1, whole: columns([2000, 4000], [50, null]), tail: columns([], []) },
    ];
    const series = chartSeries(gpus, 'utilizationPct', 'whole');
    expect(series.labels).toEqual(['GPU 0', 'GPU 1']);
    expect(series.aligned).toEqual([
      [1, 2, 3, 4],
      [10, 20, 30, null],
      [null, 50, null, null],
    ]);
    expect(lastValue(series, 1)).toBe(30);
    expect(lastValue(series, 2)).toBe(50);
    expect(chartSeries(gpus, 'memoryUsedMiB', 'tail', (v) => v / 1024).aligned).toEqual([[3], [30], [null]]);
    expect(memoryCeilingMiB(gpus)).toBe(81559);
    expect(memoryCeilingMiB([])).toBeNull();
  });
});
