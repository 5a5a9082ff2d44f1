import type { GpuColumns, GpuLatest } from '../contract-monitor';
import type { GpuCsvSample } from '../runs/gpu-csv';

/**
 * GPU samples (gpu.csv, one row per GPU per second) as per-GPU columns for charts: the whole run reduced to a
 * bounded number of points without losing its peaks, and the latest seconds as they are.
 */

type Metric = 'utilizationPct' | 'memoryUsedMiB' | 'memoryTotalMiB' | 'powerW' | 'temperatureC';
const METRICS: readonly Metric[] = ['utilizationPct', 'memoryUsedMiB', 'memoryTotalMiB', 'powerW', 'temperatureC'];

function metricOf(sample: GpuCsvSample, metric: Metric): number | null {
  switch (metric) {
    case 'utilizationPct':
      return sample.utilizationGpuPct;
    case 'memoryUsedMiB':
      return sample.memoryUsedMiB;
    case 'memoryTotalMiB':
      return sample.memoryTotalMiB;
    case 'powerW':
      return sample.powerDrawW;
    case 'temperatureC':
      return sample.temperatureC;
  }
}

/** A pause in sampling longer than this shows as a gap (the supervisor retries a failing nvidia-smi every 10 s). */
export const DEFAULT_GAP_MS = 15_000;

export function emptyColumns(): GpuColumns {
  return { t: [], utilizationPct: [], memoryUsedMiB: [], memoryTotalMiB: [], powerW: [], temperatureC: [] };
}

function pushRow(columns: GpuColumns, t: number, row: Record<Metric, number | null>): void {
  columns.t.push(t);
  for (const m of METRICS) columns[m].push(row[m]);
}

function gapRow(): Record<Metric, number | null> {
  return { utilizationPct: null, memoryUsedMiB: null, memoryTotalMiB: null, powerW: null, temperatureC: null };
}

function sampleRow(sample: GpuCsvSample): Record<Metric, number | null> {
  const row = gapRow();
  for (const m of METRICS) row[m] = metricOf(sample, m);
  return row;
}

/** The samples of each GPU, in time order (gpu.csv is in time order; a stable sort keeps it so if it is not). */
export function samplesByGpu(samples: readonly GpuCsvSample[]): Map<number, GpuCsvSample[]> {
  const byGpu = new Map<number, GpuCsvSample[]>();
  for (const s of samples) {
    const list = byGpu.get(s.index);
    if (list) list.push(s);
    else byGpu.set(s.index, [s]);
  }
  for (const list of byGpu.values()) {
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.t < list[i - 1]!.t) {
        list.sort((a, b) => a.t - b.t);
        break;
      }
    }
  }
  return new Map([...byGpu].sort((a, b) => a[0] - b[0]));
}

/**
 * One GPU's samples (time order) as columns of at most `maxPoints` rows, plus one null row per gap longer than
 * `gapMs` so a chart breaks the line there instead of drawing through it.
 *
 * Min/max buckets: the time span is cut into `maxPoints / 2` equal buckets; a bucket with several samples becomes
 * two rows, at its first and its last sample's time, holding for each metric its lowest and highest value in the
 * order they occurred. A one-second spike in ten hours survives, and so does a dip.
 */
