import type { GpuColumns, RunGpuSeries } from '../../shared/contract-monitor';

/**
 * What a chart draws: x in epoch seconds (uPlot's time scale) and one y column per GPU, aligned on the union of
 * their times (a GPU without a row at some time gets null there, which uPlot leaves as a gap).
 */
export interface ChartSeries {
  readonly labels: readonly string[];
  readonly aligned: ReadonlyArray<ReadonlyArray<number | null>>;
}

export type ChartMetric = 'utilizationPct' | 'memoryUsedMiB' | 'powerW' | 'temperatureC';

export function chartSeries(
  gpus: RunGpuSeries['gpus'],
  metric: ChartMetric,
  window: 'whole' | 'tail',
  scale: (v: number) => number = (v) => v,
): ChartSeries {
  const labels = gpus.map((g) => `GPU ${g.index}`);
  const columns: GpuColumns[] = gpus.map((g) => g[window]);
  const times = [...new Set(columns.flatMap((c) => c.t))].sort((a, b) => a - b);
  const rowOf = new Map(times.map((t, i) => [t, i]));
  const ys = columns.map((c) => {
    const y = new Array<number | null>(times.length).fill(null);
    c.t.forEach((t, i) => {
      const v = c[metric][i];
      y[rowOf.get(t)!] = v === null || v === undefined ? null : scale(v);
    });
    return y;
  });
  return { labels, aligned: [times.map((t) => t / 1000), ...ys] };
}

/** The last non-null value of column `column` (1-based: 0 is x), or null. */
export function lastValue(series: ChartSeries, column: number): number | null {
  const values = series.aligned[column];
  if (!values) return null;
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

/** The largest memory.total of any GPU (the memory chart's ceiling), in MiB. */
export function memoryCeilingMiB(gpus: RunGpuSeries['gpus']): number | null {
  let max: number | null = null;
  for (const g of gpus) {
    for (const v of g.whole.memoryTotalMiB) if (v !== null && (max === null || v > max)) max = v;
  }
  return max;
}
