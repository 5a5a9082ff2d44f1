import type { GpuIdleStatus, MonitorSettings } from '../contract-monitor';
import type { GpuCsvSample } from '../runs/gpu-csv';

/**
 * GPU idle detection: the run's GPUs have all been under the utilisation threshold for longer than the preference
 * allows while the agent's budget runs. Ten quiet minutes of a ten-hour budget on a rented H100 is what a
 * researcher wants to hear about (the agent is stuck, waiting on a download, or training on the CPU).
 */

export interface GpuIdleInput {
  /** gpu.csv samples of the run's GPUs (all GPUs of one tick share its timestamp), in time order. */
  readonly samples: readonly GpuCsvSample[];
  /** The agent is running and its budget counting (not stopped, not evaluating). */
  readonly budgetRunning: boolean;
  /** When the agent started (host clock): quiet time before it does not count. */
  readonly startedAt: number | null;
  /** Now on the host's clock. */
  readonly hostNow: number;
  readonly settings: MonitorSettings;
  /** Samples older than this say nothing about now (sampling stopped): no alert. Default 30 s. */
  readonly staleAfterMs?: number;
}

export const NOT_IDLE: GpuIdleStatus = { idle: false, since: null, quietMs: 0 };

/**
 * Walks back from the latest sample while every GPU of each tick is under the threshold. A tick with a GPU at or
 * above it, or one whose utilisation nvidia-smi could not report, ends the quiet stretch: only known quiet counts.
 */
export function gpuIdleStatus(input: GpuIdleInput): GpuIdleStatus {
  const { samples, settings } = input;
  const last = samples[samples.length - 1];
  if (!last) return NOT_IDLE;
  const staleAfterMs = input.staleAfterMs ?? 30_000;
  if (input.hostNow - last.t > staleAfterMs) return NOT_IDLE;
  const floor = input.startedAt ?? -Infinity;
  let since: number | null = null;
  let i = samples.length - 1;
  while (i >= 0) {
    const t = samples[i]!.t;
    if (t < floor) break;
    let quiet = true;
    let j = i;
    // One tick: the rows sharing this timestamp (one per GPU).
    while (j >= 0 && samples[j]!.t === t) {
      const util = samples[j]!.utilizationGpuPct;
      if (util === null || util >= settings.idleThresholdPct) quiet = false;
      j--;
    }
    if (!quiet) break;
    since = t;
    i = j;
  }
  if (since === null) return NOT_IDLE;
  const quietMs = last.t - since;
  return { idle: input.budgetRunning && quietMs >= settings.idleMinutes * 60_000, since, quietMs };
}
