import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react';
import type { RunTabProps } from '../common/run-tabs';
import { isLiveStatus } from '../common/run-status-text';
import { useAppStore } from '../store/store-context';
import { useQuery } from '../store/use-query';
import { GpuChart } from './gpu-chart';
import { chartSeries, memoryCeilingMiB } from './gpu-chart-data';

const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** Points per GPU for the whole run: about one per pixel of a wide chart. */
const WHOLE_RUN_POINTS = 1_200;
const TAIL_SECONDS = 120;
/** Per-process memory is asked of the host at most this often while the tab is open on a live run. */
const PROCESSES_EVERY_MS = 10_000;

type Range = 'whole' | 'tail';

/** The time-range toggle's choices, in order. */
const ranges: [Range, string][] = [
  ['whole', 'Whole run'],
  ['tail', 'Last 2 min (1 Hz)'],
];

/**
 * The GPU tab: utilisation, memory, power and temperature of each of the run's GPUs, the whole run (downsampled,
 * peaks kept) or the last two minutes at 1 Hz, refreshed as samples arrive; the idle alert; and which processes
 * hold GPU memory on the host now.
 */
export function GpuTabView({ run }: RunTabProps) {
  const latestT = useAppStore((s) => s.monitor.runs.get(run.id)?.latest?.t ?? null);
  const monitor = useAppStore((s) => s.monitor.runs.get(run.id));
  const gpu = useQuery('monitor.gpu', { id: run.id, maxPoints: WHOLE_RUN_POINTS, tailSeconds: TAIL_SECONDS });
  const series = gpu.data ?? null;
  const error = gpu.error;
  const [range, setRange] = useState<Range>('whole');
  const inFlight = useRef(false);
  const again = useRef(false);
  const seenT = useRef(latestT);
  const reload = gpu.reload;
  const live = isLiveStatus(run.status);

  // A new sample (latest time) is the signal to fetch again; one request at a time, the last signal not lost.
  useEffect(() => {
    if (seenT.current === latestT) return;
    seenT.current = latestT;
    const load = async (): Promise<void> => {
      if (inFlight.current) {
        again.current = true;
        return;
      }
      inFlight.current = true;
      await reload();
      inFlight.current = false;
      if (again.current) {
        again.current = false;
        void load();
      }
    };
    void load();
  }, [reload, latestT]);

  const gpus = useMemo(() => series?.gpus ?? [], [series]);
  const charts = useMemo(() => {
    const ceiling = memoryCeilingMiB(gpus);
    return {
      util: chartSeries(gpus, 'utilizationPct', range),
      memory: chartSeries(gpus, 'memoryUsedMiB', range, (v) => v / 1024),
      memoryMax: ceiling === null ? undefined : ceiling / 1024,
      power: chartSeries(gpus, 'powerW', range),
      temp: chartSeries(gpus, 'temperatureC', range),
    };
  }, [gpus, range]);

  const sampling = monitor?.gpuSampling ?? 'none';
  return (
    <div className="gpu-tab" data-testid="gpu-tab">
      {error ? (
        <div className="inline-error" role="alert" data-testid="gpu-error">
          <span>
            <strong>Could not read the GPU samples.</strong> {error.message}
          </span>
        </div>
      ) : null}
      <div className="gpu-tab-head">
        <p className="muted gpu-tab-summary" data-testid="gpu-sample-count">
          {series === null
            ? 'Reading the GPU samples…'
            : series.sampleCount === 0
              ? sampling === 'unavailable'
                ? `No GPU samples: nvidia-smi on the host did not answer${monitor?.gpuSamplingError ? ` (${monitor.gpuSamplingError})` : ''}.`
                : 'No GPU samples recorded for this run (the host has no nvidia-smi, or the agent has not started).'
              : `${series.sampleCount} samples from ${gpus.length} ${gpus.length === 1 ? 'GPU' : 'GPUs'}, once a second${
                  monitor?.latest ? `; latest ${timeFormat.format(monitor.latest.t)}` : ''
                }.`}
        </p>
        <div className="gpu-range" role="group" aria-label="Time range">
          {ranges.map(([value, text]) => (
            <button
              key={value}
              type="button"
              className={`gpu-range-option${range === value ? ' gpu-range-selected' : ''}`}
              aria-pressed={range === value}
              data-testid={`gpu-window-${value}`}
              onClick={() => setRange(value)}
            >
              {text}
            </button>
          ))}
        </div>
      </div>
      {gpus.length > 0 ? (
        <div className="gpu-charts">
          <GpuChart metric="utilization" title="Utilisation" unit="%" data={charts.util} yMax={100} />
          <GpuChart
            metric="memory"
            title="Memory used"
            unit="GiB"
            data={charts.memory}
            {...(charts.memoryMax === undefined ? {} : { yMax: charts.memoryMax })}
          />
          <GpuChart metric="power" title="Power" unit="W" data={charts.power} />
          <GpuChart metric="temperature" title="Temperature" unit="°C" data={charts.temp} />
        </div>
      ) : null}
      {series && series.problems.length > 0 ? (
        <p className="muted" data-testid="gpu-problems">
          {series.problems.length} {series.problems.length === 1 ? 'line' : 'lines'} of gpu.csv could not be read
          (first: line {series.problems[0]!.line}, {series.problems[0]!.message}).
        </p>
      ) : null}
      <GpuProcessesView runId={run.id} live={live} />
      <IdleSettingsForm />
    </div>
  );
}

