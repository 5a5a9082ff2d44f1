import { useMemo, useState } from 'react';
import type { CheckpointDiff } from '../../shared/contract-checkpoints';
import type { RunComparison, CompareSide } from '../../shared/contract-leaderboard';
import type { DatasetList, DatasetOverlap } from '../../shared/contract-datasets';
import type { RunTimelineData } from '../../shared/contract-trajectory';
import { formatByteSize } from '../../shared/runs/duration';
import { LoadingState } from '../shell/section-layout';
import { useAppStore } from '../store/store-context';
import { useQuery } from '../store/use-query';
import { alignedGpu, datasetOverlap, stepsByHour, timeAgainstBudget } from './leaderboard-model';
import { XyChart } from './xy-chart';
import './leaderboard.css';
import { TableHead } from '../shell/table-head';

type Loaded = { comparison: RunComparison; timelines: [RunTimelineData | null, RunTimelineData | null] };

const num = (x: number | null, digits = 1): string => (x === null ? '—' : x.toFixed(digits));

function rowsOf(s: CompareSide): Array<[string, string]> {
  return [
    ['Cell', `${s.benchmark} × ${s.baseModel}`],
    ['Agent', [s.agent, s.model].filter(Boolean).join(' · ')],
    ['Status', s.status + (s.imported ? ' (imported)' : '')],
    ['Score', s.score === null ? `— ${s.resultNote ?? ''}` : s.score.toFixed(2)],
    ['Time used', timeAgainstBudget(s)],
    ['GPU hours', s.gpuHours === null ? '—' : `${s.gpuHours.toFixed(2)} (${s.gpuCount} GPU)`],
    [
      'GPU utilisation',
      s.gpu.meanUtilization === null ? '— (no samples)' : `${s.gpu.meanUtilization.toFixed(0)}% mean`,
    ],
    ['Steps', `${s.steps.total} (${s.steps.toolCalls} tool calls)`],
    ['Tokens', `${s.steps.inputTokens.toLocaleString()} in · ${s.steps.outputTokens.toLocaleString()} out`],
    ['API cost', s.steps.costUsd === null ? '— (the trace does not say)' : `$${s.steps.costUsd.toFixed(2)}`],
    [
      'Verdict',
      `${s.verdict.state} (${s.verdict.source === 'none' ? 'no verdict' : s.verdict.source})${s.verdict.reasons.length > 0 ? `: ${s.verdict.reasons.join('; ')}` : ''}`,
    ],
    [
      'Final model',
      s.finalModel
        ? s.finalModel.exists
          ? `${s.finalModel.files} files, ${formatByteSize(s.finalModel.totalBytes)}`
          : 'none'
        : '—',
    ],
  ];
}

/** Two runs side by side (from the Runs list): `runs.compare` and each run's timeline. */
export function RunCompareView({ a, b, onClose }: { a: string; b: string; onClose: () => void }) {
  const comparison = useQuery('runs.compare', { a, b });
  const timelineA = useQuery('trajectory.timeline', { id: a });
  const timelineB = useQuery('trajectory.timeline', { id: b });
  const error = comparison.error;
  // Shown once all three have answered; a timeline that could not be read is shown as none.
  const loaded: Loaded | null =
    comparison.data && !timelineA.loading && !timelineB.loading
      ? { comparison: comparison.data, timelines: [timelineA.data ?? null, timelineB.data ?? null] }
      : null;

  return (
    <section className="run-compare" data-testid="run-compare">
      <div className="section-header">
        <h2 className="subsection-title">Compare runs</h2>
        <button type="button" className="button" data-testid="run-compare-close" onClick={onClose}>
          Close
        </button>
      </div>
      {error ? (
        <p className="inline-error" role="alert" data-testid="run-compare-error">
          {error.message}
        </p>
      ) : null}
      {!loaded && !error ? <LoadingState testId="run-compare-loading" text="Reading both runs…" /> : null}
      {loaded ? <ComparisonBody loaded={loaded} /> : null}
    </section>
  );
}

