import { useAppStore } from '../store/store-context';
import { connectionIndicator, connectionStatusText, shellLabel, versionLabel } from './connection-label';

export function ConnectionFooter() {
  const shell = useAppStore((s) => s.app.shell);
  const info = useAppStore((s) => s.app.info);
  const connection = useAppStore((s) => s.app.connection);
  const indicator = connectionIndicator(connection);
  return (
    <div className="connection-footer" data-testid="connection-footer" data-connection={indicator}>
      <span
        className={`status-dot status-${indicator}`}
        role="img"
        aria-label={connectionStatusText(connection)}
        title={connectionStatusText(connection)}
      />
      <span className="connection-label" data-testid="connection-label">
        {shellLabel(shell)}
      </span>
      <span className="app-version" data-testid="app-version">
        {versionLabel(info)}
      </span>
    </div>
  );
}