function GpuProcessesView({ runId, live }: { runId: string; live: boolean }) {
  const processes = useQuery('monitor.gpuProcesses', { id: runId });
  const answer = processes.data ?? null;
  const error = processes.error;
  const busy = processes.loading;
  const reload = processes.reload;

  // The next question after this answer, so a slow host never has two in flight.
  useEffect(() => {
    if (!live || busy) return;
    const timer = setTimeout(() => void reload(), PROCESSES_EVERY_MS);
    return () => clearTimeout(timer);
  }, [live, busy, reload]);

  return (
    <section className="run-section" aria-labelledby="gpu-processes-heading">
      <div className="gpu-section-head">
        <h3 id="gpu-processes-heading" className="subsection-title">
          GPU memory by process, now
        </h3>
        <button
          type="button"
          className="button button-quiet"
          data-testid="gpu-processes-refresh"
          disabled={busy}
          onClick={() => void reload()}
        >
          {busy ? 'Asking the host…' : 'Refresh'}
        </button>
      </div>
      {error ? (
        <p className="muted" data-testid="gpu-processes-error">
          Could not ask the host: {error.message}
        </p>
      ) : answer === null ? (
        <p className="muted">Asking the host…</p>
      ) : !answer.available ? (
        <p className="muted" data-testid="gpu-processes-unavailable">
          Not available: {answer.reason}
        </p>
      ) : answer.processes.length === 0 ? (
        <p className="muted" data-testid="gpu-processes-none">
          No process holds memory on the run’s GPUs ({timeFormat.format(answer.at)}).
        </p>
      ) : (
        <table className="gpu-processes" data-testid="gpu-processes">
          <thead>
            <tr>
              <th scope="col">GPU</th>
              <th scope="col">PID</th>
              <th scope="col">Process</th>
              <th scope="col" className="gpu-cell-number">
                Memory
              </th>
            </tr>
          </thead>
          <tbody>
            {answer.processes.map((p) => (
              <tr key={`${p.gpuUuid}-${p.pid}`}>
                <td>{p.gpuIndex ?? p.gpuUuid}</td>
                <td className="cell-mono">{p.pid}</td>
                <td className="cell-mono">{p.name}</td>
                <td className="gpu-cell-number">{p.usedMemoryMiB === null ? '–' : `${p.usedMemoryMiB} MiB`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function IdleSettingsForm() {
  const settings = useAppStore((s) => s.monitor.settings);
  const save = useAppStore((s) => s.monitor.setSettings);
  const id = useId();
  const [minutes, setMinutes] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!settings) return null;
  const text = minutes ?? String(settings.idleMinutes);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = Number(text);
    if (!Number.isFinite(value) || value < 1 || value > 1440) {
      setError('Between 1 and 1440 minutes.');
      return;
    }
    const problem = await save({ idleMinutes: value });
    setError(problem ? problem.message : null);
    if (!problem) setMinutes(null);
  };
  return (
    <form className="gpu-idle-settings" aria-label="GPU idle alert" noValidate onSubmit={submit}>
      <label htmlFor={id}>Alert when the GPUs are idle (under {settings.idleThresholdPct} %) for</label>
      <input
        id={id}
        className="input input-mono gpu-idle-minutes"
        data-testid="gpu-idle-minutes"
        inputMode="numeric"
        value={text}
        onChange={(e) => setMinutes(e.target.value)}
      />
      <span>minutes while the budget runs.</span>
      <button type="submit" className="button" data-testid="gpu-idle-save" disabled={minutes === null}>
        Save
      </button>
      {error ? (
        <span className="field-error" role="alert">
          {error}
        </span>
      ) : null}
    </form>
  );
}
