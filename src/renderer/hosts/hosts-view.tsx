import { ImportIcon, PlusIcon } from '../shell/icons';
import { EmptyState, ListError, LoadingState, RefreshButton, SectionLayout } from '../shell/section-layout';
import { useNow } from '../shell/use-now';
import { listView } from '../store/list-state';
import { selectedHost } from '../store/slices/hosts-slice';
import { useAppStore } from '../store/store-context';
import { AddHostFormView } from './add-host-form-view';
import { HostDetail } from './host-detail';
import { HostList } from './host-list';
import { connectionTextTicks } from '../common/host-state-text';
import { SshImportView } from './ssh-import-view';

export function HostsView() {
  const hosts = useAppStore((s) => s.hosts);
  const view = listView(hosts);
  const current = selectedHost(hosts);
  // A countdown ("next in 4 s") needs the clock every second; "5 min ago" is fine every 15 s.
  const now = useNow(hosts.items.some((h) => connectionTextTicks(h.state)) ? 1_000 : 15_000);
  const close = () => hosts.showPane('detail');

  const pane =
    hosts.pane === 'add' ? (
      <AddHostFormView onCancel={close} />
    ) : hosts.pane === 'import' ? (
      <SshImportView onCancel={close} />
    ) : current ? (
      <HostDetail key={current.name} host={current} now={now} />
    ) : null;

  return (
    <SectionLayout
      section="hosts"
      title="Hosts"
      actions={
        <>
          <RefreshButton testId="refresh-hosts" busy={hosts.loading} onClick={() => void hosts.load()} />
          <PaneButton
            pane="import"
            testId="import-hosts-button"
            pressed={hosts.pane === 'import'}
            onOpen={hosts.showPane}
          />
          <PaneButton pane="add" testId="add-host-button" pressed={hosts.pane === 'add'} onOpen={hosts.showPane} />
        </>
      }
    >
      {hosts.error ? (
        <ListError testId="error-hosts" what="hosts" error={hosts.error} onRetry={() => void hosts.load()} />
      ) : null}
      {view === 'loading' ? <LoadingState testId="loading-hosts" text="Loading hosts…" /> : null}
      {view === 'empty' && hosts.pane === 'detail' ? (
        <EmptyState testId="empty-hosts" title="No GPU hosts yet.">
          <p>
            Add one with <strong>Add host</strong> (an SSH address, or this machine’s own Docker), or pick entries from
            your <code>~/.ssh/config</code> with <strong>Import</strong>. Then run preflight to check it is ready.
          </p>
          <div className="empty-actions">
            <PaneButton pane="add" testId="empty-add-host" onOpen={hosts.showPane} />
            <PaneButton pane="import" testId="empty-import-hosts" onOpen={hosts.showPane} />
          </div>
          <p className="muted">
            From a terminal: <code>ptw host add NAME --ssh user@host</code>.
          </p>
        </EmptyState>
      ) : null}
      {view === 'empty' && hosts.pane !== 'detail' ? <div className="hosts-single">{pane}</div> : null}
      {view === 'items' ? (
        // `hosts-table` is the id the app-shell e2e test has known the host list by since it was a table.
        <div className="hosts-layout" data-testid="hosts-table">
          <HostList
            hosts={hosts.items}
            selected={hosts.pane === 'detail' ? (current?.name ?? null) : null}
            now={now}
            onSelect={hosts.select}
          />
          <div className="hosts-pane">{pane}</div>
        </div>
      ) : null}
    </SectionLayout>
  );
}

const paneButtons = {
  add: { Icon: PlusIcon, text: 'Add host', className: 'button button-primary button-with-icon' },
  import: { Icon: ImportIcon, text: 'Import from ~/.ssh/config', className: 'button button-with-icon' },
};

/** Opens the Add host form or the ~/.ssh/config import; in the header it also shows whether that pane is open. */
function PaneButton({
  pane,
  testId,
  pressed,
  onOpen,
}: {
  pane: keyof typeof paneButtons;
  testId: string;
  pressed?: boolean;
  onOpen: (pane: keyof typeof paneButtons) => void;
}) {
  const { Icon, text, className } = paneButtons[pane];
  return (
    <button
      type="button"
      className={className}
      data-testid={testId}
      aria-pressed={pressed}
      onClick={() => onOpen(pane)}
    >
      <Icon />
      {text}
    </button>
  );
}