export function downsampleGpu(
  samples: readonly GpuCsvSample[],
  maxPoints: number,
  gapMs: number = DEFAULT_GAP_MS,
): GpuColumns {
  const out = emptyColumns();
  if (samples.length === 0) return out;
  if (samples.length <= maxPoints) {
    samples.forEach((s, i) => {
      if (i > 0 && s.t - samples[i - 1]!.t > gapMs) pushRow(out, samples[i - 1]!.t + 1, gapRow());
      pushRow(out, s.t, sampleRow(s));
    });
    return out;
  }
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  const first = samples[0]!.t;
  const span = samples[samples.length - 1]!.t - first;
  const width = span / buckets;
  const bucketOf = (t: number): number => (width <= 0 ? 0 : Math.min(buckets - 1, Math.floor((t - first) / width)));

  let start = 0;
  let previousEnd: GpuCsvSample | null = null;
  while (start < samples.length) {
    const bucket = bucketOf(samples[start]!.t);
    let end = start + 1;
    while (end < samples.length && bucketOf(samples[end]!.t) === bucket) end++;
    const head = samples[start]!;
    const last = samples[end - 1]!;
    if (previousEnd && head.t - previousEnd.t > gapMs) pushRow(out, previousEnd.t + 1, gapRow());
    if (end - start === 1) {
      pushRow(out, head.t, sampleRow(head));
    } else {
      const a = gapRow();
      const b = gapRow();
      for (const m of METRICS) {
        let minAt = -1;
        let maxAt = -1;
        for (let i = start; i < end; i++) {
          const v = metricOf(samples[i]!, m);
          if (v === null) continue;
          if (minAt < 0 || v < metricOf(samples[minAt]!, m)!) minAt = i;
          if (maxAt < 0 || v > metricOf(samples[maxAt]!, m)!) maxAt = i;
        }
        if (minAt < 0) continue;
        const [earlier, later] = minAt <= maxAt ? [minAt, maxAt] : [maxAt, minAt];
        a[m] = metricOf(samples[earlier]!, m);
        b[m] = metricOf(samples[later]!, m);
      }
      pushRow(out, head.t, a);
      pushRow(out, last.t, b);
    }
    // A gap inside a bucket (the bucket is wider than the gap) also breaks the line.
    for (let i = start + 1; i < end; i++) {
      if (samples[i]!.t - samples[i - 1]!.t > gapMs) {
        // Placed just after the bucket's first row so the line breaks within it.
        const at = out.t.length - 1;
        out.t.splice(at, 0, samples[i - 1]!.t + 1);
        for (const m of METRICS) out[m].splice(at, 0, null);
        break;
      }
    }
    previousEnd = last;
    start = end;
  }
  return out;
}

/** The samples of the last `tailMs` before the latest one, every one of them (gaps broken as above). */
export function tailColumns(
  samples: readonly GpuCsvSample[],
  tailMs: number,
  gapMs: number = DEFAULT_GAP_MS,
): GpuColumns {
  const last = samples[samples.length - 1];
  if (!last) return emptyColumns();
  let from = samples.length - 1;
  while (from > 0 && samples[from - 1]!.t >= last.t - tailMs) from--;
  const slice = samples.slice(from);
  return downsampleGpu(slice, slice.length, gapMs);
}

/** Each GPU's latest sample, and the latest time any was taken. */
export function latestSamples(samples: readonly GpuCsvSample[]): { t: number; gpus: GpuLatest[] } | null {
  const byIndex = new Map<number, GpuCsvSample>();
  let t = -Infinity;
  for (const s of samples) {
    byIndex.set(s.index, s);
    if (s.t > t) t = s.t;
  }
  if (byIndex.size === 0) return null;
  const gpus = [...byIndex.values()]
    .sort((a, b) => a.index - b.index)
    .map((s) => ({
      index: s.index,
      utilizationPct: s.utilizationGpuPct,
      memoryUsedMiB: s.memoryUsedMiB,
      memoryTotalMiB: s.memoryTotalMiB,
      powerW: s.powerDrawW,
      temperatureC: s.temperatureC,
    }));
  return { t, gpus };
}

const MIN_SPARK_BUCKET_MS = 3_000;

/**
 * Mean utilisation over all GPUs, averaged in (at most) `buckets` equal time buckets from `from` to `to` (the run's start to
 * its latest sample): the run list's sparkline. A bucket without samples is null.
 */
export function utilizationSparkline(
  samples: readonly GpuCsvSample[],
  buckets: number,
  range?: { from: number; to: number },
): Array<number | null> {
  const valued = samples.filter((s) => s.utilizationGpuPct !== null);
  if (valued.length === 0 || buckets < 1) return [];
  const from = range?.from ?? valued[0]!.t;
  const to = Math.max(range?.to ?? valued[valued.length - 1]!.t, from);
  // Samples come once a second: a bucket narrower than a few seconds would often be empty early in a run.
  const count = Math.max(1, Math.min(buckets, Math.floor((to - from) / MIN_SPARK_BUCKET_MS)));
  const width = (to - from) / count;
  const sums = new Array<number>(count).fill(0);
  const counts = new Array<number>(count).fill(0);
  for (const s of valued) {
    if (s.t < from || s.t > to) continue;
    const b = width <= 0 ? count - 1 : Math.min(count - 1, Math.floor((s.t - from) / width));
    sums[b]! += s.utilizationGpuPct!;
    counts[b]! += 1;
  }
  return sums.map((sum, i) => (counts[i]! > 0 ? Math.round((sum / counts[i]!) * 10) / 10 : null));
}
