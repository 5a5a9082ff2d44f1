import { describe, expect, it } from 'vitest';
import { gpuIdleStatus } from '../../../../src/shared/monitor/gpu-idle';
import type { GpuCsvSample } from '../../../../src/shared/runs/gpu-csv';

const T0 = Date.parse('2026-11-23T12:00:00Z');
const MIN = 60_000;
const settings = { idleMinutes: 10, idleThresholdPct: 5 };

/** One tick per `stepMs` for `gpus` GPUs, utilisation `f(tick, gpu)`. */
function ticks(count: number, f: (i: number, gpu: number) => number | null, gpus = 1, stepMs = 1000): GpuCsvSample[] {
  const out: GpuCsvSample[] = [];
  for (let i = 0; i < count; i++) {
    for (let g = 0; g < gpus; g++) {
      out.push({
        t: T0 + i * stepMs,
        index: g,
        utilizationGpuPct: f(i, g),
        memoryUsedMiB: 0,
        memoryTotalMiB: 81559,
        powerDrawW: 70,
        temperatureC: 30,
      });
    }
  }
  return out;
}

function at(samples: GpuCsvSample[]): number {
  return samples[samples.length - 1]!.t + 500;
}

describe('gpuIdleStatus', () => {
  it('alerts after N quiet minutes on every GPU while the budget runs', () => {
    // 5 busy minutes, then 11 quiet ones (one tick every 10 s keeps the test small).
    const samples = ticks(96, (i) => (i < 30 ? 90 : 1), 2, 10_000);
    const status = gpuIdleStatus({ samples, budgetRunning: true, startedAt: T0, hostNow: at(samples), settings });
    expect(status.idle).toBe(true);
    expect(status.since).toBe(T0 + 30 * 10_000);
    expect(status.quietMs).toBe(65 * 10_000);
  });

  it('does not alert before N minutes, and reports the quiet stretch so far', () => {
    const samples = ticks(60, (i) => (i < 30 ? 90 : 0), 1, 10_000);
    const status = gpuIdleStatus({ samples, budgetRunning: true, startedAt: T0, hostNow: at(samples), settings });
    expect(status).toEqual({ idle: false, since: T0 + 300_000, quietMs: 290_000 });
  });

  it('counts a stretch as quiet only if all GPUs are under the threshold', () => {
    const samples = ticks(90, (_i, gpu) => (gpu === 1 ? 50 : 0), 2, 10_000);
    const status = gpuIdleStatus({ samples, budgetRunning: true, startedAt: T0, hostNow: at(samples), settings });
    expect(status).toEqual({ idle: false, since: null, quietMs: 0 });
  });

  it('does not alert when the budget is not running (stopped, evaluating)', () => {
    const samples = ticks(90, () => 0, 1, 10_000);
    const status = gpuIdleStatus({ samples, budgetRunning: false, startedAt: T0, hostNow: at(samples), settings });
    expect(status.idle).toBe(false);
    expect(status.quietMs).toBe(890_000);
  });

  it('says nothing when the samples are stale (sampling or the sync stopped)', () => {
    const samples = ticks(90, () => 0, 1, 10_000);
    const later = at(samples) + 5 * MIN;
    expect(gpuIdleStatus({ samples, budgetRunning: true, startedAt: T0, hostNow: later, settings }).idle).toBe(false);
  });

  it('treats an unreadable utilisation ([N/A]) as not known to be quiet', () => {
    const samples = ticks(90, (i) => (i === 80 ? null : 0), 1, 10_000);
    const status = gpuIdleStatus({ samples, budgetRunning: true, startedAt: T0, hostNow: at(samples), settings });
    expect(status.since).toBe(T0 + 810_000);
    expect(status.idle).toBe(false);
  });

  it('ignores quiet time before the agent started, and follows the preference', () => {
    const samples = ticks(90, () => 0, 1, 10_000);
    const startedAt = T0 + 600_000;
    const status = gpuIdleStatus({ samples, budgetRunning: true, startedAt, hostNow: at(samples), settings });
    expect(status).toEqual({ idle: false, since: startedAt, quietMs: 290_000 });
    const short = { idleMinutes: 4, idleThresholdPct: 5 };
    expect(gpuIdleStatus({ samples, budgetRunning: true, startedAt, hostNow: at(samples), settings: short }).idle).toBe(
      true,
    );
  });

  it('is not idle with no samples', () => {
    expect(gpuIdleStatus({ samples: [], budgetRunning: true, startedAt: T0, hostNow: T0, settings }).idle).toBe(false);
  });
});
