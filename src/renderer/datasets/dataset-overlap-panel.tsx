import { useState } from 'react';
import type { DatasetEntry, DatasetOverlap } from '../../shared/contract-datasets';
import type { AppErrorData } from '../../shared/errors';
import { useAppStore } from '../store/store-context';
import { OverlapHitView } from './dataset-row-detail';

/** Overlap of one dataset with a benchmark's test set (13-grams), computed on the host. */
export function DatasetOverlapPanel({
  runId,
  entry,
  benchmark,
}: {
  runId: string;
  entry: DatasetEntry;
  benchmark: string;
}) {
  const runCommand = useAppStore((s) => s.queries.run);
  const [name, setName] = useState(benchmark);
  const [n, setN] = useState(13);
  const [result, setResult] = useState<DatasetOverlap | null>(null);
  const [error, setError] = useState<AppErrorData | null>(null);
  const [busy, setBusy] = useState(false);
  const check = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    const r = await runCommand('datasets.overlap', { id: runId, path: entry.path, benchmark: name.trim(), n });
    setBusy(false);
    if (r.ok) setResult(r.data);
    else setError(r.error);
  };
  return (
    <div className="datasets-overlap" data-testid="datasets-overlap">
      <form
        className="datasets-search"
        onSubmit={(e) => {
          e.preventDefault();
          void check();
        }}
      >
        <label>
          Benchmark{' '}
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="gsm8k or /path/to/test.jsonl"
            data-testid="datasets-benchmark"
          />
        </label>
        <label>
          n-gram words{' '}
          <input type="number" min={3} max={50} value={n} onChange={(e) => setN(Number(e.target.value) || 13)} />
        </label>
        <button type="submit" disabled={busy || !name.trim()} data-testid="datasets-overlap-run">
          {busy ? 'Checking on the host…' : 'Check overlap'}
        </button>
      </form>
      {error ? (
        <p className="inline-error" role="alert">
          {error.message}
        </p>
      ) : null}
      {result ? (
        <>
          <p data-testid="datasets-overlap-summary">
            {result.rowsWithOverlap} of {result.rowsScanned} rows share {result.n}-grams with {result.testItemsMatched}{' '}
            of {result.testRows} test items ({result.testFiles.join(', ')}).
          </p>
          {result.hits.map((hit) => (
            <OverlapHitView key={hit.row} hit={hit} />
          ))}
          {result.truncated ? <p className="muted">Only the first {result.hits.length} rows are listed.</p> : null}
        </>
      ) : null}
    </div>
  );
}
