import { useEffect, useRef } from 'react';
import type { RunSummary } from '../../shared/contract';
import type { RunMonitor } from '../../shared/contract-monitor';
import { hostNow } from '../../shared/monitor/host-clock';
import { formatDuration } from '../../shared/runs/duration';
import { isLiveStatus } from '../common/run-status-text';
import { useAppStore } from '../store/store-context';
import { GpuSparkline } from '../common/gpu-sparkline';
import { RunPhasesView } from './run-phases-view';

const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

function fixed(value: number | null, digits = 0): string {
  return value === null ? '–' : value.toFixed(digits);
}

/** The idle alert: the run's GPUs have been quiet for longer than the preference while the budget runs. */
export function GpuIdleAlert({ monitor }: { monitor: RunMonitor }) {
  if (!monitor.idle.idle) return null;
  return (
    <div className="gpu-idle-alert" role="alert" data-testid="gpu-idle-alert">
      <strong>GPU idle for {formatDuration(Math.floor(monitor.idle.quietMs / 60_000) * 60)}</strong>
      <span>
        {' '}
        while the budget runs (since {monitor.idle.since === null ? '?' : timeFormat.format(monitor.idle.since)}). The
        agent may be stuck, waiting on a download, or working on the CPU.
      </span>
    </div>
  );
}

/**
 * The live strip at the top of a run's view: each GPU's latest sample, the utilisation sparkline, the idle
 * alert, the budget warnings the agent received, and the offer to notify. It also keeps the run's record (the
 * timeline) current: when the monitor counts new lifecycle events, the record is read again.
 */
export function RunMonitorPanel({ run, now }: { run: RunSummary; now: number }) {
  const monitor = useAppStore((s) => s.monitor.runs.get(run.id));
  const permission = useAppStore((s) => s.monitor.permission);
  const requestPermission = useAppStore((s) => s.monitor.requestPermission);
  const reloadDetail = useAppStore((s) => s.runs.reloadDetail);
  const detailShown = useAppStore((s) => s.runs.detail?.id === run.id && s.runs.detail.data !== null);
  const seenEvents = useRef<number | null>(null);
  const eventCount = monitor?.eventCount ?? null;

  useEffect(() => {
    if (eventCount === null) return;
    const seen = seenEvents.current;
    seenEvents.current = eventCount;
    // The first count is what the record already had when it was read; later ones are news.
    if (seen !== null && eventCount !== seen && detailShown) void reloadDetail(run.id);
  }, [eventCount, detailShown, reloadDetail, run.id]);

  if (!monitor) return <RunPhasesView run={run} />;
  const live = isLiveStatus(run.status);
  const latest = monitor.latest;
  const age = latest ? hostNow(now, monitor.hostClockOffsetMs) - latest.t : null;
  const stale = live && age !== null && age > 30_000;
  return (
    <section className="run-monitor" aria-label="GPUs and budget" data-testid="run-monitor">
      <RunPhasesView run={run} />
      <GpuIdleAlert monitor={monitor} />
      <div className="run-monitor-row">
        {latest ? (
          <ul className="gpu-tiles" aria-label="Latest GPU sample" data-testid="gpu-tiles">
            {latest.gpus.map((g) => (
              <li key={g.index} className="gpu-tile" data-testid={`gpu-tile-${g.index}`}>
                <span className="gpu-tile-name">GPU {g.index}</span>
                <span className="gpu-tile-util" data-testid={`gpu-tile-util-${g.index}`}>
                  {fixed(g.utilizationPct)} %
                </span>
                <span className="gpu-tile-facts muted">
                  {fixed(g.memoryUsedMiB === null ? null : g.memoryUsedMiB / 1024, 1)} /{' '}
                  {fixed(g.memoryTotalMiB === null ? null : g.memoryTotalMiB / 1024, 1)} GiB · {fixed(g.powerW)} W ·{' '}
                  {fixed(g.temperatureC)} °C
                </span>
              </li>
            ))}
            {live ? null : (
              <li className="gpu-tile-note muted" data-testid="gpu-last-sample">
                last sample {timeFormat.format(latest.t)}
              </li>
            )}
          </ul>
        ) : (
          <p className="muted run-monitor-none" data-testid="gpu-none">
            {monitor.gpuSampling === 'unavailable'
              ? `GPU sampling unavailable${monitor.gpuSamplingError ? `: ${monitor.gpuSamplingError}` : ''}.`
              : live
                ? 'No GPU samples yet.'
                : 'No GPU samples recorded.'}
          </p>
        )}
        {monitor.spark.length > 0 ? (
          <div className="run-monitor-spark">
            <span className="muted">GPU use, whole run</span>
            <GpuSparkline values={monitor.spark} width={180} height={36} testId="run-monitor-spark" />
          </div>
        ) : null}
      </div>
      {stale && latest ? (
        <p className="run-clock-note run-clock-note-warn" data-testid="gpu-stale">
          The latest GPU sample is from {timeFormat.format(latest.t)}: sampling or the sync has stalled.
        </p>
      ) : null}
      {monitor.warnings.length > 0 ? (
        <p className="run-monitor-warnings" data-testid="run-warnings">
          Budget warnings sent to the agent:{' '}
          {monitor.warnings.map((w, i) => (
            <span key={`${w.t}-${i}`} className="run-monitor-warning">
              {formatDuration(w.secondsLeft)} left ({timeFormat.format(w.t)})
            </span>
          ))}
        </p>
      ) : null}
      {live && permission === 'default' ? (
        <p className="run-monitor-notify">
          <button
            type="button"
            className="button button-quiet"
            data-testid="notifications-enable"
            onClick={() => void requestPermission()}
          >
            Notify me
          </button>
          <span className="muted"> when a run finishes, fails, is scored, or its GPUs go idle.</span>
        </p>
      ) : null}
    </section>
  );
}
