import path from 'node:path';
import {
  DEFAULT_MONITOR_SETTINGS,
  monitorSettingsSchema,
  type GpuProcesses,
  type MonitorSettings,
  type RunGpuSeries,
  type RunMonitor,
} from '../../shared/contract-monitor';
import { AppError } from '../../shared/errors';
import { gpuIdleStatus, NOT_IDLE } from '../../shared/monitor/gpu-idle';
import {
  downsampleGpu,
  latestSamples,
  samplesByGpu,
  tailColumns,
  utilizationSparkline,
} from '../../shared/monitor/gpu-series';
import { hostNow } from '../../shared/monitor/host-clock';
import { parseGpuCsv, type GpuCsvSample } from '../../shared/runs/gpu-csv';
import { isFinalRunStatus, type RunState } from '../../shared/runs/run-status';
import type { HostSession } from '../hosts/host-exec-types';
import { requireRunHost } from '../runs/run-host';
import { listMirrors, RunMirror } from '../runs/run-mirror';
import { readSettingsFile, writeJsonFileAtomic } from '../services/ptw-home';
import { TickLoop } from '../services/tick-loop';
import { gpuProcessesScript, parseGpuProcessesOutput } from './gpu-processes';
import { RecordTail } from './record-tail';

/**
 * Live monitoring from the local mirror (`PTW_HOME/runs/<id>/`, kept current by the run syncer): each run's GPU
 * samples and lifecycle events are read incrementally, and the at-a-glance facts (latest sample, utilisation
 * sparkline, idle alert, warnings, host clock offset) are pushed to every window as `monitor.changed`. Nothing here
 * talks to the host except `gpuProcesses`, which asks the host's nvidia-smi when a person looks at the GPU panel.
 */

export interface MonitorServiceOptions {
  home: string;
  /** A session on a host for background work (never prompts a person). */
  session(host: string): Promise<HostSession>;
  /** Whether anyone is listening (a window or a browser); no work is done for nobody. */
  watching(): boolean;
  emit(list: RunMonitor[]): void;
  emitSettings(settings: MonitorSettings): void;
  intervalMs?: number;
}

const SPARK_BUCKETS = 40;
/** Sample caches kept for runs not live (a finished run's chart is read again when opened). */
const MAX_IDLE_CACHES = 6;

interface RunCache {
  gpu: RecordTail;
  events: RecordTail;
  samples: GpuCsvSample[];
  problems: Array<{ line: number; message: string }>;
  eventCount: number;
  lastEventAt: number | null;
  warnings: Array<{ t: number; secondsLeft: number }>;
  sampling: { available: boolean; error: string | null } | null;
  usedAt: number;
  /** A finished run's facts do not change: computed once. */
  settled: RunMonitor | null;
  lock: Promise<unknown>;
}