function ComparisonBody({ loaded }: { loaded: Loaded }) {
  const { comparison: c, timelines } = loaded;
  const left = rowsOf(c.a);
  const right = rowsOf(c.b);
  const gpu = useMemo(
    () =>
      alignedGpu(
        { start: timelines[0]?.start ?? c.a.startedAt, gpu: timelines[0]?.gpu ?? [] },
        { start: timelines[1]?.start ?? c.b.startedAt, gpu: timelines[1]?.gpu ?? [] },
      ),
    [timelines, c],
  );
  const gpuSeries = useMemo(
    () => [
      { label: `A ${c.a.id}`, values: gpu.a },
      { label: `B ${c.b.id}`, values: gpu.b },
    ],
    [gpu, c],
  );
  const hours = Math.max(1, (c.a.usedSeconds ?? 0) / 3600, (c.b.usedSeconds ?? 0) / 3600);
  const steps = [0, 1].map((i) =>
    stepsByHour({ start: timelines[i]?.start ?? null, steps: timelines[i]?.steps ?? [] }, Math.min(hours, 48)),
  );
  const peak = Math.max(1, ...steps.flat());
  return (
    <>
      {c.notes.map((n) => (
        <p key={n} className="muted" data-testid="run-compare-note">
          {n}
        </p>
      ))}
      <table className="compare-grid" data-testid="run-compare-table">
        <thead>
          <tr>
            <th />
            <th>A: {c.a.label}</th>
            <th>B: {c.b.label}</th>
          </tr>
        </thead>
        <tbody>
          {left.map(([name, value], i) => (
            <tr key={name}>
              <th>{name}</th>
              <td>{value}</td>
              <td>{right[i]![1]}</td>
            </tr>
          ))}
        </tbody>
      </table>

      {c.metrics.length > 0 ? (
        <>
          <h3 className="subsection-title">Metrics</h3>
          <table className="compare-grid" data-testid="run-compare-metrics">
            <TableHead columns={['Metric', 'A', 'B', 'B − A']} />
            <tbody>
              {c.metrics.map((m) => (
                <tr key={m.name}>
                  <td>{m.name}</td>
                  <td>{num(m.a, 4)}</td>
                  <td>{num(m.b, 4)}</td>
                  <td>{num(m.delta, 4)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}

      <h3 className="subsection-title">GPU utilisation by elapsed time</h3>
      {gpu.x.length > 0 ? (
        <XyChart
          testId="run-compare-gpu"
          x={gpu.x}
          series={gpuSeries}
          xLabel="hours since start"
          yLabel="%"
          yMax={100}
        />
      ) : (
        <p className="muted">Neither run has GPU samples (imported folders keep none).</p>
      )}

      <h3 className="subsection-title">Steps per hour since start</h3>
      <div
        className="compare-steps"
        data-testid="run-compare-steps"
        style={{ gridTemplateColumns: `2em repeat(${steps[0]!.length}, 1fr)` }}
      >
        {steps.map((row, i) => (
          <StepRow key={i} name={i === 0 ? 'A' : 'B'} counts={row} peak={peak} />
        ))}
      </div>

      <h3 className="subsection-title">Final models</h3>
      {c.finalModels ? (
        <p data-testid="run-compare-final-models">
          {c.finalModels.identical
            ? 'Identical: every file has the same SHA-256.'
            : `${c.finalModels.same} file(s) the same, ${c.finalModels.differ} differ, ${c.finalModels.onlyA.length} only in A, ${c.finalModels.onlyB.length} only in B (by SHA-256; open a run’s Checkpoints tab to diff its weights against the base).`}
        </p>
      ) : (
        <p className="muted">Not compared file by file (a run has no final-model manifest).</p>
      )}

      <OnTheHosts a={c.a} b={c.b} />

      <h3 className="subsection-title">
        Prompts{c.a.prompt !== null && c.a.prompt === c.b.prompt ? ' (the same)' : ''}
      </h3>
      <div className="compare-prompts" data-testid="run-compare-prompts">
        {[c.a, c.b].map((s) => (
          <pre key={s.id}>{s.prompt ?? s.promptNote ?? '—'}</pre>
        ))}
      </div>
    </>
  );
}

function StepRow({ name, counts, peak }: { name: string; counts: number[]; peak: number }) {
  return (
    <>
      <span>{name}</span>
      {counts.map((n, h) => (
        <span key={h} title={`hour ${h + 1}: ${n} steps`}>
          <span
            className="compare-steps-bar"
            style={{ display: 'block', opacity: n === 0 ? 0.08 : 0.25 + (0.75 * n) / peak }}
          />
        </span>
      ))}
    </>
  );
}

type Fetched<T> = { ok: true; data: T } | { ok: false; message: string };

/** One row per run (A, then B): what `text` says of its answer, or why there is none. */
function SideRows<T>({ sides, text }: { sides: readonly Fetched<T>[]; text: (data: T) => string }) {
  return (
    <>
      {sides.map((side, i) => (
        <tr key={i}>
          <th>{i === 0 ? 'A' : 'B'}</th>
          <td>{side.ok ? text(side.data) : side.message}</td>
        </tr>
      ))}
    </>
  );
}

/**
 * What only the runs' hosts can say, on demand: the datasets each run built (the dataset inspector's listing) and
 * each final model diffed against its base model (the checkpoint diff, computed on the host). Imported runs have no
 * host to ask.
 */
function OnTheHosts({ a, b }: { a: CompareSide; b: CompareSide }) {
  const runCommand = useAppStore((s) => s.queries.run);
  const [datasets, setDatasets] = useState<[Fetched<DatasetList>, Fetched<DatasetList>] | null>(null);
  const [diffs, setDiffs] = useState<[Fetched<CheckpointDiff>, Fetched<CheckpointDiff>] | null>(null);
  const [busy, setBusy] = useState<'datasets' | 'diffs' | 'cross' | 'rows' | null>(null);
  const [cross, setCross] = useState<Fetched<CheckpointDiff> | null>(null);
  const [rows, setRows] = useState<Array<{ path: string; result: Fetched<DatasetOverlap> }> | null>(null);
  // Both on one host (and neither imported): the weights and rows can be compared there, where they are.
  const sameHost = a.host !== null && a.host === b.host && b.hostRunDir !== null;
  const both = async <T,>(one: (side: CompareSide) => Promise<Fetched<T>>): Promise<[Fetched<T>, Fetched<T>]> =>
    Promise.all([one(a), one(b)]);
  const hostless = (side: CompareSide) => ({ ok: false as const, message: `${side.id} was imported: it has no host` });

  const listDatasets = async () => {
    setBusy('datasets');
    setDatasets(
      await both(async (side) => {
        if (side.imported) return hostless(side);
        const r = await runCommand('datasets.list', { id: side.id });
        return r.ok ? r : { ok: false as const, message: r.error.message };
      }),
    );
    setBusy(null);
  };
  const diffAgainstBase = async () => {
    setBusy('diffs');
    setDiffs(
      await both(async (side) => {
        if (side.imported) return hostless(side);
        const r = await runCommand('checkpoints.diff', { id: side.id, a: 'base', b: 'workspace/final_model' });
        return r.ok ? r : { ok: false as const, message: r.error.message };
      }),
    );
    setBusy(null);
  };
  /** A's final model against B's, on their host (the checkpoint diff across two run folders). */
  const diffTheTwo = async () => {
    setBusy('cross');
    const r = await runCommand('checkpoints.diff', {
      id: a.id,
      a: 'workspace/final_model',
      b: 'workspace/final_model',
      bRun: b.id,
    });
    setCross(r.ok ? r : { ok: false, message: r.error.message });
    setBusy(null);
  };
  /** For each dataset file both workspaces have: A's rows sharing 13-grams with B's copy (the overlap check). */
  const overlapRows = async (paths: readonly string[]) => {
    setBusy('rows');
    const out: Array<{ path: string; result: Fetched<DatasetOverlap> }> = [];
    for (const file of paths) {
      const r = await runCommand('datasets.overlap', {
        id: a.id,
        path: file,
        benchmark: `${b.hostRunDir}/workspace/${file}`,
      });
      out.push({ path: file, result: r.ok ? r : { ok: false, message: r.error.message } });
    }
    setRows(out);
    setBusy(null);
  };
  const overlap =
    datasets && datasets[0].ok && datasets[1].ok
      ? datasetOverlap(datasets[0].data.datasets, datasets[1].data.datasets)
      : null;
  return (
    <section data-testid="run-compare-hosts">
      <h3 className="subsection-title">On the hosts</h3>
      <p>
        <button type="button" className="button" disabled={busy !== null} onClick={() => void listDatasets()}>
          {busy === 'datasets' ? 'Listing…' : 'List the datasets each run built'}
        </button>{' '}
        <button type="button" className="button" disabled={busy !== null} onClick={() => void diffAgainstBase()}>
          {busy === 'diffs' ? 'Diffing…' : 'Diff each final model against its base'}
        </button>{' '}
        <button
          type="button"
          className="button"
          data-testid="run-compare-diff-two"
          disabled={busy !== null || !sameHost}
          title={sameHost ? undefined : 'Both runs must be on one host (and not imported) to diff their weights there'}
          onClick={() => void diffTheTwo()}
        >
          {busy === 'cross' ? 'Diffing…' : 'Diff the two final models'}
        </button>
        {overlap && overlap.both.length > 0 && sameHost ? (
          <>
            {' '}
            <button
              type="button"
              className="button"
              data-testid="run-compare-row-overlap"
              disabled={busy !== null}
              onClick={() => void overlapRows(overlap.both.map((e) => e.path))}
            >
              {busy === 'rows' ? 'Comparing rows…' : 'Rows the shared datasets have in common'}
            </button>
          </>
        ) : null}
      </p>
      {cross ? (
        <p data-testid="run-compare-cross-diff">
          {cross.ok
            ? `A’s final model against B’s: ${Math.round(cross.data.totals.changedParamFraction * 1000) / 10}% of parameters differ (${cross.data.totals.changed} of ${cross.data.totals.tensors} tensors changed, ${cross.data.totals.same} identical)${cross.data.flags.length > 0 ? `; ${cross.data.flags.map((f) => f.detail).join('; ')}` : ''}`
            : cross.message}
        </p>
      ) : null}
      {rows ? (
        <ul data-testid="run-compare-row-overlaps">
          {rows.map(({ path: file, result }) => (
            <li key={file}>
              <span className="cell-mono">{file}</span>:{' '}
              {result.ok
                ? `${result.data.rowsWithOverlap} of A’s ${result.data.rowsScanned} rows share ${result.data.n}-grams with B’s copy (${result.data.testItemsMatched} of its ${result.data.testRows} rows)`
                : result.message}
            </li>
          ))}
        </ul>
      ) : null}
      {datasets ? (
        <table className="compare-grid" data-testid="run-compare-datasets">
          <tbody>
            <SideRows
              sides={datasets}
              text={(list) =>
                list.datasets.length === 0
                  ? 'no datasets in the workspace'
                  : list.datasets
                      .map(
                        (e) =>
                          `${e.path} (${formatByteSize(e.size)}${e.rows === null ? '' : `, ${e.rows.toLocaleString()} rows`})`,
                      )
                      .join(' · ')
              }
            />
            {overlap ? (
              <tr>
                <th>Both</th>
                <td>
                  {overlap.both.length === 0
                    ? 'no file of the same path in both workspaces'
                    : overlap.both
                        .map(
                          (e) => `${e.path}${e.same ? ' (same size and rows)' : ` (${e.sizeA} vs ${e.sizeB} bytes)`}`,
                        )
                        .join(' · ')}
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      ) : null}
      {diffs ? (
        <table className="compare-grid" data-testid="run-compare-diffs">
          <tbody>
            <SideRows
              sides={diffs}
              text={(diff) =>
                `${Math.round(diff.totals.changedParamFraction * 1000) / 10}% of parameters changed from the base (${diff.totals.changed} of ${diff.totals.tensors} tensors)${diff.flags.length > 0 ? `; ${diff.flags.map((f) => f.detail).join('; ')}` : ''}`
              }
            />
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
