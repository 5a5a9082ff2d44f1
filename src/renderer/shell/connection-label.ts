import type { AppInfo } from '../../shared/contract';
import type { ConnectionState } from '../transport/connection-state';
import type { Shell } from '../store/slices/app-slice';

/** "Electron" or "serve · 127.0.0.1:PORT". */
export function shellLabel(shell: Shell): string {
  return shell.kind === 'electron' ? 'Electron' : `serve · ${shell.address}`;
}

export function versionLabel(info: AppInfo | null): string {
  return info ? `v${info.version}` : '';
}

export type ConnectionIndicator = 'online' | 'pending' | 'offline';

export function connectionIndicator(state: ConnectionState): ConnectionIndicator {
  if (state.status === 'open') return 'online';
  if (state.status === 'connecting') return 'pending';
  return 'offline';
}

export function connectionStatusText(state: ConnectionState): string {
  switch (connectionIndicator(state)) {
    case 'online':
      return 'Connected';
    case 'pending':
      return 'Connecting…';
    case 'offline':
      return 'Disconnected';
  }
}
