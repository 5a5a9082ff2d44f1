import { useEffect, useState } from 'react';
import type { DatasetEntry } from '../../shared/contract-datasets';
import { formatByteSize } from '../../shared/runs/duration';
import type { RunTabProps } from '../common/run-tabs';
import { useAppStore } from '../store/store-context';
import { useQuery } from '../store/use-query';
import { formatLabel, hostComputes, pageable, runBenchmark } from './dataset-view-model';
import { DatasetOverlapPanel } from './dataset-overlap-panel';
import { DatasetRowsPanel } from './dataset-rows-panel';
import { DatasetStatsPanel } from './dataset-stats-panel';
import './datasets-progress.css';

/**
 * The Datasets tab: datasets the agent wrote in its workspace, read where they live (the GPU host). A file list; a
 * virtualized table that fetches pages of rows as it scrolls; row detail with chat rendering; search, field stats,
 * the length histogram, duplicates and overlap with the benchmark's test set, all computed on the host. Every row
 * is untrusted and rendered as React text, never HTML.
 */
export function DatasetsTabView({ run, detail }: RunTabProps) {
  const listed = useQuery('datasets.list', { id: run.id });
  const list = listed.data ?? null;
  const error = listed.error;
  const [picked, setSelected] = useState<string | null>(null);
  // Evidence opened from the Integrity tab: this file, at the row that starts at the line (nav slice).
  const evidence = useAppStore((s) =>
    s.nav.evidence?.tab === 'datasets' && s.nav.evidence.runId === run.id ? s.nav.evidence : null,
  );
  const evidenceShown = useAppStore((s) => s.nav.evidenceShown);
  const [focus, setFocus] = useState<{ path: string; line: number | null; seq: number } | null>(null);
  if (evidence?.tab === 'datasets' && evidence.seq !== focus?.seq) {
    setSelected(evidence.path);
    setFocus({ path: evidence.path, line: evidence.line, seq: evidence.seq });
  }
  useEffect(() => {
    if (evidence) evidenceShown(evidence.seq);
  }, [evidence, evidenceShown]);
  // Until one is picked, the first dataset that has rows to page through.
  const selected = picked ?? list?.datasets.find(pageable)?.path ?? null;

  const entry = list?.datasets.find((d) => d.path === selected) ?? null;
  return (
    <div className="datasets-tab" data-testid="datasets-tab">
      <aside className="datasets-files" aria-label="Datasets in the workspace">
        <div className="datasets-files-head">
          <strong>Workspace datasets</strong>
          <button type="button" className="datasets-small-button" onClick={() => void listed.reload()}>
            Refresh
          </button>
        </div>
        {error ? (
          <p className="inline-error" role="alert" data-testid="datasets-error">
            {error.message}
          </p>
        ) : null}
        {!list && !error ? <p className="muted">Looking in the workspace on the host…</p> : null}
        {list && list.datasets.length === 0 ? (
          <p className="muted" data-testid="datasets-empty">
            No datasets (JSONL, JSON, CSV, Parquet, Hugging Face save_to_disk) in {list.workspace}.
          </p>
        ) : null}
        <ul className="datasets-file-list">
          {list?.datasets.map((d) => (
            <li key={d.path}>
              <button
                type="button"
                className={`datasets-file${d.path === selected ? ' datasets-file-selected' : ''}`}
                data-testid={`datasets-file-${d.path}`}
                onClick={() => setSelected(d.path)}
                title={d.path}
              >
                <span className="datasets-file-name">{d.path}</span>
                <span className="muted">
                  {formatLabel(d)} · {formatByteSize(d.size)}
                  {d.problems ? ` · ${d.problems} broken` : ''}
                </span>
              </button>
            </li>
          ))}
        </ul>
        {list?.truncated ? <p className="muted">The workspace is large: the listing stopped early.</p> : null}
      </aside>
      {entry ? (
        <DatasetView
          key={`${run.id}:${entry.path}:${focus?.path === entry.path ? focus.seq : 0}`}
          runId={run.id}
          entry={entry}
          benchmark={runBenchmark(detail?.spec)}
          focusLine={focus?.path === entry.path ? focus.line : null}
        />
      ) : list && focus && focus.path === selected ? (
        <div className="datasets-main" data-testid="datasets-focus-missing">
          {focus.path} is not among the datasets listed in the workspace (it may be gone, or not a dataset format).
        </div>
      ) : (
        <div className="datasets-main muted">Pick a dataset.</div>
      )}
    </div>
  );
}

type Panel = 'rows' | 'stats' | 'overlap';

function DatasetView({
  runId,
  entry,
  benchmark,
  focusLine,
}: {
  runId: string;
  entry: DatasetEntry;
  benchmark: string;
  /** Open at the row that starts at this line (integrity evidence). */
  focusLine: number | null;
}) {
  const [panel, setPanel] = useState<Panel>('rows');
  if (!pageable(entry)) {
    return (
      <div className="datasets-main" data-testid="datasets-hf">
        <h3 className="datasets-title">{entry.path}</h3>
        <p>
          A Hugging Face <code>save_to_disk</code> folder
          {entry.rows === null ? '' : ` with ${entry.rows.toLocaleString()} rows (from dataset_info.json)`}. Its Arrow
          files are listed here; their rows are not read.
        </p>
        {entry.columns ? <p>Columns: {entry.columns.join(', ')}</p> : null}
        <ul>
          {entry.arrowFiles?.map((f) => (
            <li key={f.name}>
              {f.name} · {formatByteSize(f.size)}
            </li>
          ))}
        </ul>
        {entry.problem ? <p className="inline-error">{entry.problem}</p> : null}
      </div>
    );
  }
  const computes = hostComputes(entry);
  return (
    <div className="datasets-main">
      <div className="datasets-toolbar">
        <h3 className="datasets-title">{entry.path}</h3>
        <div className="tab-bar" role="tablist" aria-label="Dataset views">
          {(['rows', 'stats', 'overlap'] as const).map((p) => (
            <button
              key={p}
              type="button"
              role="tab"
              aria-selected={panel === p}
              className={`tab${panel === p ? ' tab-selected' : ''}`}
              data-testid={`datasets-panel-${p}`}
              disabled={p !== 'rows' && !computes}
              title={p !== 'rows' && !computes ? 'Not available for this format' : undefined}
              onClick={() => setPanel(p)}
            >
              {p === 'rows' ? 'Rows' : p === 'stats' ? 'Stats & duplicates' : 'Test-set overlap'}
            </button>
          ))}
        </div>
      </div>
      {panel === 'rows' ? <DatasetRowsPanel runId={runId} entry={entry} focusLine={focusLine} /> : null}
      {panel === 'stats' ? <DatasetStatsPanel runId={runId} entry={entry} /> : null}
      {panel === 'overlap' ? <DatasetOverlapPanel runId={runId} entry={entry} benchmark={benchmark} /> : null}
    </div>
  );
}
