import { wsCloseCodes } from '../../shared/rpc/wire';

/** Facts about the renderer's link to the node side. Electron IPC is always `open`. */
export type ConnectionState =
  | { readonly status: 'connecting'; readonly reconnecting: boolean }
  | { readonly status: 'open' }
  /** The server refused the token (close code 4401): reconnecting with the same token cannot help. */
  | { readonly status: 'unauthorized' }
  /** The socket closed before it ever opened: nothing is listening, or the handshake was refused. */
  | { readonly status: 'unreachable'; readonly code: number }
  /** The socket was open and then closed. */
  | { readonly status: 'lost'; readonly code: number; readonly reason: string };

export function connectionStateAfterClose(code: number, reason: string, wasOpen: boolean): ConnectionState {
  if (code === wsCloseCodes.unauthorized) return { status: 'unauthorized' };
  if (!wasOpen) return { status: 'unreachable', code };
  return { status: 'lost', code, reason };
}

export interface ConnectionProblem {
  readonly title: string;
  /** Plain text; spans in `backticks` are shown as code. */
  readonly message: string;
  readonly canReconnect: boolean;
  readonly busy: boolean;
}

const openServeUrl = 'Open the URL that `ptw serve` printed, with its `#token=…` part.';

/** The full-page message for a connection state, or null when the app can be used. */
export function describeConnection(state: ConnectionState, address: string): ConnectionProblem | null {
  switch (state.status) {
    case 'open':
      return null;
    case 'connecting':
      return state.reconnecting
        ? {
            title: 'Reconnecting…',
            message: `Connecting to \`ptw serve\` at ${address}.`,
            canReconnect: false,
            busy: true,
          }
        : null;
    case 'unauthorized':
      return {
        title: 'Access token not accepted',
        message: `The server at ${address} refused this page's token; it may have been restarted with a new one. ${openServeUrl}`,
        canReconnect: false,
        busy: false,
      };
    case 'unreachable':
      // A refused handshake (HTTP 401 before the upgrade) looks the same to the page as a dead server.
      return {
        title: 'Cannot reach ptw serve',
        message: `Could not connect to ${address} (code ${state.code}). Check that \`ptw serve\` is still running, then reconnect. If it was restarted, open the new URL it printed instead.`,
        canReconnect: true,
        busy: false,
      };
    case 'lost': {
      const why = state.reason ? `code ${state.code}: ${state.reason}` : `code ${state.code}`;
      return {
        title: 'Connection lost',
        message: `The connection to \`ptw serve\` at ${address} closed (${why}). Check that it is still running, then reconnect.`,
        canReconnect: true,
        busy: false,
      };
    }
  }
}

export const missingTokenProblem: ConnectionProblem = {
  title: 'This page needs its access token',
  message: `${openServeUrl} The token keeps other programs on this machine from using your hosts; this tab remembers it until it is closed.`,
  canReconnect: false,
  busy: false,
};
