import { describe, expect, it } from 'vitest';
import {
  downsampleGpu,
  latestSamples,
  samplesByGpu,
  tailColumns,
  utilizationSparkline,
} from '../../../../src/shared/monitor/gpu-series';
import type { GpuCsvSample } from '../../../../src/shared/runs/gpu-csv';

const T0 = Date.parse('2026-11-23T12:00:00Z');

function sample(t: number, util: number | null, index = 0, extra: Partial<GpuCsvSample> = {}): GpuCsvSample {
  return {
    t,
    index,
    utilizationGpuPct: util,
    memoryUsedMiB: util === null ? null : util * 100,
    memoryTotalMiB: 81559,
    powerDrawW: util === null ? null : 70 + util * 6,
    temperatureC: 40,
    ...extra,
  };
}

/** `n` seconds of 1 Hz samples from T0 with utilisation `f(i)`. */
function seconds(n: number, f: (i: number) => number | null, index = 0): GpuCsvSample[] {
  return Array.from({ length: n }, (_, i) => sample(T0 + i * 1000, f(i), index));
}

describe('downsampleGpu', () => {
  it('returns short series as they are', () => {
    const out = downsampleGpu(
      seconds(5, (i) => i * 10),
      100,
    );
    expect(out.t).toEqual([T0, T0 + 1000, T0 + 2000, T0 + 3000, T0 + 4000]);
    expect(out.utilizationPct).toEqual([0, 10, 20, 30, 40]);
    expect(out.memoryTotalMiB).toEqual([81559, 81559, 81559, 81559, 81559]);
  });

  it('keeps a one-second spike and a one-second dip in ten hours, within maxPoints', () => {
    const spikeAt = 12_345;
    const dipAt = 30_000;
    const samples = seconds(36_000, (i) => (i === spikeAt ? 100 : i === dipAt ? 0 : 50));
    const out = downsampleGpu(samples, 600);
    expect(out.t.length).toBeLessThanOrEqual(600);
    expect(Math.max(...(out.utilizationPct as number[]))).toBe(100);
    expect(Math.min(...(out.utilizationPct as number[]))).toBe(0);
    expect(out.powerW).toContain(70 + 100 * 6);
    // Times stay in order and inside the run.
    for (let i = 1; i < out.t.length; i++) expect(out.t[i]!).toBeGreaterThanOrEqual(out.t[i - 1]!);
    expect(out.t[0]).toBe(T0);
    expect(out.t[out.t.length - 1]).toBe(T0 + 35_999_000);
  });

  it('puts each bucket’s extremes in the order they happened', () => {
    // Two buckets of four: a falling one, then a rising one.
    const samples = seconds(8, (i) => [90, 60, 30, 10, 10, 30, 60, 90][i]!);
    const out = downsampleGpu(samples, 4);
    expect(out.utilizationPct).toEqual([90, 10, 10, 90]);
    expect(out.t).toEqual([T0, T0 + 3000, T0 + 4000, T0 + 7000]);
  });

  it('breaks the line where sampling paused, in raw and in downsampled series', () => {
    const samples = [...seconds(3, () => 40), ...seconds(3, () => 40).map((s) => ({ ...s, t: s.t + 60_000 }))];
    const raw = downsampleGpu(samples, 100);
    expect(raw.utilizationPct).toEqual([40, 40, 40, null, 40, 40, 40]);
    const long = [...seconds(1_000, () => 40), ...seconds(1_000, () => 40).map((s) => ({ ...s, t: s.t + 3_600_000 }))];
    const reduced = downsampleGpu(long, 100);
    expect(reduced.utilizationPct.filter((v) => v === null)).toHaveLength(1);
  });

  it('ignores [N/A] values for the extremes and keeps an all-[N/A] bucket null', () => {
    const samples = seconds(8, (i) => (i < 4 ? null : i));
    const out = downsampleGpu(samples, 4);
    expect(out.utilizationPct).toEqual([null, null, 4, 7]);
    expect(out.memoryTotalMiB).toEqual([81559, 81559, 81559, 81559]);
  });
});

describe('samplesByGpu, tailColumns, latestSamples', () => {
  const two = seconds(10, (i) => i).flatMap((s) => [s, { ...s, index: 1, utilizationGpuPct: 99 }]);

  it('splits the samples per GPU', () => {
    const byGpu = samplesByGpu(two);
    expect([...byGpu.keys()]).toEqual([0, 1]);
    expect(byGpu.get(1)?.every((s) => s.utilizationGpuPct === 99)).toBe(true);
  });

  it('keeps every sample of the last seconds', () => {
    const tail = tailColumns(samplesByGpu(two).get(0)!, 3_000);
    expect(tail.t).toEqual([T0 + 6000, T0 + 7000, T0 + 8000, T0 + 9000]);
    expect(tail.utilizationPct).toEqual([6, 7, 8, 9]);
  });

  it('gives each GPU’s latest sample', () => {
    expect(latestSamples(two)).toEqual({
      t: T0 + 9000,
      gpus: [
        expect.objectContaining({ index: 0, utilizationPct: 9 }),
        expect.objectContaining({ index: 1, utilizationPct: 99 }),
      ],
    });
    expect(latestSamples([])).toBeNull();
  });
});

describe('utilizationSparkline', () => {
  it('averages all GPUs in equal time buckets over the given range, null where nothing was sampled', () => {
    const samples = [
      ...seconds(10, () => 100),
      ...seconds(10, () => 0, 1),
      ...seconds(10, () => 20).map((s) => ({ ...s, t: s.t + 20_000 })),
    ];
    const spark = utilizationSparkline(samples, 4, { from: T0, to: T0 + 40_000 });
    expect(spark).toEqual([50, null, 20, null]);
  });

  it('uses wider buckets early in a run, so 1 Hz samples leave none empty', () => {
    const spark = utilizationSparkline(
      seconds(11, () => 100),
      40,
      { from: T0, to: T0 + 10_000 },
    );
    expect(spark).toEqual([100, 100, 100]);
  });

  it('is empty without utilisation values', () => {
    expect(
      utilizationSparkline(
        seconds(3, () => null),
        10,
      ),
    ).toEqual([]);
  });
});
