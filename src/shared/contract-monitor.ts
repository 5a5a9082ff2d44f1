import { z } from 'zod';
import { RUN_NOTIFICATION_KINDS } from './monitor/run-notifications';

/**
 * Live monitoring of runs: GPU samples, budget, notifications (issue 5).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 */

const runId = z.string().min(1);
const value = z.number().nullable();

/** One GPU's samples, column by column (uPlot's data layout); null where nvidia-smi said `[N/A]`, or a gap. */
export const gpuColumnsSchema = z.object({
  /** Epoch ms on the host's clock. */
  t: z.array(z.number()),
  utilizationPct: z.array(value),
  memoryUsedMiB: z.array(value),
  memoryTotalMiB: z.array(value),
  powerW: z.array(value),
  temperatureC: z.array(value),
});
export type GpuColumns = z.infer<typeof gpuColumnsSchema>;

/** Whether the run's GPUs have been quiet (utilisation under the threshold on all of them) while the budget runs. */
export const gpuIdleStatusSchema = z.object({
  /** Quiet for longer than the preference allows while the agent's budget runs: alert. */
  idle: z.boolean(),
  /** When the current quiet stretch began (host clock), null when the GPUs are busy or nothing is known. */
  since: z.number().nullable(),
  /** How long the current quiet stretch has lasted, up to the latest sample. */
  quietMs: z.number(),
});
export type GpuIdleStatus = z.infer<typeof gpuIdleStatusSchema>;

export const gpuLatestSchema = z.object({
  index: z.number().int(),
  utilizationPct: value,
  memoryUsedMiB: value,
  memoryTotalMiB: value,
  powerW: value,
  temperatureC: value,
});
export type GpuLatest = z.infer<typeof gpuLatestSchema>;

/** `available`: samples arrive; `unavailable`: the supervisor said nvidia-smi failed; `none`: nothing recorded. */
export const gpuSamplingSchema = z.enum(['available', 'unavailable', 'none']);

/** What the run list and the run view show at a glance for one run; recomputed as its record grows. */
export const runMonitorSchema = z.object({
  id: z.string(),
  /** Host clock minus this machine's, from the last sync: the countdown reads the deadline on the host's clock. */
  hostClockOffsetMs: z.number().nullable(),
  /** events.jsonl lines so far and the time of the last one: a view holding older events reloads. */
  eventCount: z.number().int().nonnegative(),
  lastEventAt: z.number().nullable(),
  /** The budget warnings the supervisor wrote into the agent's terminal. */
  warnings: z.array(z.object({ t: z.number(), secondsLeft: z.number() })),
  gpuSampling: gpuSamplingSchema,
  /** Why sampling is unavailable (the supervisor's `gpu-sampling` event). */
  gpuSamplingError: z.string().nullable(),
  /** The latest sample of each GPU, with its time. */
  latest: z.object({ t: z.number(), gpus: z.array(gpuLatestSchema) }).nullable(),
  /** Mean utilisation over the run's GPUs across the whole run, in equal time buckets (null: no sample there). */
  spark: z.array(value),
  idle: gpuIdleStatusSchema,
});
export type RunMonitor = z.infer<typeof runMonitorSchema>;

export const monitorSettingsSchema = z.object({
  /** Alert once the GPUs have been quiet this long while the budget runs. */
  idleMinutes: z
    .number()
    .min(1)
    .max(24 * 60),
  /** Utilisation under this (on every GPU of the run) counts as quiet. */
  idleThresholdPct: z.number().min(0).max(100),
});
export type MonitorSettings = z.infer<typeof monitorSettingsSchema>;

export const DEFAULT_MONITOR_SETTINGS: MonitorSettings = { idleMinutes: 10, idleThresholdPct: 5 };

export const runGpuSeriesSchema = z.object({
  id: z.string(),
  /** Samples in gpu.csv (all GPUs), and lines that could not be read (skipped, named in `problems`). */
  sampleCount: z.number().int().nonnegative(),
  problems: z.array(z.object({ line: z.number(), message: z.string() })),
  gpus: z.array(
    z.object({
      index: z.number().int(),
      /** The whole run, at most `maxPoints` points (min/max buckets keep the peaks), plus null rows at gaps. */
      whole: gpuColumnsSchema,
      /** Every 1 Hz sample of the last `tailSeconds` before the latest one. */
      tail: gpuColumnsSchema,
    }),
  ),
  monitor: runMonitorSchema,
});
export type RunGpuSeries = z.infer<typeof runGpuSeriesSchema>;

export const gpuProcessesSchema = z.object({
  /** False when the host could not say (no nvidia-smi, `[Not Supported]`, an error): `reason` says why. */
  available: z.boolean(),
  reason: z.string().nullable(),
  /** When the host answered (this machine's clock). */
  at: z.number(),
  processes: z.array(
    z.object({
      gpuIndex: z.number().int().nullable(),
      gpuUuid: z.string(),
      pid: z.number().int(),
      name: z.string(),
      usedMemoryMiB: value,
    }),
  ),
});
export type GpuProcesses = z.infer<typeof gpuProcessesSchema>;

/** A desktop notification as the renderer decided it (`runNotifications`); the desktop app shows it natively. */
export const runNotificationSchema = z
  .object({
    key: z.string().min(1).max(500),
    kind: z.enum(RUN_NOTIFICATION_KINDS),
    runId,
    title: z.string().max(500),
    body: z.string().max(2_000),
  })
  .strict();

export const monitorCommands = {
  /** A run's GPU samples from its local mirror: the whole run downsampled, and the latest seconds at 1 Hz. */
  'monitor.gpu': {
    input: z
      .object({
        id: runId,
        maxPoints: z.number().int().min(16).max(20_000).default(1_200),
        tailSeconds: z.number().int().min(10).max(3_600).default(120),
      })
      .strict(),
    output: runGpuSeriesSchema,
  },
  /** Per-process GPU memory on the run's host now (`nvidia-smi --query-compute-apps`), where the host reports it. */
  'monitor.gpuProcesses': { input: z.object({ id: runId }).strict(), output: gpuProcessesSchema },
  /** At-a-glance facts of every run (also pushed as `monitor.changed`). */
  'monitor.overview': { input: z.object({}).strict(), output: z.array(runMonitorSchema) },
  'monitor.getSettings': { input: z.object({}).strict(), output: monitorSettingsSchema },
  'monitor.setSettings': { input: monitorSettingsSchema.partial().strict(), output: monitorSettingsSchema },
  /**
   * Shows a notification with the desktop's own API (Electron's `Notification` in the app; `shown: false` where there
   * is none, e.g. `ptw serve`, whose page uses the browser's). One per key, however many windows ask.
   */
  'monitor.notify': { input: runNotificationSchema, output: z.object({ shown: z.boolean() }) },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const monitorEvents = {
  /** Every run's at-a-glance facts, sent when any of them changes (each second while a run samples its GPUs). */
  'monitor.changed': z.array(runMonitorSchema),
  'monitor.settingsChanged': monitorSettingsSchema,
  /** A desktop notification shown by `monitor.notify` was clicked: to the window that asked for it. */
  'monitor.notificationClicked': z.object({ key: z.string(), runId }),
} as const satisfies Record<string, z.ZodType>;
