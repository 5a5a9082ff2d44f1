import { useAppStore } from '../store/store-context';
import { listView } from '../store/list-state';
import { EmptyState, ListError, LoadingState, RefreshButton, SectionLayout } from '../shell/section-layout';
import { hostKindLabel, sortHostsByName } from './host-order';

export function HostsView() {
  const hosts = useAppStore((s) => s.hosts);
  const view = listView(hosts);
  return (
    <SectionLayout
      section="hosts"
      title="Hosts"
      actions={<RefreshButton testId="refresh-hosts" busy={hosts.loading} onClick={() => void hosts.load()} />}
    >
      {hosts.error ? (
        <ListError testId="error-hosts" what="hosts" error={hosts.error} onRetry={() => void hosts.load()} />
      ) : null}
      {view === 'loading' ? <LoadingState testId="loading-hosts" text="Loading hosts…" /> : null}
      {view === 'empty' ? (
        <EmptyState testId="empty-hosts" title="No GPU hosts yet.">
          <p>
            Add one with <code>ptw host add NAME --ssh user@host</code> or import from <code>~/.ssh/config</code>.
          </p>
          <p className="muted">
            Adding and importing hosts from this window comes in a later version; for now, use the command line.
          </p>
        </EmptyState>
      ) : null}
      {view === 'items' ? (
        <div className="table-wrap">
          <table className="table" data-testid="hosts-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Address</th>
              </tr>
            </thead>
            <tbody>
              {sortHostsByName(hosts.items).map((host) => (
                <tr key={host.name}>
                  <td className="cell-strong">{host.name}</td>
                  <td>{hostKindLabel(host.kind)}</td>
                  <td className="cell-mono">{host.address}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </SectionLayout>
  );
}