function recordObject(line: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(line) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** run.json's `supervisor.gpuIndices` (the schema passes it through unchecked); empty means every GPU. */
function gpuIndicesOf(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((v): v is number => Number.isInteger(v)) : [];
}

export class MonitorService {
  private readonly runsDir: string;
  private readonly settingsFile: string;
  private readonly caches = new Map<string, RunCache>();
  private readonly loop = new TickLoop();
  private lastEmitted = '';
  private settingsQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: MonitorServiceOptions) {
    this.runsDir = path.join(options.home, 'runs');
    this.settingsFile = path.join(options.home, 'monitor.json');
  }

  // --- settings ----------------------------------------------------------------------------------------------

  async settings(): Promise<MonitorSettings> {
    return readSettingsFile(
      this.settingsFile,
      monitorSettingsSchema.partial(),
      DEFAULT_MONITOR_SETTINGS,
      'monitor settings',
    );
  }

  /** Serialised, as two windows may change them at once. */
  setSettings(patch: Partial<MonitorSettings>): Promise<MonitorSettings> {
    const next = this.settingsQueue.then(async () => {
      const merged = monitorSettingsSchema.parse({ ...(await this.settings()), ...patch });
      await writeJsonFileAtomic(this.settingsFile, merged);
      for (const cache of this.caches.values()) cache.settled = null;
      this.options.emitSettings(merged);
      return merged;
    });
    this.settingsQueue = next.catch(() => undefined);
    return next;
  }

  // --- reading the mirror ------------------------------------------------------------------------------------

  private cacheFor(mirror: RunMirror): RunCache {
    let cache = this.caches.get(mirror.id);
    if (!cache) {
      cache = {
        gpu: new RecordTail(mirror.file('gpu.csv')),
        events: new RecordTail(mirror.file('events.jsonl')),
        samples: [],
        problems: [],
        eventCount: 0,
        lastEventAt: null,
        warnings: [],
        sampling: null,
        usedAt: Date.now(),
        settled: null,
        lock: Promise.resolve(),
      };
      this.caches.set(mirror.id, cache);
    }
    cache.usedAt = Date.now();
    return cache;
  }

  /** Catches the cache up with the mirror's files; one catch-up at a time per run (the ticker and a chart). */
  private refresh(cache: RunCache): Promise<boolean> {
    const next = cache.lock.then(() => this.refreshNow(cache));
    cache.lock = next.catch(() => undefined);
    return next;
  }

  private async refreshNow(cache: RunCache): Promise<boolean> {
    const gpu = await cache.gpu.readNew();
    if (gpu.reset) {
      cache.samples = [];
      cache.problems = [];
    }
    if (gpu.lines.length > 0) {
      const parsed = parseGpuCsv(`${gpu.lines.join('\n')}\n`);
      for (const s of parsed.samples) cache.samples.push(s);
      for (const p of parsed.problems) {
        if (cache.problems.length < 50) cache.problems.push({ line: gpu.firstLine + p.line - 1, message: p.message });
      }
    }
    const events = await cache.events.readNew();
    if (events.reset) {
      cache.eventCount = 0;
      cache.lastEventAt = null;
      cache.warnings = [];
      cache.sampling = null;
    }
    for (const line of events.lines) {
      if (line.trim() === '') continue;
      cache.eventCount += 1;
      const event = recordObject(line);
      if (!event) continue;
      const t = typeof event.t === 'number' && Number.isFinite(event.t) ? event.t : null;
      if (t !== null) cache.lastEventAt = Math.max(cache.lastEventAt ?? t, t);
      if (event.type === 'warning' && t !== null && typeof event.secondsLeft === 'number') {
        cache.warnings.push({ t, secondsLeft: event.secondsLeft });
      }
      if (event.type === 'gpu-sampling' && typeof event.available === 'boolean') {
        cache.sampling = {
          available: event.available,
          error: typeof event.error === 'string' ? event.error : null,
        };
      }
    }
    return gpu.lines.length > 0 || events.lines.length > 0 || gpu.reset || events.reset;
  }

  private async mirrorOf(id: string): Promise<RunMirror> {
    const mirror = new RunMirror(this.runsDir, id);
    if (!(await mirror.exists())) throw new AppError('NOT_FOUND', `No run ${id} in ${this.runsDir}.`);
    return mirror;
  }

  private monitorOf(
    id: string,
    cache: RunCache,
    state: RunState | null,
    offset: number | null,
    settings: MonitorSettings,
  ): RunMonitor {
    const samples = cache.samples;
    const latest = latestSamples(samples);
    const running = state !== null && state.status === 'running' && state.stoppedAt === null;
    const from = state?.startedAt ?? samples[0]?.t ?? 0;
    const to = state?.stoppedAt ?? latest?.t ?? from;
    const idle = running
      ? gpuIdleStatus({
          samples,
          budgetRunning: true,
          startedAt: state.startedAt,
          hostNow: hostNow(Date.now(), offset),
          settings,
        })
      : NOT_IDLE;
    return {
      id,
      hostClockOffsetMs: offset,
      eventCount: cache.eventCount,
      lastEventAt: cache.lastEventAt,
      warnings: [...cache.warnings],
      gpuSampling: cache.sampling
        ? cache.sampling.available
          ? 'available'
          : samples.length > 0 && !running
            ? 'available'
            : 'unavailable'
        : samples.length > 0
          ? 'available'
          : 'none',
      gpuSamplingError: cache.sampling && !cache.sampling.available ? cache.sampling.error : null,
      latest,
      spark: utilizationSparkline(samples, SPARK_BUCKETS, { from, to }),
      idle,
    };
  }

  private async overviewOne(mirror: RunMirror, settings: MonitorSettings): Promise<RunMonitor> {
    const cache = this.cacheFor(mirror);
    if (cache.settled) return cache.settled;
    await this.refresh(cache);
    const [state, sync] = await Promise.all([mirror.readState(), mirror.readSync().catch(() => undefined)]);
    const monitor = this.monitorOf(mirror.id, cache, state, sync?.hostClockOffsetMs ?? null, settings);
    if (sync?.complete && state && isFinalRunStatus(state.status)) {
      cache.settled = monitor;
      // The facts are kept; the samples are read again if the chart is opened.
      cache.samples = [];
      cache.gpu = new RecordTail(mirror.file('gpu.csv'));
    }
    return monitor;
  }

  /** Every run's at-a-glance facts. */
  async overview(): Promise<RunMonitor[]> {
    const settings = await this.settings().catch(() => DEFAULT_MONITOR_SETTINGS);
    const mirrors = await listMirrors(this.runsDir);
    const out: RunMonitor[] = [];
    for (const mirror of mirrors) {
      try {
        out.push(await this.overviewOne(mirror, settings));
      } catch {
        // An unreadable mirror is listed as such by runs.list; nothing to monitor in it.
      }
    }
    this.evict(new Set(mirrors.map((m) => m.id)));
    return out;
  }

  private evict(present: Set<string>): void {
    for (const id of this.caches.keys()) if (!present.has(id)) this.caches.delete(id);
    const heavy = [...this.caches].filter(([, c]) => c.settled === null || c.samples.length > 0);
    if (heavy.length <= MAX_IDLE_CACHES * 4) return;
    heavy.sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [id] of heavy.slice(0, heavy.length - MAX_IDLE_CACHES * 4)) this.caches.delete(id);
  }

  /** A run's GPU charts: the whole run in at most `maxPoints` per GPU, the last `tailSeconds` at 1 Hz. */
  async gpu(id: string, maxPoints: number, tailSeconds: number): Promise<RunGpuSeries> {
    const mirror = await this.mirrorOf(id);
    const settings = await this.settings().catch(() => DEFAULT_MONITOR_SETTINGS);
    const cache = this.cacheFor(mirror);
    if (cache.settled && cache.samples.length === 0) {
      cache.gpu = new RecordTail(mirror.file('gpu.csv'));
      cache.problems = [];
    }
    await this.refresh(cache);
    let monitor = cache.settled;
    if (!monitor) {
      const [state, sync] = await Promise.all([mirror.readState(), mirror.readSync().catch(() => undefined)]);
      monitor = this.monitorOf(id, cache, state, sync?.hostClockOffsetMs ?? null, settings);
    }
    const gpus = [...samplesByGpu(cache.samples)].map(([index, samples]) => ({
      index,
      whole: downsampleGpu(samples, maxPoints),
      tail: tailColumns(samples, tailSeconds * 1000),
    }));
    return { id, sampleCount: cache.samples.length, problems: [...cache.problems], gpus, monitor };
  }

  /** What the run's host says now about the processes holding its GPUs' memory. */
  async gpuProcesses(id: string): Promise<GpuProcesses> {
    const mirror = await this.mirrorOf(id);
    const sync = await mirror.readSync();
    const target = requireRunHost(id, sync);
    const runJson = await mirror.readRunJson();
    const session = await this.options.session(target.host);
    const result = await session.exec(gpuProcessesScript(), { timeoutMs: 15_000 });
    return parseGpuProcessesOutput(result, {
      host: target.host,
      gpuIndices: gpuIndicesOf(runJson?.supervisor.gpuIndices),
      at: Date.now(),
    });
  }

  // --- pushing to windows -------------------------------------------------------------------------------------

  /** Recomputes the overview every `intervalMs` while anyone watches and sends it when it changed. */
  start(): void {
    this.loop.start(this.options.intervalMs ?? 1_000, async () => {
      try {
        if (this.options.watching()) {
          const list = await this.overview();
          const text = JSON.stringify(list);
          if (text !== this.lastEmitted) {
            this.lastEmitted = text;
            this.options.emit(list);
          }
        } else {
          // Whoever connects next gets the list by asking; the next change is sent in full.
          this.lastEmitted = '';
        }
      } catch {
        // A broken mirror shows up in the run list; the loop goes on.
      }
    });
  }

  async dispose(): Promise<void> {
    await this.loop.stop();
    this.caches.clear();
  }
}
