import type { DatasetEntry } from '../../shared/contract-datasets';
import { useQuery } from '../store/use-query';
import { LengthHistogram } from './length-histogram';
import { TableHead } from '../shell/table-head';

/** Field statistics and the length histogram of one dataset, computed on the host. */
export function DatasetStatsPanel({ runId, entry }: { runId: string; entry: DatasetEntry }) {
  const read = useQuery('datasets.stats', { id: runId, path: entry.path });
  const stats = read.data ?? null;
  const error = read.data ? null : read.error;
  if (error)
    return (
      <p className="inline-error" role="alert">
        {error.message}
      </p>
    );
  if (!stats) return <p className="muted">Computing on the host…</p>;
  return (
    <div className="datasets-stats" data-testid="datasets-stats">
      <p>
        {stats.rows.toLocaleString()} rows{stats.problemCount ? `, ${stats.problemCount} broken` : ''}
        {stats.chat.rows
          ? ` · ${stats.chat.rows.toLocaleString()} conversations (${Object.entries(stats.chat.roles)
              .map(([r, n]) => `${r} ${n}`)
              .join(', ')})`
          : ''}
        <span className="muted"> · {stats.elapsedMs} ms on the host</span>
      </p>
      <h4>Fields</h4>
      <table className="datasets-stats-table">
        <TableHead columns={['field', 'present', 'missing', 'types', 'length min / mean / max']} />
        <tbody>
          {stats.fields.map((f) => (
            <tr key={f.name}>
              <td>{f.name}</td>
              <td>{f.present}</td>
              <td>{f.missing}</td>
              <td>
                {Object.entries(f.types)
                  .map(([t, n]) => `${t} ${n}`)
                  .join(', ')}
              </td>
              <td>{f.lengths ? `${f.lengths.min} / ${f.lengths.mean.toFixed(1)} / ${f.lengths.max}` : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Text length per row ({stats.lengths.unit})</h4>
      <p className="muted">
        p50 {stats.lengths.p50 ?? '—'} · p90 {stats.lengths.p90 ?? '—'} · p99 {stats.lengths.p99 ?? '—'} · max{' '}
        {stats.lengths.max ?? '—'}
      </p>
      <LengthHistogram histogram={stats.lengths.histogram} />
      <h4>Exact duplicates</h4>
      <p data-testid="datasets-exact">
        {stats.exactDuplicates.duplicateRows} duplicate rows in {stats.exactDuplicates.groupCount} groups
      </p>
      <ul>
        {stats.exactDuplicates.groups.slice(0, 20).map((g) => (
          <li key={g[0]}>rows {g.join(', ')}</li>
        ))}
      </ul>
      <h4>Near duplicates</h4>
      <p className="muted">
        {stats.nearDuplicates.method}; similarity ≥ {stats.nearDuplicates.threshold};{' '}
        {stats.nearDuplicates.rowsConsidered.toLocaleString()} of {stats.nearDuplicates.rowsTotal.toLocaleString()} rows
        considered
      </p>
      <ul data-testid="datasets-near">
        {stats.nearDuplicates.groups.slice(0, 20).map((g) => (
          <li key={g.rows[0]}>
            rows {g.rows.join(', ')} (≈{Math.round(g.similarity * 100)}%)
          </li>
        ))}
      </ul>
    </div>
  );
}
