import { useAppStore } from '../store/store-context';
import { listView } from '../store/list-state';
import { EmptyState, ListError, LoadingState, RefreshButton, SectionLayout } from '../shell/section-layout';
import { formatTimestamp, sortRunsNewestFirst } from './run-order';

const timestampFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function RunsView() {
  const runs = useAppStore((s) => s.runs);
  const view = listView(runs);
  return (
    <SectionLayout
      section="runs"
      title="Runs"
      actions={<RefreshButton testId="refresh-runs" busy={runs.loading} onClick={() => void runs.load()} />}
    >
      {runs.error ? (
        <ListError testId="error-runs" what="runs" error={runs.error} onRetry={() => void runs.load()} />
      ) : null}
      {view === 'loading' ? <LoadingState testId="loading-runs" text="Loading runs…" /> : null}
      {view === 'empty' ? (
        <EmptyState testId="empty-runs" title="No runs yet.">
          <p>Add a host, then rehearse a short run on it to check the setup before launching a full one.</p>
          <p className="muted">Rehearsing and launching from this window come in a later version.</p>
        </EmptyState>
      ) : null}
      {view === 'items' ? (
        <div className="table-wrap">
          <table className="table" data-testid="runs-table">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Host</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {sortRunsNewestFirst(runs.items).map((run) => (
                <tr key={run.id}>
                  <td>
                    <span className="cell-strong">{run.label}</span>
                    <span className="cell-sub cell-mono">{run.id}</span>
                  </td>
                  <td>{run.host}</td>
                  <td>
                    <span className="badge">{run.status}</span>
                  </td>
                  <td className="cell-nowrap">
                    <time dateTime={run.createdAt}>{formatTimestamp(run.createdAt, timestampFormat)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </SectionLayout>
  );
}
