import type { HostSummary } from '../../shared/contract';
import { hostKindLabel, sortHostsByName } from '../common/host-order';
import { connectionStateText, connectionTone, jumpHops, lastCheckText } from '../common/host-state-text';

/** The hosts as a list of buttons; the selected one is marked `aria-current`. */
export function HostList({
  hosts,
  selected,
  now,
  onSelect,
}: {
  hosts: readonly HostSummary[];
  selected: string | null;
  now: number;
  onSelect: (name: string) => void;
}) {
  return (
    <ul className="stack-list host-list" aria-label="Hosts" data-testid="host-list">
      {sortHostsByName(hosts).map((host) => {
        const tone = connectionTone(host.state);
        const stateText = connectionStateText(host.state, now);
        const hops = jumpHops(host.jump);
        return (
          <li key={host.name}>
            <button
              type="button"
              className="host-row"
              data-testid={`host-row-${host.name}`}
              aria-current={host.name === selected ? 'true' : undefined}
              onClick={() => onSelect(host.name)}
            >
              <span className="host-row-head">
                <span className={`status-dot status-${tone}`} aria-hidden="true" />
                <span className="host-row-name">{host.name}</span>
                {host.kind === 'local' ? <span className="badge badge-small">{hostKindLabel(host.kind)}</span> : null}
              </span>
              <span className="host-row-address cell-mono">{host.address}</span>
              {hops.length > 0 ? <span className="host-row-jump">via {hops.join(' → ')}</span> : null}
              <span className="host-row-meta">
                <span
                  className={`host-row-state state-text-${tone}`}
                  data-testid={`host-state-${host.name}`}
                  data-status={host.state?.status ?? 'disconnected'}
                >
                  {stateText}
                </span>
                <span className="host-row-check" data-testid={`host-last-check-${host.name}`}>
                  {host.lastCheck ? (
                    <span className={`check-dot check-dot-${host.lastCheck.overall}`} aria-hidden="true" />
                  ) : null}
                  {lastCheckText(host.lastCheck, now)}
                </span>
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
